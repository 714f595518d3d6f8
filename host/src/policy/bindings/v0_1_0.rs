//! `chanhost:policy@0.1.0`, kept so plugins built against it keep loading
//! (`wit/snapshots/0.1.0`).
//!
//! Its `types` interface is the newest one's, field for field, so it maps
//! onto [`latest::types`] and an order, dealer or product crosses over as
//! it is. Each policy interface has its own generated types; calls convert
//! the newest input down and the answer back up, here and only here.

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::latest::{
    self, wit_anti_diversion as new_anti_diversion, wit_pricing as new_pricing,
    wit_promotion as new_promotion, wit_sourcing as new_sourcing,
};
use crate::policy::sandbox::Sandbox;
use crate::policy::types::PluginKind;

pub const VERSION: &str = "0.1.0";

/// The `host` interface as 0.1.0 plugins import it.
pub mod shared {
    wasmtime::component::bindgen!({
        path: "../wit/snapshots/0.1.0",
        inline: "
            package chanhost:host-v0-1-0;
            world shared {
                import chanhost:policy/types@0.1.0;
                import chanhost:policy/host@0.1.0;
            }
        ",
        world: "chanhost:host-v0-1-0/shared",
        with: {
            "chanhost:policy/types@0.1.0": crate::policy::bindings::latest::types,
        },
    });
}

macro_rules! world {
    ($module:ident, $world:tt) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../wit/snapshots/0.1.0",
                world: $world,
                with: {
                    "chanhost:policy/types@0.1.0": crate::policy::bindings::latest::types,
                    "chanhost:policy/host@0.1.0": super::shared::chanhost::policy::host,
                },
            });
        }
    };
}

world!(
    anti_diversion,
    "chanhost:policy/anti-diversion-plugin@0.1.0"
);
world!(pricing, "chanhost:policy/pricing-plugin@0.1.0");
world!(promotion, "chanhost:policy/promotion-plugin@0.1.0");
world!(sourcing, "chanhost:policy/sourcing-plugin@0.1.0");

use self::anti_diversion::exports::chanhost::policy::anti_diversion as old_anti_diversion;
use self::pricing::exports::chanhost::policy::pricing as old_pricing;
use self::promotion::exports::chanhost::policy::promotion as old_promotion;
use self::sourcing::exports::chanhost::policy::sourcing as old_sourcing;
pub use shared::chanhost::policy::host;

/// Defines the imports 0.1.0 plugins may use. (`types` has only types,
/// which need no definition.)
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    host::add_to_linker::<_, HasSelf<Sandbox>>(linker, |sandbox| sandbox)
}

impl From<host::LogLevel> for latest::LogLevel {
    fn from(level: host::LogLevel) -> Self {
        match level {
            host::LogLevel::Debug => latest::LogLevel::Debug,
            host::LogLevel::Info => latest::LogLevel::Info,
            host::LogLevel::Warn => latest::LogLevel::Warn,
            host::LogLevel::Error => latest::LogLevel::Error,
        }
    }
}

per_kind_worlds!();

type Answer<T> = wasmtime::Result<Result<T, latest::types::PluginError>>;

/// Converts a 0.1.0 answer into the newest types.
fn up<T, U: From<T>>(answer: Answer<T>) -> Answer<U> {
    answer.map(|r| r.map(U::from))
}

impl Exports {
    pub fn check(
        &self,
        store: &mut Store<Sandbox>,
        input: &new_anti_diversion::CheckInput,
    ) -> Answer<new_anti_diversion::Verdict> {
        let Exports::AntiDiversion(e) = self else {
            return Err(latest::not_a("anti-diversion"));
        };
        let input = old_anti_diversion::CheckInput {
            order: input.order.clone(),
            dealer: input.dealer.clone(),
            products: input.products.clone(),
        };
        up(e.chanhost_policy_anti_diversion().call_check(store, &input))
    }

    pub fn price(
        &self,
        store: &mut Store<Sandbox>,
        input: &new_pricing::PricingInput,
    ) -> Answer<Vec<new_pricing::PricedLine>> {
        let Exports::Pricing(e) = self else {
            return Err(latest::not_a("pricing"));
        };
        let input = old_pricing::PricingInput {
            order: input.order.clone(),
            dealer: input.dealer.clone(),
            prices: input
                .prices
                .iter()
                .map(|p| old_pricing::PriceContext {
                    sku: p.sku.clone(),
                    base_price: p.base_price,
                    region_adjustment_bp: p.region_adjustment_bp,
                    floor: p.floor,
                    ceiling: p.ceiling,
                })
                .collect(),
        };
        let answer = e.chanhost_policy_pricing().call_price(store, &input);
        answer.map(|r| r.map(|lines| lines.into_iter().map(Into::into).collect()))
    }

