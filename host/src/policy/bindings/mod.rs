//! Host bindings of the WIT contract, one module per supported version,
//! generated from `wit/` (the newest) and `wit/snapshots/<version>/`.
//!
//! The rest of the host speaks only the newest version's types
//! ([`latest`]). A plugin built against an older version is instantiated
//! through that version's bindings, which convert inputs and answers at the
//! call, so it keeps loading and deciding as it did. To ship a new version:
//! copy `wit/` into `wit/snapshots/<old version>/`, change `wit/`, add a
//! module here for the old version with its conversions, and list it in
//! [`SUPPORTED_WIT_VERSIONS`], [`Pre`], [`Exports`] and the per-function
//! type check of `policy/load_check.rs`.

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::sandbox::Sandbox;
use super::types::PluginKind;

/// What every version's module has alike, over its own generated worlds
/// (`anti_diversion`, `pricing`, `promotion`, `sourcing` in scope where it
/// is expanded): `Pre` and `Exports` by kind, and the two calls whose types
/// every version shares, `describe` and `configure`. The policy calls,
/// whose input and output types differ by version, are each module's own.
macro_rules! per_kind_worlds {
    () => {
        /// A component of this version, pre-instantiated as its kind's world.
        pub enum Pre {
            AntiDiversion(anti_diversion::AntiDiversionPluginPre<Sandbox>),
            Pricing(pricing::PricingPluginPre<Sandbox>),
            Promotion(promotion::PromotionPluginPre<Sandbox>),
            Sourcing(sourcing::SourcingPluginPre<Sandbox>),
        }

        impl Pre {
            pub fn new(kind: PluginKind, pre: InstancePre<Sandbox>) -> wasmtime::Result<Pre> {
                Ok(match kind {
                    PluginKind::AntiDiversion => {
                        Pre::AntiDiversion(anti_diversion::AntiDiversionPluginPre::new(pre)?)
                    }
                    PluginKind::Pricing => Pre::Pricing(pricing::PricingPluginPre::new(pre)?),
                    PluginKind::Promotion => {
                        Pre::Promotion(promotion::PromotionPluginPre::new(pre)?)
                    }
                    PluginKind::Sourcing => Pre::Sourcing(sourcing::SourcingPluginPre::new(pre)?),
                })
            }

            pub fn instantiate(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Exports> {
                Ok(match self {
                    Pre::AntiDiversion(pre) => Exports::AntiDiversion(pre.instantiate(store)?),
                    Pre::Pricing(pre) => Exports::Pricing(pre.instantiate(store)?),
                    Pre::Promotion(pre) => Exports::Promotion(pre.instantiate(store)?),
                    Pre::Sourcing(pre) => Exports::Sourcing(pre.instantiate(store)?),
                })
            }
        }

        /// An instance's typed exports, by kind.
        pub enum Exports {
            AntiDiversion(anti_diversion::AntiDiversionPlugin),
            Pricing(pricing::PricingPlugin),
            Promotion(promotion::PromotionPlugin),
            Sourcing(sourcing::SourcingPlugin),
        }

        impl Exports {
            pub fn describe(
                &self,
                store: &mut Store<Sandbox>,
            ) -> wasmtime::Result<$crate::policy::bindings::latest::types::Description> {
                match self {
                    Exports::AntiDiversion(e) => {
                        e.chanhost_policy_anti_diversion().call_describe(store)
                    }
                    Exports::Pricing(e) => e.chanhost_policy_pricing().call_describe(store),
                    Exports::Promotion(e) => e.chanhost_policy_promotion().call_describe(store),
                    Exports::Sourcing(e) => e.chanhost_policy_sourcing().call_describe(store),
                }
            }

            pub fn configure(
                &self,
                store: &mut Store<Sandbox>,
                config_json: &str,
            ) -> wasmtime::Result<
                Result<(), Vec<$crate::policy::bindings::latest::types::ConfigError>>,
            > {
                match self {
                    Exports::AntiDiversion(e) => e
                        .chanhost_policy_anti_diversion()
                        .call_configure(store, config_json),
                    Exports::Pricing(e) => e
                        .chanhost_policy_pricing()
                        .call_configure(store, config_json),
                    Exports::Promotion(e) => e
                        .chanhost_policy_promotion()
                        .call_configure(store, config_json),
                    Exports::Sourcing(e) => e
                        .chanhost_policy_sourcing()
                        .call_configure(store, config_json),
                }
            }
        }
    };
}

pub mod v0_1_0;
pub mod v0_2_0;

pub use v0_2_0 as latest;

/// The WIT package versions this host implements, newest first.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &[v0_2_0::VERSION, v0_1_0::VERSION];

/// Defines every supported version's imports.
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    v0_2_0::add_to_linker(linker)?;
    v0_1_0::add_to_linker(linker)
}

