//! Conversions between the host's plain types and the generated bindings,
//! done once at the boundary of each call.

use super::bindings::latest::types as wit;
pub use super::bindings::latest::{wit_anti_diversion, wit_pricing, wit_promotion, wit_sourcing};
use super::types::*;
use crate::domain;

pub type WitOrder = wit::Order;
pub type WitOrderLine = wit::OrderLine;
pub type WitDealer = wit::Dealer;
pub type WitProduct = wit::Product;

/// The index of `sku` in `products` (sorted by SKU, as the pipeline builds
/// them); `u32::MAX`, which no plugin can resolve, if it is not there.
pub fn product_index(products: &[wit::Product], sku: &str) -> u32 {
    products
        .binary_search_by(|p| p.sku.as_str().cmp(sku))
        .map_or(u32::MAX, |i| i as u32)
}

/// The order, its lines referring to `products` by index.
pub fn order(order: &domain::Order, products: &[wit::Product]) -> wit::Order {
    wit::Order {
        id: order.id.clone(),
        dealer_id: order.dealer_id.clone(),
        region: order.region.clone(),
        ship_to: order.ship_to.clone(),
        order_type: match order.order_type {
            domain::OrderType::Spot => wit::OrderType::Spot,
            domain::OrderType::Presale => wit::OrderType::Presale,
            domain::OrderType::Reservation => wit::OrderType::Reservation,
        },
        urgency: match order.urgency {
            domain::Urgency::Normal => wit::Urgency::Normal,
            domain::Urgency::Expedited => wit::Urgency::Expedited,
        },
        placed_at: order.placed_at,
        lines: order
            .lines
            .iter()
            .map(|l| wit::OrderLine {
                line_no: l.line_no,
                product: product_index(products, &l.sku),
                quantity: l.quantity,
            })
            .collect(),
    }
}

pub fn dealer(dealer: &domain::Dealer) -> wit::Dealer {
    wit::Dealer {
        id: dealer.id.clone(),
        region: dealer.region.clone(),
        tier: match dealer.tier {
            domain::DealerTier::Strategic => wit::DealerTier::Strategic,
            domain::DealerTier::Core => wit::DealerTier::Core,
            domain::DealerTier::Standard => wit::DealerTier::Standard,
        },
        class: match dealer.class {
            domain::CustomerClass::Dealer => wit::CustomerClass::Dealer,
            domain::CustomerClass::KeyAccount => wit::CustomerClass::KeyAccount,
            domain::CustomerClass::Shop => wit::CustomerClass::Shop,
            domain::CustomerClass::Restaurant => wit::CustomerClass::Restaurant,
        },
        territory: dealer.territory.clone(),
        credit_limit: dealer.credit_limit,
        outstanding_balance: dealer.outstanding_balance,
        usual_order_cases: dealer.usual_order_cases,
    }
}

pub fn product(product: &domain::Product) -> wit::Product {
    wit::Product {
        sku: product.sku.clone(),
        name: product.name.clone(),
        category: product.category.clone(),
        pack_size: product.pack_size,
        base_price: product.base_price,
        new_product: product.new_product,
        restricted_to_regions: product.restricted_to_regions.clone(),
    }
}

/// A candidate warehouse with its stock of `products` (sorted by SKU, as
/// the pipeline builds them), each referred to by its index there.
pub fn warehouse(
    warehouse: &domain::Warehouse,
    neighbour_rank: u32,
    products: &[wit::Product],
) -> wit_sourcing::Warehouse {
    wit_sourcing::Warehouse {
        id: warehouse.id.clone(),
        region: warehouse.region.clone(),
        level: match warehouse.level {
            domain::WarehouseLevel::Hq => wit::WarehouseLevel::Hq,
            domain::WarehouseLevel::Region => wit::WarehouseLevel::Region,
            domain::WarehouseLevel::Dealer => wit::WarehouseLevel::Dealer,
            domain::WarehouseLevel::Store => wit::WarehouseLevel::Store,
        },
        neighbour_rank,
        stock: stock_of(&warehouse.available, products),
    }
}

/// The stock of `products` in `available`: both are sorted by SKU, so one
/// merge pass matches them.
fn stock_of(
    available: &std::collections::BTreeMap<String, u32>,
    products: &[wit::Product],
) -> Vec<wit_sourcing::StockLevel> {
    let mut stock = Vec::with_capacity(products.len().min(available.len()));
    let mut products = products.iter().enumerate().peekable();
    for (sku, cases) in available {
        while products
            .next_if(|(_, p)| p.sku.as_str() < sku.as_str())
            .is_some()
        {}
        match products.peek() {
            Some((i, p)) if p.sku == *sku => stock.push(wit_sourcing::StockLevel {
                product: *i as u32,
                available: *cases,
            }),
            Some(_) => {}
            None => break,
        }
    }
    stock
}

