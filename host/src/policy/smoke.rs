//! The smoke run a deployment must pass before it goes live: a few fixture
//! orders of the region (one line, a few lines, ten lines; each dealer
//! tier) evaluated with the candidate in its slot. Any fault of the
//! candidate — a trap, a limit, a guardrail violation — fails the run.

use std::collections::BTreeMap;

use super::decision::StepStatus;
use super::pipeline::OrderContext;
use super::region::PolicySet;
use crate::domain::{
    CustomerClass, Dealer, DealerTier, Order, OrderLine, OrderType, Urgency, Warehouse,
    WarehouseLevel,
};

/// 2026-07-01T00:00:00Z: fixture orders carry a fixed time, so a smoke run
/// is the same on every host and every day.
const SMOKE_PLACED_AT: i64 = 1_782_864_000_000;

/// Fixture orders for `region`, over the SKUs it lists and may sell.
pub fn smoke_orders(set: &PolicySet, region: &str) -> Vec<OrderContext> {
    let Some(policy) = set.regions.get(region) else {
        return Vec::new();
    };
    let skus: Vec<&String> = set
        .catalogue
        .values()
        .filter(|p| policy.region.lists(&p.sku))
        .filter(|p| {
            p.restricted_to_regions.is_empty()
                || p.restricted_to_regions.iter().any(|r| r == region)
        })
        .map(|p| &p.sku)
        .collect();
    if skus.is_empty() {
        return Vec::new();
    }
    let warehouse = Warehouse {
        id: format!("SMOKE-{region}"),
        region: region.to_string(),
        level: WarehouseLevel::Region,
        available: skus.iter().map(|sku| ((*sku).clone(), 100_000)).collect(),
    };
    let tiers = [
        DealerTier::Standard,
        DealerTier::Core,
        DealerTier::Strategic,
    ];
    [1usize, 3, 10]
        .into_iter()
        .zip(tiers)
        .enumerate()
        .map(|(n, (line_count, tier))| {
            let dealer = Dealer {
                id: format!("SMOKE-DEALER-{n}"),
                region: region.to_string(),
                tier,
                class: CustomerClass::Dealer,
                territory: vec![region.to_string()],
                credit_limit: 1_000_000_000,
                outstanding_balance: 0,
                usual_order_cases: 100,
            };
            let lines = (0..line_count)
                .map(|i| OrderLine {
                    line_no: i as u32 + 1,
                    sku: skus[(n + i) % skus.len()].clone(),
                    quantity: 10 + 5 * i as u32,
                })
                .collect::<Vec<_>>();
            // A SKU may repeat when the region lists few: merge into one line.
            let mut merged: BTreeMap<String, u32> = BTreeMap::new();
            for line in &lines {
                *merged.entry(line.sku.clone()).or_default() += line.quantity;
            }
            let lines = merged
                .into_iter()
                .enumerate()
                .map(|(i, (sku, quantity))| OrderLine {
                    line_no: i as u32 + 1,
                    sku,
                    quantity,
                })
                .collect();
            OrderContext {
                order: Order {
                    id: format!("SMOKE-{region}-{n}"),
                    dealer_id: dealer.id.clone(),
                    region: region.to_string(),
                    ship_to: region.to_string(),
                    order_type: OrderType::Spot,
                    urgency: Urgency::Normal,
                    placed_at: SMOKE_PLACED_AT,
                    lines,
                },
                dealer,
                warehouses: vec![warehouse.clone()],
            }
        })
        .collect()
}

/// Runs the fixture orders through `candidate` and names every fault of
/// the plugin in `slot`.
pub fn smoke_test(candidate: &PolicySet, region: &str, slot: &str) -> Result<usize, Vec<String>> {
    let orders = smoke_orders(candidate, region);
    let mut problems = Vec::new();
    for context in &orders {
        match candidate.evaluate(context) {
            Ok(decision) => {
                for step in decision.trace.steps.iter().filter(|s| s.slot == slot) {
                    if step.status != StepStatus::Ok {
                        let what = step
                            .fault
                            .as_ref()
                            .map_or("did not run".to_string(), |f| f.to_string());
                        let findings = if step.guardrail_findings.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", step.guardrail_findings.join("; "))
                        };
                        problems.push(format!(
                            "smoke order {} ({} lines): {what}{findings}",
                            context.order.id,
                            context.order.lines.len()
                        ));
                    }
                }
            }
            Err(err) => problems.push(format!("smoke order {}: {err}", context.order.id)),
        }
    }
    if problems.is_empty() {
        Ok(orders.len())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BrandConfig;
    use crate::policy::{ComponentCache, Limits, PolicyEngine};

    #[test]
    fn the_example_brand_passes_its_own_smoke_run_in_every_region() {
        let brand = BrandConfig::load(std::path::Path::new("../examples/brand")).unwrap();
        let engine = PolicyEngine::new(Limits::default(), ComponentCache::disabled()).unwrap();
        let set = PolicySet::load(&brand, engine).unwrap();
        for region in set.regions.keys() {
            for slot in ["anti_diversion", "pricing", "sourcing"] {
                assert_eq!(smoke_test(&set, region, slot), Ok(3), "{region} {slot}");
            }
        }
    }
}
