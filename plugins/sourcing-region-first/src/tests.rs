//! Native tests of region-first sourcing.

use super::*;
use chanhost_sdk::sourcing::{StockLevel, Warehouse};
use chanhost_sdk::{Product, testing};

/// The SKUs of [`input`]'s products, in order: stock refers to them by index.
const PRODUCTS: [&str; 2] = ["BJ-500", "BJ-NEW"];

fn product_index(sku: &str) -> u32 {
    PRODUCTS
        .iter()
        .position(|p| *p == sku)
        .expect("a test product") as u32
}

fn wh(id: &str, rank: u32, level: WarehouseLevel, stock: &[(&str, u32)]) -> Warehouse {
    Warehouse {
        id: id.into(),
        region: format!("region-of-{id}"),
        level,
        neighbour_rank: rank,
        stock: stock
            .iter()
            .map(|(sku, n)| StockLevel {
                product: product_index(sku),
                available: *n,
            })
            .collect(),
    }
}

fn product(sku: &str, new_product: bool) -> Product {
    Product {
        new_product,
        ..testing::product(sku, "baijiu", 100_000)
    }
}

fn input(lines: &[(&str, u32)], warehouses: Vec<Warehouse>) -> SourcingInput {
    let products = vec![product(PRODUCTS[0], false), product(PRODUCTS[1], true)];
    SourcingInput {
        order: testing::order_in(&products, lines),
        dealer: testing::dealer(),
        products,
        warehouses,
    }
}

fn config(json: &str) -> Config {
    chanhost_sdk::parse_config::<RegionFirst>(json).unwrap()
}

fn allocs(plan: &SourcingPlan) -> Vec<(&str, &str, u32)> {
    plan.allocations
        .iter()
        .map(|a| (a.warehouse_id.as_str(), a.sku.as_str(), a.quantity))
        .collect()
}

fn alerts(plan: &SourcingPlan) -> Vec<&ProductionAlert> {
    plan.signals
        .iter()
        .filter_map(|s| {
            if let Signal::ProductionAlert(a) = s {
                Some(a)
            } else {
                None
            }
        })
        .collect()
}

fn transfers(plan: &SourcingPlan) -> Vec<(&str, &str, &str, u32)> {
    plan.signals
        .iter()
        .filter_map(|s| match s {
            Signal::TransferSuggestion(t) => Some((
                t.sku.as_str(),
                t.from_warehouse.as_str(),
                t.to_region.as_str(),
                t.quantity,
            )),
            _ => None,
        })
        .collect()
}

use WarehouseLevel::{Dealer as DealerLevel, Hq, Region};

#[test]
fn own_region_covers_the_order() {
    let plan = RegionFirst::source(
        &config("{}"),
        input(
            &[("BJ-500", 40)],
            vec![
                wh("own", 0, Region, &[("BJ-500", 100)]),
                wh("nb", 1, Region, &[("BJ-500", 500)]),
            ],
        ),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("own", "BJ-500", 40)]);
    assert!(plan.backorders.is_empty());
    assert!(plan.signals.is_empty());
}

#[test]
fn within_a_rank_most_stock_first_then_id() {
    let warehouses = vec![
        wh("b", 0, Region, &[("BJ-500", 30)]),
        wh("a", 0, Hq, &[("BJ-500", 30)]),
        wh("c", 0, Region, &[("BJ-500", 50)]),
    ];
    let plan = RegionFirst::source(&config("{}"), input(&[("BJ-500", 100)], warehouses)).unwrap();
    assert_eq!(
        allocs(&plan),
        [
            ("c", "BJ-500", 50),
            ("a", "BJ-500", 30),
            ("b", "BJ-500", 20)
        ]
    );
}

#[test]
fn neighbours_by_rank_with_transfer_suggestions() {
    let warehouses = vec![
        wh("far", 2, Region, &[("BJ-500", 1000)]),
        wh("near", 1, Region, &[("BJ-500", 20)]),
        wh("own", 0, Region, &[("BJ-500", 50)]),
    ];
    let plan = RegionFirst::source(&config("{}"), input(&[("BJ-500", 100)], warehouses)).unwrap();
    assert_eq!(
        allocs(&plan),
        [
            ("own", "BJ-500", 50),
            ("near", "BJ-500", 20),
            ("far", "BJ-500", 30)
        ]
    );
    assert_eq!(
        transfers(&plan),
        [("BJ-500", "near", "r01", 20), ("BJ-500", "far", "r01", 30)]
    );
    // 100 ≥ 50 × 1.3: the factory hears about it.
    let alert = alerts(&plan)[0];
    assert_eq!(
        (
            alert.demand,
            alert.available,
            alert.shortfall,
            alert.suggested_lead_days
        ),
        (100, 50, 50, 14)
    );
    assert_eq!(alert.region, "r01");
}

