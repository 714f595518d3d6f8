//! A loaded plugin: a compiled, pre-instantiated component of one kind,
//! and the sandboxed calls into it.
//!
//! An instance is configured once (its slot's configuration), before its
//! first policy call, then kept warm in its slot's pool between calls, or
//! dropped after one call when `reuse_instances` is off.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre, types::ComponentItem};

pub use super::bindings::SUPPORTED_WIT_VERSIONS;
use super::bindings::latest::types as wit;
use super::bindings::{Exports, Pre};
use super::convert::{
    self, WireSize, wit_anti_diversion, wit_pricing, wit_promotion, wit_sourcing,
};
use super::engine::PolicyEngine;
use super::limits::{Fault, Limits};
use super::load_check;
pub use super::load_check::policy_function;
use super::sandbox::{LogLine, Sandbox, classify};
use super::types::*;
use crate::domain::TimestampMs;

pub(super) const WIT_PACKAGE: &str = "chanhost:policy";

/// Why a component cannot be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "component is {bytes} bytes, above the {limit} byte limit (HQ's limits.max_component_bytes)"
    )]
    TooLarge { bytes: usize, limit: usize },
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error(
        "exports no chanhost policy interface (it exports: {exports}); a plugin exports one of {WIT_PACKAGE}/{{anti-diversion,pricing,promotion,sourcing}}"
    )]
    NoPolicyExport { exports: String },
    #[error("implements {WIT_PACKAGE}/{interface}@{found}, but this host supports versions {}", SUPPORTED_WIT_VERSIONS.join(", "))]
    UnsupportedVersion { interface: String, found: String },
    #[error("exports several plugin kinds ({0}); a plugin implements exactly one")]
    SeveralKinds(String),
    #[error(
        "exports {interface} without its `{function}` function (it has: {has}); the interface needs {}",
        load_check::required_functions_text(interface)
    )]
    MissingExport {
        /// The exported interface, e.g. `chanhost:policy/pricing@0.2.0`.
        interface: String,
        /// The function it lacks, e.g. `price`.
        function: String,
        has: String,
    },
    #[error(
        "imports `{import}`, which this host does not offer; a plugin may import only {WIT_PACKAGE}/host (logging) and WASI (answered by a sandbox without files, network or environment)"
    )]
    ForbiddenImport { import: String },
    #[error("its exports do not match the {world} world: {message}")]
    WrongTypes { world: String, message: String },
    /// Wasmtime's own message, which names the import it could not satisfy
    /// (a WASI interface the host lacks, or one of another type).
    #[error(
        "cannot be linked: {0}; a plugin may import only {WIT_PACKAGE}/host and the WASI 0.2 interfaces of a command (cli, clocks, filesystem, io, random, sockets)"
    )]
    Link(String),
    #[error("its describe call failed: {0}")]
    Describe(Fault),
    #[error("exports the {exported} interface but describes itself as {described}")]
    KindMismatch {
        exported: PluginKind,
        described: PluginKind,
    },
}

/// Who a plugin is: what a trace records for each call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginIdentity {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    /// sha256 of the component bytes, hex.
    pub hash: String,
    pub wit_version: String,
}

/// The result of one sandboxed call, with what it cost.
#[derive(Debug)]
pub struct Call<T> {
    pub result: Result<T, Fault>,
    pub fuel_used: u64,
    pub duration: Duration,
    pub logs: Vec<LogLine>,
}

/// An instance kept between calls, with its store.
struct Warm {
    store: Store<Sandbox>,
    exports: Exports,
    calls: u64,
}

/// Instances of one slot (a plugin with one configuration) kept warm
/// between calls, so a call costs a call, not an instantiation and a
/// configuration parse.
///
/// Reuse is safe for the host (every call gets fresh fuel, deadline and
/// log buffer; memory stays capped; an instance that trapped or wrote to
/// stderr is dropped, and each is retired after [`InstancePool::MAX_CALLS`])
/// but a plugin could keep state between calls. The contract says it must
/// not, and `Limits::reuse_instances = false` gives every call a fresh
/// instance, which is what replays use to check decisions reproduce.
#[derive(Default)]
pub struct InstancePool {
    idle: Mutex<Vec<Warm>>,
}

impl std::fmt::Debug for InstancePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.idle.lock().map(|idle| idle.len()).unwrap_or(0);
        f.debug_struct("InstancePool").field("idle", &idle).finish()
    }
}

impl InstancePool {
    /// Calls after which an instance is retired, bounding whatever it
    /// accumulates.
    pub const MAX_CALLS: u64 = 10_000;
    /// Idle instances kept per slot; more are dropped when returned.
    const MAX_IDLE: usize = 16;

