//! The four reference plugins, run as components through the real runtime
//! on the example brand's orders.

mod common;

use chanhost::policy::decision::{DecisionStatus, StepStatus};
use chanhost::policy::types::{AdjustmentKind, Signal};
use common::*;

#[test]
fn the_same_order_gets_different_correct_decisions_in_two_regions() {
    let policies = example_policies();
    let south = policies.evaluate(&example_order("gd-ten-lines")).unwrap();
    let north = policies.evaluate(&example_order("hl-ten-lines")).unwrap();
    assert_eq!(
        south.status,
        DecisionStatus::Accepted,
        "{:?}",
        south.reasons
    );
    assert_eq!(
        north.status,
        DecisionStatus::Accepted,
        "{:?}",
        north.reasons
    );

    // Guangdong cuts low-alcohol prices 5% and runs 8% off low-alcohol;
    // Heilongjiang prices 2% up and runs buy-10-get-2 on baijiu.
    let price = |d: &chanhost::policy::Decision, sku: &str| {
        d.lines.iter().find(|l| l.sku == sku).unwrap().unit_price
    };
    // LA-001: base 42,800 fen; core tier −3%.
    assert_eq!(price(&south, "LA-001"), 39_440); // 42,800 −5% = 40,660, −3% = 39,440.2
    assert_eq!(price(&north, "LA-001"), 42_346); // 42,800 +2% = 43,656, −3% = 42,346.32
    assert!(
        south
            .adjustments
            .iter()
            .any(|a| a.promotion_id == "low-alcohol-8pct")
    );
    assert!(
        south
            .adjustments
            .iter()
            .all(|a| a.promotion_id != "mid-autumn-10-2")
    );
    let north_free: Vec<_> = north
        .free_goods
        .iter()
        .map(|f| (f.sku.as_str(), f.quantity))
        .collect();
    assert!(north_free.contains(&("BJ-002", 4)), "{north_free:?}"); // 20 cases → 4 free
    assert!(
        north
            .adjustments
            .iter()
            .all(|a| a.promotion_id.starts_with("mid-autumn"))
    );
    assert_ne!(south.totals.total, north.totals.total);

    // Every line discount is explained by a promotion of the region.
    for line in &south.lines {
        if line.discount > 0 {
            let explained: i64 = south
                .adjustments
                .iter()
                .filter_map(|a| match a.kind {
                    AdjustmentKind::LineDiscount { line_no, amount } if line_no == line.line_no => {
                        Some(amount)
                    }
                    _ => None,
                })
                .sum();
            assert_eq!(explained, line.discount);
        }
    }
    assert_eq!(
        south.totals.total,
        south.totals.subtotal - south.totals.line_discounts - south.totals.order_discounts
    );
}

#[test]
fn a_region_exclusive_ordered_elsewhere_is_rejected_with_reasons() {
    let decision = example_policies()
        .evaluate(&example_order("bj-diverted-exclusive"))
        .unwrap();
    assert_eq!(decision.status, DecisionStatus::Rejected);
    assert!(
        reason_codes(&decision).contains(&"region-restricted-sku"),
        "{:?}",
        decision.reasons
    );
    // Rejected at anti-diversion: nothing was priced or sourced.
    assert!(decision.lines.is_empty() && decision.sourcing.is_none());
    assert_eq!(decision.trace.steps.len(), 1);
}

#[test]
fn ten_times_the_usual_volume_is_held_for_review() {
    let decision = example_policies()
        .evaluate(&example_order("sc-abnormal-quantity"))
        .unwrap();
    assert_eq!(decision.status, DecisionStatus::Held);
    assert_eq!(reason_codes(&decision), ["abnormal-quantity"]);
    // A held order is still priced and sourced, so a reviewer sees it all.
    assert_eq!(decision.lines.len(), 1);
    assert!(decision.sourcing.is_some());
}

#[test]
fn scarce_stock_splits_across_neighbours_and_alerts_production() {
    let context = example_order("js-scarce-new-product");
    let decision = example_policies().evaluate(&context).unwrap();
    assert_eq!(
        decision.status,
        DecisionStatus::Accepted,
        "{:?}",
        decision.reasons
    );
    let plan = decision.sourcing.as_ref().unwrap();

    let from: Vec<(&str, u32)> = plan
        .allocations
        .iter()
        .filter(|a| a.sku == "BJ-018")
        .map(|a| (a.warehouse_id.as_str(), a.quantity))
        .collect();
    // 90 cases: 40 at home, then neighbours in order of preference (sh, zj).
    assert_eq!(from, [("WH-JS-1", 40), ("WH-SH-1", 30), ("WH-ZJ-1", 20)]);
    assert!(plan.backorders.is_empty());
    assert!(plan.signals.iter().any(|s| matches!(s,
        Signal::ProductionAlert { sku, shortfall: 50, demand: 90, available: 40, suggested_lead_days: 21, .. } if sku == "BJ-018")));
    assert!(plan.signals.iter().any(|s| matches!(s, Signal::TransferSuggestion { from_warehouse, .. } if from_warehouse == "WH-SH-1")));
    // Key account + expedited + new product.
    assert_eq!(plan.priority, 300 + 50 + 20);
}

