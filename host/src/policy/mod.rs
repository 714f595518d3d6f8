//! The plugin runtime: engine, sandbox, loaded plugins, region plugin sets
//! and the pipeline that evaluates an order. Only this module sees wasmtime.

mod bindings;
pub mod cache;
mod convert;
pub mod engine;
pub mod limits;
pub mod plugin;
pub mod sandbox;
pub mod types;

pub use cache::ComponentCache;
pub use engine::PolicyEngine;
pub use limits::{Fault, Limits};
pub use plugin::{LoadError, Plugin, PluginIdentity};
pub use types::*;
