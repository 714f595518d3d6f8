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

per_kind_worlds!();

type Answer<T> = wasmtime::Result<Result<T, types::PluginError>>;

impl Exports {
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