#[test]
fn free_goods_are_sourced_like_ordered_goods() {
    let decision = example_policies()
        .evaluate(&example_order("hl-mid-autumn"))
        .unwrap();
    let plan = decision.sourcing.as_ref().unwrap();
    for sku in ["BJ-011", "RX-002"] {
        let ordered: u32 = decision
            .lines
            .iter()
            .filter(|l| l.sku == sku)
            .map(|l| l.quantity)
            .sum();
        let free: u32 = decision
            .free_goods
            .iter()
            .filter(|f| f.sku == sku)
            .map(|f| f.quantity)
            .sum();
        let allocated: u32 = plan
            .allocations
            .iter()
            .filter(|a| a.sku == sku)
            .map(|a| a.quantity)
            .sum();
        assert!(free > 0);
        assert_eq!(allocated, ordered + free, "{sku}");
    }
}

#[test]
fn the_trace_names_every_plugin_with_version_hash_and_cost() {
    let decision = example_policies()
        .evaluate(&example_order("sh-spend-threshold"))
        .unwrap();
    let slots: Vec<&str> = decision
        .trace
        .steps
        .iter()
        .map(|s| s.slot.as_str())
        .collect();
    assert_eq!(
        slots,
        [
            "anti_diversion",
            "pricing",
            "promotions/jiangnan",
            "sourcing"
        ]
    );
    for step in &decision.trace.steps {
        assert_eq!(step.status, StepStatus::Ok);
        assert_eq!(step.plugin.version, "1.0.0");
        assert_eq!(step.plugin.hash.len(), 64);
        assert!(step.fuel_used > 0);
        assert!(step.output.is_some());
    }
    // Spend ≥ ¥10,000 takes ¥800 off.
    assert!(
        decision
            .adjustments
            .iter()
            .any(|a| a.promotion_id == "spend-10k"
                && matches!(a.kind, AdjustmentKind::OrderDiscount { amount: 80_000 }))
    );
    assert!(
        decision
            .lines
            .iter()
            .all(|l| l.explanation.contains("strategic tier"))
    );
}

#[test]
fn decisions_are_deterministic_and_do_not_depend_on_instance_reuse() {
    let policies = example_policies();
    let context = example_order("gd-ten-lines");
    let first = without_costs(policies.evaluate(&context).unwrap());
    for _ in 0..3 {
        assert_eq!(without_costs(policies.evaluate(&context).unwrap()), first);
    }

    let fresh_brand = TestBrand::new("", "");
    std::fs::write(
        fresh_brand.path().join("hq.toml"),
        std::fs::read_to_string(examples().join("hq.toml"))
            .unwrap()
            .replace("[limits]", "[limits]\nreuse_instances = false"),
    )
    .unwrap();
    for region in std::fs::read_dir(examples().join("regions")).unwrap() {
        let region = region.unwrap().path();
        std::fs::copy(
            &region,
            fresh_brand
                .path()
                .join("regions")
                .join(region.file_name().unwrap()),
        )
        .unwrap();
    }
    std::fs::remove_file(fresh_brand.path().join("regions/r1.toml")).unwrap();
    std::fs::remove_file(fresh_brand.path().join("regions/r2.toml")).unwrap();
    let fresh = fresh_brand.load().unwrap();
    assert!(!fresh.engine.limits().reuse_instances);
    assert_eq!(without_costs(fresh.evaluate(&context).unwrap()), first);
}

#[test]
fn unknown_skus_and_malformed_orders_are_refused_with_a_path() {
    let policies = example_policies();
    let mut context = example_order("gd-ten-lines");
    context.order.lines[3].sku = "NOPE".into();
    let err = policies.evaluate(&context).unwrap_err();
    assert_eq!(err.to_string(), "/order/lines/3/sku: unknown SKU NOPE");

    let mut context = example_order("gd-ten-lines");
    context.order.lines[0].quantity = 0;
    assert!(
        policies
            .evaluate(&context)
            .unwrap_err()
            .to_string()
            .starts_with("/order/lines/0/quantity")
    );

    let mut context = example_order("gd-ten-lines");
    context.order.region = "atlantis".into();
    assert_eq!(
        policies.evaluate(&context).unwrap_err().to_string(),
        "unknown region atlantis"
    );
}
