//! A loaded plugin: a compiled, pre-instantiated component of one kind,
//! and the sandboxed calls into it.
//!
//! Every call gets a fresh store and instance (pooled, so cheap): no state
//! survives from one order to the next, which keeps decisions independent
//! and replayable.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::{Component, types::ComponentItem};

use super::bindings::v0_1_0::{anti_diversion, pricing, promotion, sourcing, types as wit};
use super::convert::{self, WireSize, wit_anti_diversion, wit_pricing, wit_promotion, wit_sourcing};
use super::engine::PolicyEngine;
use super::limits::Fault;
use super::sandbox::{LogLine, Sandbox, classify};
use super::types::*;
use crate::domain::TimestampMs;

/// The WIT package versions this host implements, newest first.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0"];

const WIT_PACKAGE: &str = "chanhost:policy";

/// Why a component cannot be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("component is {bytes} bytes, above the {limit} byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("exports no chanhost policy interface (it exports: {exports}); a plugin exports one of {WIT_PACKAGE}/{{anti-diversion,pricing,promotion,sourcing}}")]
    NoPolicyExport { exports: String },
    #[error("implements {WIT_PACKAGE}/{interface}@{found}, but this host supports versions {}", SUPPORTED_WIT_VERSIONS.join(", "))]
    UnsupportedVersion { interface: String, found: String },
    #[error("exports several plugin kinds ({0}); a plugin implements exactly one")]
    SeveralKinds(String),
    #[error("cannot be linked: {0}")]
    Link(String),
    #[error("its describe call failed: {0}")]
    Describe(Fault),
    #[error("exports the {exported} interface but describes itself as {described}")]
    KindMismatch { exported: PluginKind, described: PluginKind },
}

/// Who a plugin is: what a trace records for each call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

enum Pre {
    AntiDiversion(anti_diversion::AntiDiversionPluginPre<Sandbox>),
    Pricing(pricing::PricingPluginPre<Sandbox>),
    Promotion(promotion::PromotionPluginPre<Sandbox>),
    Sourcing(sourcing::SourcingPluginPre<Sandbox>),
}

