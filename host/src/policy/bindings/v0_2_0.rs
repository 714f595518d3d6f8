//! `chanhost:policy@0.2.0`, the newest contract (`wit/policy.wit`). The
//! host's own code speaks only these types; older versions convert to and
//! from them at the call boundary.

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::policy::sandbox::Sandbox;
use crate::policy::types::PluginKind;

pub const VERSION: &str = "0.2.0";

/// The interfaces every world shares, generated once so all worlds use the
/// same Rust types for them.
pub mod shared {
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package chanhost:host;
            world shared {
                import chanhost:policy/types@0.2.0;
                import chanhost:policy/host@0.2.0;
            }
        ",
        world: "chanhost:host/shared",
    });
}

macro_rules! world {
    ($module:ident, $world:tt) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../wit",
                world: $world,
                with: {
                    "chanhost:policy/types@0.2.0": super::shared::chanhost::policy::types,
                    "chanhost:policy/host@0.2.0": super::shared::chanhost::policy::host,
                },
            });
        }
    };
}

world!(
    anti_diversion,
    "chanhost:policy/anti-diversion-plugin@0.2.0"
);
world!(pricing, "chanhost:policy/pricing-plugin@0.2.0");
world!(promotion, "chanhost:policy/promotion-plugin@0.2.0");
world!(sourcing, "chanhost:policy/sourcing-plugin@0.2.0");

pub use shared::chanhost::policy::host::{self, LogLevel};
pub use shared::chanhost::policy::types;

pub mod wit_anti_diversion {
    pub use super::anti_diversion::exports::chanhost::policy::anti_diversion::*;
}
pub mod wit_pricing {
    pub use super::pricing::exports::chanhost::policy::pricing::*;
}
pub mod wit_promotion {
    pub use super::promotion::exports::chanhost::policy::promotion::*;
}
pub mod wit_sourcing {
    pub use super::sourcing::exports::chanhost::policy::sourcing::*;
}

/// Defines the imports this version's plugins may use.
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    shared::Shared::add_to_linker::<_, HasSelf<Sandbox>>(linker, |sandbox| sandbox)
}

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
            PluginKind::Promotion => Pre::Promotion(promotion::PromotionPluginPre::new(pre)?),
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

type Answer<T> = wasmtime::Result<Result<T, types::PluginError>>;

impl Exports {
    pub fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<types::Description> {
        match self {
            Exports::AntiDiversion(e) => e.chanhost_policy_anti_diversion().call_describe(store),
            Exports::Pricing(e) => e.chanhost_policy_pricing().call_describe(store),
            Exports::Promotion(e) => e.chanhost_policy_promotion().call_describe(store),
            Exports::Sourcing(e) => e.chanhost_policy_sourcing().call_describe(store),
        }
    }

    pub fn configure(
        &self,
        store: &mut Store<Sandbox>,
        config_json: &str,
    ) -> wasmtime::Result<Result<(), Vec<types::ConfigError>>> {
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

    pub fn check(
        &self,
        store: &mut Store<Sandbox>,
        input: &wit_anti_diversion::CheckInput,
    ) -> Answer<wit_anti_diversion::Verdict> {
        match self {
            Exports::AntiDiversion(e) => {
                e.chanhost_policy_anti_diversion().call_check(store, input)
            }
            _ => Err(not_a("anti-diversion")),
        }
    }

    pub fn price(
        &self,
        store: &mut Store<Sandbox>,
        input: &wit_pricing::PricingInput,
    ) -> Answer<Vec<wit_pricing::PricedLine>> {
        match self {
            Exports::Pricing(e) => e.chanhost_policy_pricing().call_price(store, input),
            _ => Err(not_a("pricing")),
        }
    }

    pub fn apply(
        &self,
        store: &mut Store<Sandbox>,
        input: &wit_promotion::PromotionInput,
    ) -> Answer<Vec<wit_promotion::Adjustment>> {
        match self {
            Exports::Promotion(e) => e.chanhost_policy_promotion().call_apply(store, input),
            _ => Err(not_a("promotion")),
        }
    }

    pub fn source(
        &self,
        store: &mut Store<Sandbox>,
        input: &wit_sourcing::SourcingInput,
    ) -> Answer<wit_sourcing::SourcingPlan> {
        match self {
            Exports::Sourcing(e) => e.chanhost_policy_sourcing().call_source(store, input),
            _ => Err(not_a("sourcing")),
        }
    }
}

/// A policy call on an instance of another kind: the host checks kinds
/// before calling, so this is a host bug, reported as a trap.
pub(super) fn not_a(kind: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!("host bug: called a non-{kind} plugin as {kind}"))
}
