//! The plugin runtime: engine, sandbox, loaded plugins, region plugin sets
//! and the pipeline that evaluates an order. Only this module sees wasmtime.

mod bindings;
pub mod breaker;
pub mod cache;
mod convert;
pub mod decision;
pub mod diff;
pub mod dynamic;
pub mod engine;
pub mod guard;
pub mod guardrails;
pub mod json_val;
pub mod limits;
pub mod live;
mod load_check;
pub mod pipeline;
pub mod plugin;
pub mod region;
pub mod replay;
pub mod sandbox;
pub mod smoke;
pub mod types;

pub use breaker::{Breaker, BreakerSettings, PluginHealth};
pub use cache::ComponentCache;
pub use decision::{Decision, DecisionStatus, StepStatus};
pub use engine::PolicyEngine;
pub use guard::DeploymentTag;
pub use guardrails::Guardrails;
pub use limits::{Fault, Limits};
pub use live::LivePolicies;
pub use pipeline::{EvalError, OrderContext};
pub use plugin::{LoadError, Plugin, PluginIdentity};
pub use region::{Audience, Canary, PolicySet, RegionPolicy, Slot, SlotError, slot_kind};
pub use types::*;
