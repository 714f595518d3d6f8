//! The one wasmtime engine of the process: its configuration, the linker
//! every plugin is instantiated through, and the epoch ticker behind
//! wall-clock deadlines.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::ComponentCache;
use super::limits::Limits;
use super::sandbox::Sandbox;

/// How often the epoch advances; deadlines are rounded up to this.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Bytes of each pooled linear memory reset in place rather than unmapped.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;

/// Concurrent plugin instances the pooling allocator has slots for.
const POOL_INSTANCES: u32 = 1_000;

/// Engine, linker, limits and component cache, shared by every plugin.
#[derive(Clone)]
pub struct PolicyEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<Sandbox>,
    limits: Limits,
    cache: ComponentCache,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    pub fn new(limits: Limits, cache: ComponentCache) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(limits.stack_bytes)
            .cranelift_opt_level(wasmtime::OptLevel::Speed);

        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES * 4)
            .total_stacks(0)
            .max_memory_size(limits.memory_bytes)
            .max_core_instances_per_component(16)
            .max_memories_per_component(2)
            .max_tables_per_component(8)
            // Reset only the pages a call dirtied, with memset, instead of
            // unmapping them: no page faults and no TLB shootdowns on the
            // next call into the same slot (PAGEMAP_SCAN, Linux 6.7+).
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // Wasmtime's default 4 GiB reservation plus guard per memory is kept:
        // it is only address space, and it lets compiled code skip explicit
        // bounds checks on every load and store. The memory cap itself is the
        // store limiter's and the pool's `max_memory_size`.

        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        super::bindings::add_to_linker(&mut linker)?;
        spawn_epoch_ticker(&engine);
        Ok(PolicyEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                limits,
                cache,
            }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn linker(&self) -> &Linker<Sandbox> {
        &self.inner.linker
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn cache(&self) -> &ComponentCache {
        &self.inner.cache
    }

    /// Epoch ticks a call may run before it is interrupted.
    pub fn deadline_ticks(&self) -> u64 {
        ticks_for(self.inner.limits.deadline_ms)
    }

    /// Epoch ticks a load-time `describe` or `configure` may run.
    pub fn setup_deadline_ticks(&self) -> u64 {
        ticks_for(self.inner.limits.setup_deadline_ms)
    }
}

fn ticks_for(ms: u64) -> u64 {
    let tick = EPOCH_TICK.as_millis() as u64;
    ms.div_ceil(tick).max(1) + 1
}

/// Advances the engine's epoch until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    thread::Builder::new()
        .name("chanhost-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn epoch ticker thread");
}
