//! chanhost: a dealer channel's ordering, fulfillment and inventory, with
//! each regional center's policies as sandboxed WebAssembly plugins.

pub mod api;
pub mod cli;
pub mod config;
pub mod domain;
pub mod metrics;
pub mod policy;
pub mod registry;
pub mod server;
pub mod service;
pub mod store;
