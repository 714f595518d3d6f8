//! Dealer stock first: a sourcing policy for a region whose dealers hold
//! stock of their own. Dealer-held stock in the order's region ships
//! before the regional warehouses, then neighbouring regions' warehouses
//! by neighbour rank (the levels and their order are configurable).
//!
//! - A key-account order (dealer class `key-account`) is never split: it
//!   ships whole from the most preferred warehouse that has every case of
//!   every line, or, when no single warehouse does, it is backordered
//!   whole, explicitly, and nothing ships.
//! - Any other order is served line by line: within a level of a rank the
//!   warehouse with the most stock of the SKU first (fewer shipments),
//!   split over at most `max_split` warehouses; what is left is
//!   backordered.
//! - Stock taken by an earlier line is gone for later lines; no
//!   allocation exceeds what a warehouse has, and every ordered case is
//!   allocated or backordered (HQ's guardrails check both).
//! - The plan's priority: customer class (key account above dealer),
//!   expedited, new products, with a reason for each.

mod config;
mod stock;

use chanhost_sdk::log::{debug, info};
use chanhost_sdk::sourcing::{Allocation, Backorder, Sourcing, SourcingInput, SourcingPlan};
use chanhost_sdk::text::push_int;
use chanhost_sdk::{ConfigError, CustomerClass, Plugin, PluginError, Urgency};

pub use config::{Config, Level, PriorityWeights};
use stock::{Pool, Skus};

pub struct DealerStockFirst;

impl Plugin for DealerStockFirst {
    type Config = Config;
    const NAME: &'static str = "dealer-stock-first";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Dealer-held stock in the region first, then regional warehouses, then neighbours; key-account orders ship whole from one warehouse or are backordered.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        config.problems()
    }
}

impl Sourcing for DealerStockFirst {
    fn source(config: &Config, input: SourcingInput) -> Result<SourcingPlan, PluginError> {
        let order = &input.order;
        let skus = Skus::of(&order.lines, &input.products)?;
        let mut pools = stock::pools(config, &input.warehouses, &skus);
        let mut plan = Plan::default();
        if input.dealer.class == CustomerClass::KeyAccount {
            whole_order(&input, &skus, &pools, &mut plan);
        } else {
            line_by_line(config, &input, &skus, &mut pools, &mut plan);
        }
        let (priority, priority_reasons) = priority(config, &input, &skus);
        info(&format!(
            "order {}: {} allocation(s), {} backorder(s), priority {priority}",
            order.id,
            plan.allocations.len(),
            plan.backorders.len(),
        ));
        Ok(SourcingPlan {
            allocations: plan.allocations.into_iter().map(|(a, _)| a).collect(),
            backorders: plan.backorders,
            priority,
            priority_reasons,
            signals: Vec::new(),
        })
    }
}

/// Allocations (one per warehouse and SKU: one shipment per warehouse)
/// and backorders (one per SKU), in the order they were first made.
#[derive(Default)]
struct Plan {
    /// Each with the (pool index, SKU index) it is for.
    allocations: Vec<(Allocation, (usize, usize))>,
    backorders: Vec<Backorder>,
}

impl Plan {
    fn allocate(&mut self, pool: (usize, &Pool), sku: (usize, &str), quantity: u32) {
        if quantity == 0 {
            return;
        }
        let key = (pool.0, sku.0);
        match self.allocations.iter_mut().find(|(_, k)| *k == key) {
            Some((allocation, _)) => allocation.quantity += quantity,
            None => self.allocations.push((
                Allocation {
                    warehouse_id: pool.1.id.to_string(),
                    sku: sku.1.to_string(),
                    quantity,
                },
                key,
            )),
        }
    }

    fn backorder(&mut self, sku: &str, quantity: u32) {
        if quantity == 0 {
            return;
        }
        match self.backorders.iter_mut().find(|b| b.sku == sku) {
            Some(b) => b.quantity = b.quantity.saturating_add(quantity),
            None => self.backorders.push(Backorder {
                sku: sku.to_string(),
                quantity,
            }),
        }
    }
}