    /// 0.1.0 promotions do not see `near-expiry-lots`.
    pub fn apply(
        &self,
        store: &mut Store<Sandbox>,
        input: &new_promotion::PromotionInput,
    ) -> Answer<Vec<new_promotion::Adjustment>> {
        let Exports::Promotion(e) = self else {
            return Err(latest::not_a("promotion"));
        };
        let input = old_promotion::PromotionInput {
            order: input.order.clone(),
            dealer: input.dealer.clone(),
            products: input.products.clone(),
            lines: input
                .lines
                .iter()
                .map(|l| old_promotion::PricedOrderLine {
                    line_no: l.line_no,
                    product: l.product,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    amount: l.amount,
                })
                .collect(),
            subtotal: input.subtotal,
        };
        let answer = e.chanhost_policy_promotion().call_apply(store, &input);
        answer.map(|r| r.map(|adjustments| adjustments.into_iter().map(Into::into).collect()))
    }

    pub fn source(
        &self,
        store: &mut Store<Sandbox>,
        input: &new_sourcing::SourcingInput,
    ) -> Answer<new_sourcing::SourcingPlan> {
        let Exports::Sourcing(e) = self else {
            return Err(latest::not_a("sourcing"));
        };
        let input = old_sourcing::SourcingInput {
            order: input.order.clone(),
            dealer: input.dealer.clone(),
            products: input.products.clone(),
            warehouses: input
                .warehouses
                .iter()
                .map(|w| old_sourcing::Warehouse {
                    id: w.id.clone(),
                    region: w.region.clone(),
                    level: w.level,
                    neighbour_rank: w.neighbour_rank,
                    stock: w
                        .stock
                        .iter()
                        .map(|s| old_sourcing::StockLevel {
                            product: s.product,
                            available: s.available,
                        })
                        .collect(),
                })
                .collect(),
        };
        up(e.chanhost_policy_sourcing().call_source(store, &input))
    }
}

impl From<old_anti_diversion::Verdict> for new_anti_diversion::Verdict {
    fn from(verdict: old_anti_diversion::Verdict) -> Self {
        match verdict {
            old_anti_diversion::Verdict::Allow => Self::Allow,
            old_anti_diversion::Verdict::Hold(reasons) => Self::Hold(reasons),
            old_anti_diversion::Verdict::Reject(reasons) => Self::Reject(reasons),
        }
    }
}

impl From<old_pricing::PricedLine> for new_pricing::PricedLine {
    fn from(line: old_pricing::PricedLine) -> Self {
        Self {
            line_no: line.line_no,
            unit_price: line.unit_price,
            explanation: line.explanation,
        }
    }
}

impl From<old_promotion::Adjustment> for new_promotion::Adjustment {
    fn from(a: old_promotion::Adjustment) -> Self {
        Self {
            promotion_id: a.promotion_id,
            kind: match a.kind {
                old_promotion::AdjustmentKind::LineDiscount(d) => {
                    new_promotion::AdjustmentKind::LineDiscount(new_promotion::LineDiscount {
                        line_no: d.line_no,
                        amount: d.amount,
                    })
                }
                old_promotion::AdjustmentKind::OrderDiscount(amount) => {
                    new_promotion::AdjustmentKind::OrderDiscount(amount)
                }
                old_promotion::AdjustmentKind::FreeGoods(g) => {
                    new_promotion::AdjustmentKind::FreeGoods(new_promotion::FreeGoods {
                        sku: g.sku,
                        quantity: g.quantity,
                    })
                }
            },
            description: a.description,
        }
    }
}

impl From<old_sourcing::SourcingPlan> for new_sourcing::SourcingPlan {
    fn from(plan: old_sourcing::SourcingPlan) -> Self {
        Self {
            allocations: plan
                .allocations
                .into_iter()
                .map(|a| new_sourcing::Allocation {
                    warehouse_id: a.warehouse_id,
                    sku: a.sku,
                    quantity: a.quantity,
                })
                .collect(),
            backorders: plan
                .backorders
                .into_iter()
                .map(|b| new_sourcing::Backorder {
                    sku: b.sku,
                    quantity: b.quantity,
                })
                .collect(),
            priority: plan.priority,
            priority_reasons: plan.priority_reasons,
            signals: plan.signals.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<old_sourcing::Signal> for new_sourcing::Signal {
    fn from(signal: old_sourcing::Signal) -> Self {
        match signal {
            old_sourcing::Signal::ProductionAlert(a) => {
                Self::ProductionAlert(new_sourcing::ProductionAlert {
                    sku: a.sku,
                    region: a.region,
                    shortfall: a.shortfall,
                    demand: a.demand,
                    available: a.available,
                    suggested_lead_days: a.suggested_lead_days,
                })
            }
            old_sourcing::Signal::TransferSuggestion(t) => {
                Self::TransferSuggestion(new_sourcing::TransferSuggestion {
                    sku: t.sku,
                    from_warehouse: t.from_warehouse,
                    to_region: t.to_region,
                    quantity: t.quantity,
                })
            }
        }
    }
}