pub fn description(d: wit::Description) -> Description {
    Description {
        name: d.name,
        version: d.version,
        kind: match d.kind {
            wit::PluginKind::AntiDiversion => PluginKind::AntiDiversion,
            wit::PluginKind::Pricing => PluginKind::Pricing,
            wit::PluginKind::Promotion => PluginKind::Promotion,
            wit::PluginKind::Sourcing => PluginKind::Sourcing,
        },
        config_schema: serde_json::from_str(&d.config_schema)
            .unwrap_or(serde_json::Value::String(d.config_schema)),
        summary: d.summary,
    }
}

pub fn config_errors(errors: Vec<wit::ConfigError>) -> Vec<ConfigError> {
    errors
        .into_iter()
        .map(|e| ConfigError {
            path: e.path,
            message: e.message,
        })
        .collect()
}

fn reasons(reasons: Vec<wit::Reason>) -> Vec<Reason> {
    reasons
        .into_iter()
        .map(|r| Reason {
            code: r.code,
            message: r.message,
        })
        .collect()
}

pub fn verdict(v: wit_anti_diversion::Verdict) -> Verdict {
    match v {
        wit_anti_diversion::Verdict::Allow => Verdict::Allow,
        wit_anti_diversion::Verdict::Hold(r) => Verdict::Hold(reasons(r)),
        wit_anti_diversion::Verdict::Reject(r) => Verdict::Reject(reasons(r)),
    }
}

pub fn priced_lines(lines: Vec<wit_pricing::PricedLine>) -> Vec<PricedLine> {
    lines
        .into_iter()
        .map(|l| PricedLine {
            line_no: l.line_no,
            unit_price: l.unit_price,
            explanation: l.explanation,
        })
        .collect()
}

pub fn adjustments(adjustments: Vec<wit_promotion::Adjustment>) -> Vec<Adjustment> {
    adjustments
        .into_iter()
        .map(|a| Adjustment {
            promotion_id: a.promotion_id,
            kind: match a.kind {
                wit_promotion::AdjustmentKind::LineDiscount(d) => AdjustmentKind::LineDiscount {
                    line_no: d.line_no,
                    amount: d.amount,
                },
                wit_promotion::AdjustmentKind::OrderDiscount(amount) => {
                    AdjustmentKind::OrderDiscount { amount }
                }
                wit_promotion::AdjustmentKind::FreeGoods(g) => AdjustmentKind::FreeGoods {
                    sku: g.sku,
                    quantity: g.quantity,
                },
            },
            description: a.description,
        })
        .collect()
}

pub fn sourcing_plan(plan: wit_sourcing::SourcingPlan) -> SourcingPlan {
    SourcingPlan {
        allocations: plan
            .allocations
            .into_iter()
            .map(|a| Allocation {
                warehouse_id: a.warehouse_id,
                sku: a.sku,
                quantity: a.quantity,
            })
            .collect(),
        backorders: plan
            .backorders
            .into_iter()
            .map(|b| Backorder {
                sku: b.sku,
                quantity: b.quantity,
            })
            .collect(),
        priority: plan.priority,
        priority_reasons: plan.priority_reasons,
        signals: plan
            .signals
            .into_iter()
            .map(|s| match s {
                wit_sourcing::Signal::ProductionAlert(p) => Signal::ProductionAlert {
                    sku: p.sku,
                    region: p.region,
                    shortfall: p.shortfall,
                    demand: p.demand,
                    available: p.available,
                    suggested_lead_days: p.suggested_lead_days,
                },
                wit_sourcing::Signal::TransferSuggestion(t) => Signal::TransferSuggestion {
                    sku: t.sku,
                    from_warehouse: t.from_warehouse,
                    to_region: t.to_region,
                    quantity: t.quantity,
                },
            })
            .collect(),
    }
}

/// Approximate bytes a value takes on the wire, to enforce output caps
/// without serialising it.
pub trait WireSize {
    fn wire_size(&self) -> usize;
}

impl WireSize for Verdict {
    fn wire_size(&self) -> usize {
        match self {
            Verdict::Allow => 1,
            Verdict::Hold(r) | Verdict::Reject(r) => {
                r.iter().map(|r| r.code.len() + r.message.len() + 8).sum()
            }
        }
    }
}

impl WireSize for Vec<PricedLine> {
    fn wire_size(&self) -> usize {
        self.iter().map(|l| l.explanation.len() + 16).sum()
    }
}

impl WireSize for Vec<Adjustment> {
    fn wire_size(&self) -> usize {
        self.iter()
            .map(|a| {
                let sku = match &a.kind {
                    AdjustmentKind::FreeGoods { sku, .. } => sku.len(),
                    _ => 0,
                };
                a.promotion_id.len() + a.description.len() + sku + 24
            })
            .sum()
    }
}

impl WireSize for SourcingPlan {
    fn wire_size(&self) -> usize {
        let allocations: usize = self
            .allocations
            .iter()
            .map(|a| a.warehouse_id.len() + a.sku.len() + 8)
            .sum();
        let backorders: usize = self.backorders.iter().map(|b| b.sku.len() + 8).sum();
        let reasons: usize = self.priority_reasons.iter().map(|r| r.len() + 4).sum();
        allocations + backorders + reasons + self.signals.len() * 64
    }
}