/// A key-account order: all of it from one warehouse, or all of it
/// backordered.
fn whole_order(input: &SourcingInput, skus: &Skus, pools: &[Pool], plan: &mut Plan) {
    let mut demand = vec![0u32; skus.names.len()];
    for (line, &sku) in input.order.lines.iter().zip(&skus.of_line) {
        demand[sku] = demand[sku].saturating_add(line.quantity);
    }
    match pools.iter().position(|pool| pool.covers(&demand)) {
        Some(at) => {
            let pool = &pools[at];
            info(&format!(
                "key-account order {}: ships whole from {} ({} warehouse, rank {})",
                input.order.id,
                pool.id,
                pool.level.name(),
                pool.rank
            ));
            for (sku, &quantity) in demand.iter().enumerate() {
                plan.allocate((at, pool), (sku, skus.names[sku]), quantity);
            }
        }
        None => {
            info(&format!(
                "key-account order {}: no single warehouse has every case of its {} SKU(s); backordered whole, not split",
                input.order.id,
                skus.names.len()
            ));
            for (sku, &quantity) in demand.iter().enumerate() {
                plan.backorder(skus.names[sku], quantity);
            }
        }
    }
}

/// Any other order: each line from the most preferred warehouses that
/// have its SKU, split over at most `max_split`, the rest backordered.
fn line_by_line(
    config: &Config,
    input: &SourcingInput,
    skus: &Skus,
    pools: &mut [Pool],
    plan: &mut Plan,
) {
    for (line, &sku) in input.order.lines.iter().zip(&skus.of_line) {
        let mut need = line.quantity;
        let mut candidates: Vec<usize> = (0..pools.len())
            .filter(|&i| pools[i].left[sku] > 0)
            .collect();
        // Pools are in order of preference, then id; the sort is stable.
        candidates.sort_by(|&a, &b| {
            let (a, b) = (&pools[a], &pools[b]);
            a.preference
                .cmp(&b.preference)
                .then(b.left[sku].cmp(&a.left[sku]))
        });
        for &i in candidates.iter().take(config.max_split as usize) {
            if need == 0 {
                break;
            }
            let take = need.min(pools[i].left[sku]);
            pools[i].left[sku] -= take;
            need -= take;
            debug(&step(line.line_no, take, skus.names[sku], &pools[i]));
            plan.allocate((i, &pools[i]), (sku, skus.names[sku]), take);
        }
        if need > 0 {
            debug(&format!(
                "line {}: {need} × {} backordered",
                line.line_no, skus.names[sku]
            ));
            plan.backorder(skus.names[sku], need);
        }
    }
}

/// "line 2: 30 × BJ-500 from D-07 (dealer, rank 0)", appended rather than
/// formatted: one per allocation step.
fn step(line_no: u32, take: u32, sku: &str, pool: &Pool) -> String {
    let mut note = String::with_capacity(64);
    note.push_str("line ");
    push_int(&mut note, line_no);
    note.push_str(": ");
    push_int(&mut note, take);
    note.push_str(" × ");
    note.push_str(sku);
    note.push_str(" from ");
    note.push_str(pool.id);
    note.push_str(" (");
    note.push_str(pool.level.name());
    note.push_str(", rank ");
    push_int(&mut note, pool.rank);
    note.push(')');
    note
}

/// Supply priority and a sentence per contribution.
fn priority(config: &Config, input: &SourcingInput, skus: &Skus) -> (u32, Vec<String>) {
    let w = &config.priority;
    let (class, points) = match input.dealer.class {
        CustomerClass::KeyAccount => ("key-account", w.key_account),
        CustomerClass::Dealer => ("dealer", w.dealer),
        CustomerClass::Shop => ("shop", w.shop),
        CustomerClass::Restaurant => ("restaurant", w.restaurant),
    };
    let mut total = points;
    let mut reasons = vec![format!("customer class {class}: +{points}")];
    if input.order.urgency == Urgency::Expedited {
        total += w.expedited;
        reasons.push(format!("expedited order: +{}", w.expedited));
    }
    let new: Vec<&str> = skus
        .names
        .iter()
        .copied()
        .filter(|sku| {
            input
                .products
                .iter()
                .any(|p| p.sku == *sku && p.new_product)
        })
        .collect();
    if !new.is_empty() {
        total += w.new_product;
        reasons.push(format!(
            "new product in order ({}): +{}",
            new.join(", "),
            w.new_product
        ));
    }
    (total, reasons)
}

chanhost_sdk::export_sourcing!(DealerStockFirst);

#[cfg(test)]
mod tests;