    fn take(&self) -> Option<Warm> {
        self.idle.lock().ok()?.pop()
    }

    fn give_back(&self, warm: Warm) {
        if warm.calls >= Self::MAX_CALLS {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < Self::MAX_IDLE
        {
            idle.push(warm);
        }
    }
}

/// Which wall-clock deadline a call runs under.
#[derive(Debug, Clone, Copy)]
enum Budget {
    /// A policy call deciding an order: `Limits::deadline_ms`.
    Call,
    /// `describe` or `configure` while loading or deploying:
    /// `Limits::setup_deadline_ms`.
    Setup,
}

/// A compiled plugin, ready to be instantiated for each call.
pub struct Plugin {
    identity: PluginIdentity,
    description: Description,
    size_bytes: usize,
    pre: Pre,
    /// The same component untyped, for calls made from JSON
    /// (`super::dynamic`).
    instance_pre: InstancePre<Sandbox>,
    engine: PolicyEngine,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// A new store with the sandbox's limits armed for a policy call.
pub(super) fn new_store(engine: &PolicyEngine) -> wasmtime::Result<Store<Sandbox>> {
    let limits = engine.limits();
    let mut store = Store::new(engine.engine(), Sandbox::new(limits));
    store.limiter(|sandbox| sandbox.limiter());
    store.set_fuel(limits.fuel)?;
    store.set_epoch_deadline(engine.deadline_ticks());
    Ok(store)
}

/// sha256 of a component, hex.
pub fn content_hash(wasm: &[u8]) -> String {
    hex::encode(Sha256::digest(wasm))
}

impl Plugin {
    /// Compiles (or fetches from the cache), checks the world it implements
    /// and its imports, and asks it to describe itself.
    pub fn load(engine: &PolicyEngine, wasm: &[u8]) -> Result<Plugin, LoadError> {
        let limit = engine.limits().max_component_bytes;
        if wasm.len() > limit {
            return Err(LoadError::TooLarge {
                bytes: wasm.len(),
                limit,
            });
        }
        let hash = content_hash(wasm);
        let component = engine
            .cache()
            .load(engine.engine(), &hash, wasm)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        let (kind, wit_version) = exported_kind(engine, &component)?;
        load_check::policy_functions(engine, &component, kind, &wit_version)?;
        load_check::imports(engine, &component)?;
        let instance_pre = engine
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = Pre::new(&wit_version, kind, instance_pre.clone()).map_err(|e| {
            LoadError::WrongTypes {
                world: format!("{WIT_PACKAGE}/{kind}-plugin@{wit_version}"),
                message: format!("{e:#}"),
            }
        })?;
        let mut plugin = Plugin {
            identity: PluginIdentity {
                name: String::new(),
                version: String::new(),
                kind,
                hash,
                wit_version,
            },
            description: Description {
                name: String::new(),
                version: String::new(),
                kind,
                config_schema: serde_json::Value::Null,
                summary: String::new(),
            },
            size_bytes: wasm.len(),
            pre,
            instance_pre,
            engine: engine.clone(),
        };
        let description = match plugin.describe().result {
            Ok(description) => description,
            Err(fault) => {
                // Instantiating checks every export's type, so a good plugin
                // needs no separate check; when it fails, name the function
                // whose type is wrong, if that is why.
                let version = &plugin.identity.wit_version;
                load_check::function_types(engine, &plugin.instance_pre, kind, version)?;
                return Err(LoadError::Describe(fault));
            }
        };
        if description.kind != kind {
            return Err(LoadError::KindMismatch {
                exported: kind,
                described: description.kind,
            });
        }
        plugin.identity.name = description.name.clone();
        plugin.identity.version = description.version.clone();
        plugin.description = description;
        Ok(plugin)
    }

    pub fn identity(&self) -> &PluginIdentity {
        &self.identity
    }