/// A component pre-instantiated through the bindings of its WIT version.
pub enum Pre {
    V0_2_0(v0_2_0::Pre),
    V0_1_0(v0_1_0::Pre),
}

impl Pre {
    /// `version` must be one of [`SUPPORTED_WIT_VERSIONS`].
    pub fn new(
        version: &str,
        kind: PluginKind,
        pre: InstancePre<Sandbox>,
    ) -> wasmtime::Result<Pre> {
        match version {
            v0_2_0::VERSION => Ok(Pre::V0_2_0(v0_2_0::Pre::new(kind, pre)?)),
            v0_1_0::VERSION => Ok(Pre::V0_1_0(v0_1_0::Pre::new(kind, pre)?)),
            other => Err(wasmtime::Error::msg(format!(
                "no bindings for WIT version {other}"
            ))),
        }
    }

    pub fn instantiate(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Exports> {
        Ok(match self {
            Pre::V0_2_0(pre) => Exports::V0_2_0(pre.instantiate(store)?),
            Pre::V0_1_0(pre) => Exports::V0_1_0(pre.instantiate(store)?),
        })
    }
}

/// An instance's exports, called with the newest version's types whatever
/// version it was built against.
pub enum Exports {
    V0_2_0(v0_2_0::Exports),
    V0_1_0(v0_1_0::Exports),
}

type Answer<T> = wasmtime::Result<Result<T, latest::types::PluginError>>;

impl Exports {
    pub fn describe(
        &self,
        store: &mut Store<Sandbox>,
    ) -> wasmtime::Result<latest::types::Description> {
        match self {
            Exports::V0_2_0(e) => e.describe(store),
            Exports::V0_1_0(e) => e.describe(store),
        }
    }

    pub fn configure(
        &self,
        store: &mut Store<Sandbox>,
        config_json: &str,
    ) -> wasmtime::Result<Result<(), Vec<latest::types::ConfigError>>> {
        match self {
            Exports::V0_2_0(e) => e.configure(store, config_json),
            Exports::V0_1_0(e) => e.configure(store, config_json),
        }
    }

    pub fn check(
        &self,
        store: &mut Store<Sandbox>,
        input: &latest::wit_anti_diversion::CheckInput,
    ) -> Answer<latest::wit_anti_diversion::Verdict> {
        match self {
            Exports::V0_2_0(e) => e.check(store, input),
            Exports::V0_1_0(e) => e.check(store, input),
        }
    }

    pub fn price(
        &self,
        store: &mut Store<Sandbox>,
        input: &latest::wit_pricing::PricingInput,
    ) -> Answer<Vec<latest::wit_pricing::PricedLine>> {
        match self {
            Exports::V0_2_0(e) => e.price(store, input),
            Exports::V0_1_0(e) => e.price(store, input),
        }
    }

    pub fn apply(
        &self,
        store: &mut Store<Sandbox>,
        input: &latest::wit_promotion::PromotionInput,
    ) -> Answer<Vec<latest::wit_promotion::Adjustment>> {
        match self {
            Exports::V0_2_0(e) => e.apply(store, input),
            Exports::V0_1_0(e) => e.apply(store, input),
        }
    }

    pub fn source(
        &self,
        store: &mut Store<Sandbox>,
        input: &latest::wit_sourcing::SourcingInput,
    ) -> Answer<latest::wit_sourcing::SourcingPlan> {
        match self {
            Exports::V0_2_0(e) => e.source(store, input),
            Exports::V0_1_0(e) => e.source(store, input),
        }
    }
}