#[test]
fn uncovered_quantity_is_backordered_and_new_products_get_their_lead_time() {
    let plan = RegionFirst::source(
        &config("{}"),
        input(
            &[("BJ-NEW", 30), ("BJ-500", 5)],
            vec![wh("own", 0, Region, &[("BJ-NEW", 10), ("BJ-500", 10)])],
        ),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("own", "BJ-NEW", 10), ("own", "BJ-500", 5)]);
    assert_eq!(plan.backorders.len(), 1);
    assert_eq!(
        (plan.backorders[0].sku.as_str(), plan.backorders[0].quantity),
        ("BJ-NEW", 20)
    );
    let alerts = alerts(&plan);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (
            alerts[0].sku.as_str(),
            alerts[0].shortfall,
            alerts[0].suggested_lead_days
        ),
        ("BJ-NEW", 20, 21)
    );
}

#[test]
fn backorders_can_be_forbidden() {
    let err = RegionFirst::source(
        &config(r#"{"allow_backorder": false}"#),
        input(
            &[("BJ-500", 30)],
            vec![wh("own", 0, Region, &[("BJ-500", 10)])],
        ),
    )
    .unwrap_err();
    assert_eq!(err.code, "insufficient-stock");
    assert!(
        err.message.contains("BJ-500 short 20 cases"),
        "{}",
        err.message
    );
}

#[test]
fn same_sku_twice_does_not_reuse_stock() {
    let warehouses = vec![
        wh("own", 0, Region, &[("BJ-500", 30)]),
        wh("nb", 1, Region, &[("BJ-500", 5)]),
    ];
    let plan = RegionFirst::source(
        &config("{}"),
        input(&[("BJ-500", 20), ("BJ-500", 20)], warehouses),
    )
    .unwrap();
    // Line 1 takes 20 from own; line 2 the remaining 10 from own, 5 from nb, 5 backordered.
    assert_eq!(allocs(&plan), [("own", "BJ-500", 30), ("nb", "BJ-500", 5)]);
    assert_eq!(plan.backorders[0].quantity, 5);
    assert_eq!(alerts(&plan)[0].demand, 40);
}

#[test]
fn max_split_limits_warehouses_per_line() {
    let warehouses = vec![
        wh("a", 0, Region, &[("BJ-500", 10)]),
        wh("b", 0, Region, &[("BJ-500", 9)]),
        wh("c", 0, Region, &[("BJ-500", 8)]),
    ];
    let plan = RegionFirst::source(
        &config(r#"{"max_split": 2}"#),
        input(&[("BJ-500", 25)], warehouses),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("a", "BJ-500", 10), ("b", "BJ-500", 9)]);
    assert_eq!(plan.backorders[0].quantity, 6);
}

#[test]
fn max_neighbour_rank_and_levels_filter_warehouses() {
    let warehouses = vec![
        wh("own", 0, Region, &[("BJ-500", 5)]),
        wh("dealer-stock", 0, DealerLevel, &[("BJ-500", 500)]),
        wh("near", 1, Region, &[("BJ-500", 5)]),
        wh("far", 2, Region, &[("BJ-500", 500)]),
    ];
    let plan = RegionFirst::source(
        &config(r#"{"max_neighbour_rank": 1}"#),
        input(&[("BJ-500", 20)], warehouses.clone()),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("own", "BJ-500", 5), ("near", "BJ-500", 5)]);
    assert_eq!(plan.backorders[0].quantity, 10);

    let plan = RegionFirst::source(
        &config(r#"{"source_levels": ["dealer"]}"#),
        input(&[("BJ-500", 20)], warehouses),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("dealer-stock", "BJ-500", 20)]);
}

#[test]
fn production_alert_threshold_is_inclusive() {
    let warehouses = || {
        vec![
            wh("own", 0, Region, &[("BJ-500", 100)]),
            wh("nb", 1, Region, &[("BJ-500", 100)]),
        ]
    };
    let plan = RegionFirst::source(&config("{}"), input(&[("BJ-500", 129)], warehouses())).unwrap();
    assert!(alerts(&plan).is_empty());
    let plan = RegionFirst::source(&config("{}"), input(&[("BJ-500", 130)], warehouses())).unwrap();
    assert_eq!(alerts(&plan)[0].shortfall, 30);
    // No own stock at all: any demand is an alert.
    let plan = RegionFirst::source(
        &config("{}"),
        input(
            &[("BJ-500", 1)],
            vec![wh("nb", 1, Region, &[("BJ-500", 9)])],
        ),
    )
    .unwrap();
    assert_eq!(alerts(&plan)[0].available, 0);
    // A zero threshold alerts as soon as demand exceeds stock.
    let plan = RegionFirst::source(
        &config(r#"{"production_alert_threshold_bp": 0}"#),
        input(&[("BJ-500", 101)], warehouses()),
    )
    .unwrap();
    assert_eq!(alerts(&plan)[0].shortfall, 1);
}

#[test]
fn transfer_suggestions_can_be_turned_off() {
    let warehouses = vec![wh("nb", 1, Region, &[("BJ-500", 50)])];
    let plan = RegionFirst::source(
        &config(r#"{"transfer_suggestions": false, "production_alert_threshold_bp": 100000}"#),
        input(&[("BJ-500", 1)], warehouses),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("nb", "BJ-500", 1)]);
    assert!(transfers(&plan).is_empty());
}

#[test]
fn priority_from_class_urgency_and_new_products() {
    let mut input = input(&[("BJ-NEW", 1), ("BJ-500", 1), ("BJ-NEW", 1)], vec![]);
    let plan = RegionFirst::source(&config("{}"), input.clone()).unwrap();
    assert_eq!(plan.priority, 220);
    assert_eq!(
        plan.priority_reasons,
        [
            "customer class dealer: +200",
            "new product in order (BJ-NEW): +20"
        ]
    );

    input.dealer.class = CustomerClass::KeyAccount;
    input.order.urgency = Urgency::Expedited;
    let plan =
        RegionFirst::source(&config(r#"{"priority": {"expedited": 80}}"#), input.clone()).unwrap();
    assert_eq!(plan.priority, 400);
    assert_eq!(plan.priority_reasons[1], "expedited order: +80");

    input.dealer.class = CustomerClass::Restaurant;
    input
        .order
        .lines
        .retain(|l| l.product == product_index("BJ-500"));
    let plan = RegionFirst::source(&config("{}"), input).unwrap();
    assert_eq!((plan.priority, plan.priority_reasons.len()), (150, 2));
}

#[test]
fn never_over_allocates_and_always_accounts_for_every_case() {
    let stock = [("BJ-500", 7), ("BJ-NEW", 3)];
    for q1 in [0, 1, 6, 13, 40] {
        for q2 in [0, 2, 9, 25] {
            for max_split in [1, 2, 3] {
                let warehouses = vec![
                    wh("a", 0, Region, &stock),
                    wh("b", 0, Hq, &[("BJ-500", 4)]),
                    wh("c", 1, Region, &stock),
                    wh("d", 3, Region, &[("BJ-500", 2), ("BJ-500", 2)]),
                ];
                let lines = [("BJ-500", q1), ("BJ-NEW", q2), ("BJ-500", q2)];
                let cfg = config(&format!(r#"{{"max_split": {max_split}}}"#));
                let plan = RegionFirst::source(&cfg, input(&lines, warehouses.clone())).unwrap();
                for a in &plan.allocations {
                    let w = warehouses.iter().find(|w| w.id == a.warehouse_id).unwrap();
                    let have: u32 = w
                        .stock
                        .iter()
                        .filter(|s| s.product == product_index(&a.sku))
                        .map(|s| s.available)
                        .sum();
                    assert!(a.quantity > 0 && a.quantity <= have, "{a:?} over {have}");
                }
                for sku in ["BJ-500", "BJ-NEW"] {
                    let ordered: u32 = lines.iter().filter(|l| l.0 == sku).map(|l| l.1).sum();
                    let allocated: u32 = plan
                        .allocations
                        .iter()
                        .filter(|a| a.sku == sku)
                        .map(|a| a.quantity)
                        .sum();
                    let backordered: u32 = plan
                        .backorders
                        .iter()
                        .filter(|b| b.sku == sku)
                        .map(|b| b.quantity)
                        .sum();
                    assert_eq!(
                        allocated + backordered,
                        ordered,
                        "{sku} q1={q1} q2={q2} split={max_split}"
                    );
                }
            }
        }
    }
}

#[test]
fn config_defaults_and_errors_with_paths() {
    let c = config("");
    assert_eq!(
        (
            c.max_split,
            c.production_alert_threshold_bp,
            c.production_lead_days
        ),
        (3, 3_000, 14)
    );
    assert!(c.allow_backorder && c.transfer_suggestions && c.max_neighbour_rank.is_none());

    let errors = chanhost_sdk::parse_config::<RegionFirst>(
        r#"{"max_split": 0, "source_levels": ["hq", "hq"], "production_alert_threshold_bp": 200000,
            "new_product_lead_days": 0, "priority": {"dealer": 2000000}}"#,
    )
    .unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/max_split",
            "/source_levels/1",
            "/production_alert_threshold_bp",
            "/new_product_lead_days",
            "/priority/dealer"
        ]
    );

    let errors =
        chanhost_sdk::parse_config::<RegionFirst>(r#"{"priority": {"vip": 1}}"#).unwrap_err();
    assert_eq!(errors[0].path, "/priority/vip");
    let errors =
        chanhost_sdk::parse_config::<RegionFirst>(r#"{"source_levels": ["moon"]}"#).unwrap_err();
    assert_eq!(errors[0].path, "/source_levels/0");
}
