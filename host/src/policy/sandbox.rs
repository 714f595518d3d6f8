//! What a plugin call runs inside: a fresh store with deny-all WASI,
//! deterministic clocks and randomness, a memory limiter and a log buffer.
//!
//! A guest built for `wasm32-wasip2` imports WASI even if it never uses it.
//! The host satisfies those imports with a context that has no preopened
//! directories, no environment, no arguments, no network, a wall clock
//! frozen at the order's timestamp and seeded randomness, so that replaying
//! an order gives the same answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

use super::bindings::latest::{LogLevel, host};
use super::bindings::v0_1_0;
use super::limits::{Fault, Limits};
use crate::domain::TimestampMs;

/// One line a plugin logged during a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: String,
    pub message: String,
}

/// Store data of one plugin call.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryLimiter,
    stderr: MemoryOutputPipe,
    clock: Arc<AtomicI64>,
    logs: Vec<LogLine>,
    dropped_logs: usize,
    max_log_lines: usize,
    max_log_line_bytes: usize,
}

/// Bytes of a plugin's stderr kept (a panic message lands there).
const STDERR_CAPACITY: usize = 4096;

impl Sandbox {
    pub fn new(limits: &Limits) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let clock = Arc::new(AtomicI64::new(0));
        let mut wasi = WasiCtx::builder();
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .wall_clock(FrozenWallClock(clock.clone()))
            .monotonic_clock(FrozenMonotonicClock)
            .secure_random(rand::rngs::StdRng::seed_from_u64(0))
            .insecure_random(rand::rngs::StdRng::seed_from_u64(1))
            .insecure_random_seed(0)
            .max_random_size(4096)
            .stderr(stderr.clone());
        Sandbox {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits: MemoryLimiter {
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory_bytes)
                    .trap_on_grow_failure(true)
                    .build(),
                resident_bytes: 0,
                peak_bytes: 0,
                last_growth: 0,
            },
            stderr,
            clock,
            logs: Vec::new(),
            dropped_logs: 0,
            max_log_lines: limits.max_log_lines,
            max_log_line_bytes: limits.max_log_line_bytes,
        }
    }

    pub fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limits
    }

    /// The most linear memory the instance has held at once, in bytes,
    /// since its store was made (its initial memory included).
    pub fn memory_peak_bytes(&self) -> usize {
        self.limits.peak_bytes
    }

    /// What the plugin's wall clock reads during the next call: the order's
    /// own timestamp.
    pub fn set_clock(&mut self, now: TimestampMs) {
        self.clock.store(now, Ordering::Relaxed);
    }

    /// Whether the plugin wrote to stderr (a panic message, a stray print).
    /// The pipe cannot be emptied, so such an instance is not reused.
    pub fn wrote_stderr(&self) -> bool {
        !self.stderr.contents().is_empty()
    }

    /// The call's log lines, with the plugin's stderr (panic messages) last
    /// and a note of how many lines were dropped.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        let mut logs = std::mem::take(&mut self.logs);
        let dropped = std::mem::take(&mut self.dropped_logs);
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            let text = String::from_utf8_lossy(&stderr);
            logs.push(LogLine {
                level: "stderr".into(),
                message: truncate(text.trim_end(), self.max_log_line_bytes),
            });
        }
        if dropped > 0 {
            logs.push(LogLine {
                level: "warn".into(),
                message: format!(
                    "{dropped} more log lines dropped (limit {})",
                    self.max_log_lines
                ),
            });
        }
        logs
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// `types` has no functions; the trait is empty.
impl super::bindings::latest::types::Host for Sandbox {}

/// 0.1.0 plugins log through the same host functions.
impl v0_1_0::host::Host for Sandbox {
    fn log_lines(&mut self, lines: Vec<v0_1_0::host::LogLine>) {
        for line in lines {
            host::Host::log(self, line.level.into(), line.message);
        }
    }

    fn log(&mut self, level: v0_1_0::host::LogLevel, message: String) {
        host::Host::log(self, level.into(), message);
    }
}

impl host::Host for Sandbox {
    fn log_lines(&mut self, lines: Vec<host::LogLine>) {
        for line in lines {
            self.log(line.level, line.message);
        }
    }

    fn log(&mut self, level: LogLevel, message: String) {
        if self.logs.len() >= self.max_log_lines {
            self.dropped_logs += 1;
            return;
        }
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        let message = if message.len() <= self.max_log_line_bytes {
            message
        } else {
            truncate(&message, self.max_log_line_bytes)
        };
        self.logs.push(LogLine {
            level: level.into(),
            message,
        });
    }
}

/// The store's memory cap (wasmtime's [`StoreLimits`]), noting the most
/// linear memory granted so that `chanhost plugin run` can report a
/// high-water mark. The bookkeeping is a subtraction and a `max` per memory
/// growth, which is rare next to a call's instructions.
pub struct MemoryLimiter {
    limits: StoreLimits,
    /// Bytes of every linear memory of the store, summed.
    resident_bytes: usize,
    peak_bytes: usize,
    /// The last growth granted, taken back if the growth then failed.
    last_growth: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let granted = self.limits.memory_growing(current, desired, maximum)?;
        self.last_growth = if granted {
            desired.saturating_sub(current)
        } else {
            0
        };
        self.resident_bytes += self.last_growth;
        self.peak_bytes = self.peak_bytes.max(self.resident_bytes);
        Ok(granted)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.resident_bytes -= std::mem::take(&mut self.last_growth);
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Names the bound a failed call broke.
pub fn classify(error: &wasmtime::Error, limits: &Limits) -> Fault {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Fault::OutOfFuel { limit: limits.fuel },
        Some(Trap::Interrupt) => Fault::Deadline {
            limit_ms: limits.deadline_ms,
        },
        Some(Trap::StackOverflow) => Fault::Stack {
            limit_bytes: limits.stack_bytes,
        },
        _ if format!("{error:#}").contains("forcing trap when growing memory") => Fault::Memory {
            limit_bytes: limits.memory_bytes,
        },
        Some(trap) => Fault::Trap {
            message: trap.to_string(),
        },
        None => Fault::Trap {
            message: format!("{error:#}"),
        },
    }
}

/// The wall clock a plugin sees: the order's own timestamp, never now.
struct FrozenWallClock(Arc<AtomicI64>);

impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Relaxed).max(0) as u64)
    }
}

/// A monotonic clock that never moves.
struct FrozenMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}