    pub fn kind(&self) -> PluginKind {
        self.identity.kind
    }

    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Whether calls may run in warm instances (HQ's `reuse_instances`).
    pub fn reuses_instances(&self) -> bool {
        self.engine.limits().reuse_instances
    }

    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    pub(super) fn engine(&self) -> &PolicyEngine {
        &self.engine
    }

    pub(super) fn instance_pre(&self) -> &InstancePre<Sandbox> {
        &self.instance_pre
    }

    /// A new store with the sandbox's limits armed for a policy call.
    pub(super) fn new_store(&self) -> wasmtime::Result<Store<Sandbox>> {
        new_store(&self.engine)
    }

    /// A new instance in a new store, limits armed.
    fn instantiate(&self) -> wasmtime::Result<Warm> {
        let mut store = self.new_store()?;
        let exports = self.pre.instantiate(&mut store)?;
        Ok(Warm {
            store,
            exports,
            calls: 0,
        })
    }

    /// Runs `call` with fresh limits in an instance from `pool` (or a new
    /// one), its clock reading `clock`. The instance goes back to the pool
    /// only if the call returned normally and left nothing on stderr.
    fn run<W, T>(
        &self,
        budget: Budget,
        pool: Option<&InstancePool>,
        configure: Option<&str>,
        clock: TimestampMs,
        call: impl FnOnce(
            &mut Store<Sandbox>,
            &Exports,
        ) -> wasmtime::Result<Result<W, wit::PluginError>>,
        convert: impl FnOnce(W) -> T,
    ) -> Call<T>
    where
        T: WireSize,
    {
        let setup_limits;
        let (limits, deadline_ticks) = match budget {
            Budget::Call => (self.engine.limits(), self.engine.deadline_ticks()),
            Budget::Setup => {
                let limits = self.engine.limits();
                setup_limits = Limits {
                    deadline_ms: limits.setup_deadline_ms,
                    ..limits.clone()
                };
                (&setup_limits, self.engine.setup_deadline_ticks())
            }
        };
        let started = Instant::now();
        let warm = match pool.and_then(InstancePool::take) {
            Some(warm) => Ok(warm),
            None => self.instantiate().and_then(|mut warm| {
                if let Some(config) = configure {
                    self.configure_instance(&mut warm, config)?;
                }
                Ok(warm)
            }),
        };
        let mut warm = match warm {
            Ok(warm) => warm,
            Err(error) => {
                return Call {
                    result: Err(classify(&error, limits)),
                    fuel_used: 0,
                    duration: started.elapsed(),
                    logs: Vec::new(),
                };
            }
        };
        let store = &mut warm.store;
        store.data_mut().set_clock(clock);
        store
            .set_fuel(limits.fuel)
            .expect("fuel is enabled on the engine");
        store.set_epoch_deadline(deadline_ticks);
        let outcome = call(store, &warm.exports);
        let duration = started.elapsed();
        let fuel_used = limits.fuel - store.get_fuel().unwrap_or(0);
        let logs = store.data_mut().take_logs();
        let reusable = outcome.is_ok() && !store.data().wrote_stderr();
        let result = match outcome {
            Err(trap) => Err(classify(&trap, limits)),
            Ok(Err(e)) => Err(Fault::PluginError {
                code: e.code,
                message: e.message,
            }),
            Ok(Ok(output)) => {
                let output = convert(output);
                let bytes = output.wire_size();
                if bytes > limits.max_output_bytes {
                    Err(Fault::OutputTooLarge {
                        bytes,
                        limit: limits.max_output_bytes,
                    })
                } else {
                    Ok(output)
                }
            }
        };
        if let Some(pool) = pool.filter(|_| reusable) {
            warm.calls += 1;
            pool.give_back(warm);
        }
        Call {
            result,
            fuel_used,
            duration,
            logs,
        }
    }

    /// The plugin's description, asked of a fresh instance.
    pub fn describe(&self) -> Call<Description> {
        self.run(
            Budget::Setup,
            None,
            None,
            0,
            |store, exports| Ok(Ok(exports.describe(store)?)),
            convert::description,
        )
    }

    /// Asks the plugin to validate a configuration (JSON), in a fresh
    /// instance. `Ok(Err(..))` lists every problem the plugin found. When
    /// the configuration is valid and `pool` is given, the instance, now
    /// configured, becomes the pool's first warm instance.
    pub fn configure(
        &self,
        config_json: &str,
        pool: Option<&InstancePool>,
    ) -> Call<Result<(), Vec<ConfigError>>> {
        let call = self.run(
            Budget::Setup,
            None,
            None,
            0,
            |store, exports| Ok(Ok(exports.configure(store, config_json)?)),
            |r| r.map_err(convert::config_errors),
        );
        if let (Some(pool), Ok(Ok(()))) = (pool, &call.result)
            && let Ok(mut warm) = self.instantiate()
            && self.configure_instance(&mut warm, config_json).is_ok()
        {
            pool.give_back(warm);
        }
        call
    }

    /// Configures a fresh instance before its first policy call, under the
    /// same limits as a call. A configuration that validated at load but is
    /// refused now is an error.
    fn configure_instance(&self, warm: &mut Warm, config_json: &str) -> wasmtime::Result<()> {
        let limits = self.engine.limits();
        warm.store.set_fuel(limits.fuel)?;
        warm.store.set_epoch_deadline(self.engine.deadline_ticks());
        match warm.exports.configure(&mut warm.store, config_json)? {
            Ok(()) => Ok(()),
            Err(errors) => Err(wasmtime::Error::msg(format!(
                "configure refused the slot's configuration: {}",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    pub fn check(
        &self,
        pool: Option<&InstancePool>,
        config: &str,
        input: &wit_anti_diversion::CheckInput,
    ) -> Call<Verdict> {
        if self.kind() != PluginKind::AntiDiversion {
            return self.wrong_kind(PluginKind::AntiDiversion);
        }
        self.run(
            Budget::Call,
            pool,
            Some(config),
            input.order.placed_at,
            |store, exports| exports.check(store, input),
            convert::verdict,
        )
    }

    pub fn price(
        &self,
        pool: Option<&InstancePool>,
        config: &str,
        input: &wit_pricing::PricingInput,
    ) -> Call<Vec<PricedLine>> {
        if self.kind() != PluginKind::Pricing {
            return self.wrong_kind(PluginKind::Pricing);
        }
        self.run(
            Budget::Call,
            pool,
            Some(config),
            input.order.placed_at,
            |store, exports| exports.price(store, input),
            convert::priced_lines,
        )
    }

    pub fn apply(
        &self,
        pool: Option<&InstancePool>,
        config: &str,
        input: &wit_promotion::PromotionInput,
    ) -> Call<Vec<Adjustment>> {
        if self.kind() != PluginKind::Promotion {
            return self.wrong_kind(PluginKind::Promotion);
        }
        self.run(
            Budget::Call,
            pool,
            Some(config),
            input.order.placed_at,
            |store, exports| exports.apply(store, input),
            convert::adjustments,
        )
    }

    pub fn source(
        &self,
        pool: Option<&InstancePool>,
        config: &str,
        input: &wit_sourcing::SourcingInput,
    ) -> Call<SourcingPlan> {
        if self.kind() != PluginKind::Sourcing {
            return self.wrong_kind(PluginKind::Sourcing);
        }
        self.run(
            Budget::Call,
            pool,
            Some(config),
            input.order.placed_at,
            |store, exports| exports.source(store, input),
            convert::sourcing_plan,
        )
    }

    /// A slot was filled with a plugin of another kind; region loading
    /// prevents this, so reaching it is a host bug reported as a fault.
    fn wrong_kind<T>(&self, wanted: PluginKind) -> Call<T> {
        Call {
            result: Err(Fault::Trap {
                message: format!("host asked a {} plugin to act as {wanted}", self.kind()),
            }),
            fuel_used: 0,
            duration: Duration::ZERO,
            logs: Vec::new(),
        }
    }
}

impl<T> WireSize for Result<T, Vec<ConfigError>> {
    fn wire_size(&self) -> usize {
        match self {
            Ok(_) => 1,
            Err(errors) => errors
                .iter()
                .map(|e| e.path.len() + e.message.len() + 8)
                .sum(),
        }
    }
}

impl WireSize for Description {
    fn wire_size(&self) -> usize {
        self.name.len()
            + self.version.len()
            + self.summary.len()
            + self.config_schema.to_string().len()
    }
}

/// Reads which policy interface (and WIT version) a component exports,
/// before anything is instantiated.
fn exported_kind(
    engine: &PolicyEngine,
    component: &Component,
) -> Result<(PluginKind, String), LoadError> {
    let ty = component.component_type();
    let mut exports = Vec::new();
    let mut found = Vec::new();
    for (name, item) in ty.exports(engine.engine()) {
        exports.push(name.to_string());
        let Some(rest) = name
            .strip_prefix(WIT_PACKAGE)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        if !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            continue;
        }
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let Some(kind) = PluginKind::from_interface(interface) else {
            continue;
        };
        if !SUPPORTED_WIT_VERSIONS.contains(&version) {
            return Err(LoadError::UnsupportedVersion {
                interface: interface.into(),
                found: version.into(),
            });
        }
        found.push((kind, version.to_string()));
    }
    match found.len() {
        0 => Err(LoadError::NoPolicyExport {
            exports: if exports.is_empty() {
                "nothing".into()
            } else {
                exports.join(", ")
            },
        }),
        1 => Ok(found.remove(0)),
        _ => Err(LoadError::SeveralKinds(
            found
                .iter()
                .map(|(k, _)| k.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}
