//! The plugin runtime: engine, sandbox, loaded plugins, region plugin sets
//! and the pipeline that evaluates an order. Only this module sees wasmtime.

mod bindings;
pub mod breaker;
pub mod cache;
mod convert;
pub mod decision;
pub mod engine;
pub mod guardrails;
pub mod limits;
pub mod pipeline;
pub mod plugin;
pub mod region;
pub mod sandbox;
pub mod types;

pub use breaker::{Breaker, BreakerSettings, PluginHealth};
pub use cache::ComponentCache;
pub use decision::{Decision, DecisionStatus, StepStatus};
pub use engine::PolicyEngine;
pub use guardrails::Guardrails;
pub use limits::{Fault, Limits};
pub use pipeline::{EvalError, OrderContext};
pub use plugin::{LoadError, Plugin, PluginIdentity};
pub use region::{PolicySet, RegionPolicy, Slot};
pub use types::*;