/// A compiled plugin, ready to be instantiated for each call.
pub struct Plugin {
    identity: PluginIdentity,
    description: Description,
    size_bytes: usize,
    pre: Pre,
    engine: PolicyEngine,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("identity", &self.identity).finish_non_exhaustive()
    }
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
            return Err(LoadError::TooLarge { bytes: wasm.len(), limit });
        }
        let hash = content_hash(wasm);
        let component = engine
            .cache()
            .load(engine.engine(), &hash, wasm)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        let (kind, wit_version) = exported_kind(engine, &component)?;
        let instance_pre =
            engine.linker().instantiate_pre(&component).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let pre = match kind {
            PluginKind::AntiDiversion => {
                Pre::AntiDiversion(anti_diversion::AntiDiversionPluginPre::new(instance_pre).map_err(link)?)
            }
            PluginKind::Pricing => Pre::Pricing(pricing::PricingPluginPre::new(instance_pre).map_err(link)?),
            PluginKind::Promotion => Pre::Promotion(promotion::PromotionPluginPre::new(instance_pre).map_err(link)?),
            PluginKind::Sourcing => Pre::Sourcing(sourcing::SourcingPluginPre::new(instance_pre).map_err(link)?),
        };
        let mut plugin = Plugin {
            identity: PluginIdentity { name: String::new(), version: String::new(), kind, hash, wit_version },
            description: Description {
                name: String::new(),
                version: String::new(),
                kind,
                config_schema: serde_json::Value::Null,
                summary: String::new(),
            },
            size_bytes: wasm.len(),
            pre,
            engine: engine.clone(),
        };
        let description = plugin.describe().result.map_err(LoadError::Describe)?;
        if description.kind != kind {
            return Err(LoadError::KindMismatch { exported: kind, described: description.kind });
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

    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// Runs `call` in a fresh sandbox whose clock reads `clock`.
    fn run<W, T>(
        &self,
        clock: TimestampMs,
        call: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<Result<W, wit::PluginError>>,
        convert: impl FnOnce(W) -> T,
    ) -> Call<T>
    where
        T: WireSize,
    {
        let limits = self.engine.limits();
        let mut store = Store::new(self.engine.engine(), Sandbox::new(limits, clock));
        store.limiter(|sandbox| sandbox.limiter());
        store.set_fuel(limits.fuel).expect("fuel is enabled on the engine");
        store.set_epoch_deadline(self.engine.deadline_ticks());
        let started = Instant::now();
        let outcome = call(&mut store);
        let duration = started.elapsed();
        let fuel_used = limits.fuel - store.get_fuel().unwrap_or(0);
        let result = match outcome {
            Err(trap) => Err(classify(&trap, limits)),
            Ok(Err(e)) => Err(Fault::PluginError { code: e.code, message: e.message }),
            Ok(Ok(output)) => {
                let output = convert(output);
                let bytes = output.wire_size();
                if bytes > limits.max_output_bytes {
                    Err(Fault::OutputTooLarge { bytes, limit: limits.max_output_bytes })
                } else {
                    Ok(output)
                }
            }
        };
        Call { result, fuel_used, duration, logs: store.data_mut().take_logs() }
    }

    /// The plugin's description, asked of a fresh instance.
    pub fn describe(&self) -> Call<Description> {
        self.run(
            0,
            |store| {
                let d = match &self.pre {
                    Pre::AntiDiversion(pre) => pre.instantiate(&mut *store)?.chanhost_policy_anti_diversion().call_describe(store)?,
                    Pre::Pricing(pre) => pre.instantiate(&mut *store)?.chanhost_policy_pricing().call_describe(store)?,
                    Pre::Promotion(pre) => pre.instantiate(&mut *store)?.chanhost_policy_promotion().call_describe(store)?,
                    Pre::Sourcing(pre) => pre.instantiate(&mut *store)?.chanhost_policy_sourcing().call_describe(store)?,
                };
                Ok(Ok(d))
            },
            convert::description,
        )
    }

    /// Asks the plugin to validate a configuration (JSON). `Ok(Err(..))`
    /// lists every problem the plugin found.
    pub fn configure(&self, config_json: &str) -> Call<Result<(), Vec<ConfigError>>> {
        self.run(
            0,
            |store| {
                let r = match &self.pre {
                    Pre::AntiDiversion(pre) => pre.instantiate(&mut *store)?.chanhost_policy_anti_diversion().call_configure(store, config_json)?,
                    Pre::Pricing(pre) => pre.instantiate(&mut *store)?.chanhost_policy_pricing().call_configure(store, config_json)?,
                    Pre::Promotion(pre) => pre.instantiate(&mut *store)?.chanhost_policy_promotion().call_configure(store, config_json)?,
                    Pre::Sourcing(pre) => pre.instantiate(&mut *store)?.chanhost_policy_sourcing().call_configure(store, config_json)?,
                };
                Ok(Ok(r))
            },
            |r| r.map_err(convert::config_errors),
        )
    }

    pub fn check(&self, config: &str, input: &wit_anti_diversion::CheckInput) -> Call<Verdict> {
        let Pre::AntiDiversion(pre) = &self.pre else { return self.wrong_kind(PluginKind::AntiDiversion) };
        self.run(
            input.order.placed_at,
            |store| pre.instantiate(&mut *store)?.chanhost_policy_anti_diversion().call_check(store, config, input),
            convert::verdict,
        )
    }

    pub fn price(&self, config: &str, input: &wit_pricing::PricingInput) -> Call<Vec<PricedLine>> {
        let Pre::Pricing(pre) = &self.pre else { return self.wrong_kind(PluginKind::Pricing) };
        self.run(
            input.order.placed_at,
            |store| pre.instantiate(&mut *store)?.chanhost_policy_pricing().call_price(store, config, input),
            convert::priced_lines,
        )
    }

    pub fn apply(&self, config: &str, input: &wit_promotion::PromotionInput) -> Call<Vec<Adjustment>> {
        let Pre::Promotion(pre) = &self.pre else { return self.wrong_kind(PluginKind::Promotion) };
        self.run(
            input.order.placed_at,
            |store| pre.instantiate(&mut *store)?.chanhost_policy_promotion().call_apply(store, config, input),
            convert::adjustments,
        )
    }

    pub fn source(&self, config: &str, input: &wit_sourcing::SourcingInput) -> Call<SourcingPlan> {
        let Pre::Sourcing(pre) = &self.pre else { return self.wrong_kind(PluginKind::Sourcing) };
        self.run(
            input.order.placed_at,
            |store| pre.instantiate(&mut *store)?.chanhost_policy_sourcing().call_source(store, config, input),
            convert::sourcing_plan,
        )
    }

    /// A slot was filled with a plugin of another kind; region loading
    /// prevents this, so reaching it is a host bug reported as a fault.
    fn wrong_kind<T>(&self, wanted: PluginKind) -> Call<T> {
        Call {
            result: Err(Fault::Trap { message: format!("host asked a {} plugin to act as {wanted}", self.kind()) }),
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
            Err(errors) => errors.iter().map(|e| e.path.len() + e.message.len() + 8).sum(),
        }
    }
}

impl WireSize for Description {
    fn wire_size(&self) -> usize {
        self.name.len() + self.version.len() + self.summary.len() + self.config_schema.to_string().len()
    }
}

/// Reads which policy interface (and WIT version) a component exports,
/// before anything is instantiated.
fn exported_kind(engine: &PolicyEngine, component: &Component) -> Result<(PluginKind, String), LoadError> {
    let ty = component.component_type();
    let mut exports = Vec::new();
    let mut found = Vec::new();
    for (name, item) in ty.exports(engine.engine()) {
        exports.push(name.to_string());
        let Some(rest) = name.strip_prefix(WIT_PACKAGE).and_then(|r| r.strip_prefix('/')) else { continue };
        if !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            continue;
        }
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let Some(kind) = PluginKind::from_interface(interface) else { continue };
        if !SUPPORTED_WIT_VERSIONS.contains(&version) {
            return Err(LoadError::UnsupportedVersion { interface: interface.into(), found: version.into() });
        }
        found.push((kind, version.to_string()));
    }
    match found.len() {
        0 => Err(LoadError::NoPolicyExport {
            exports: if exports.is_empty() { "nothing".into() } else { exports.join(", ") },
        }),
        1 => Ok(found.remove(0)),
        _ => Err(LoadError::SeveralKinds(found.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>().join(", "))),
    }
}
