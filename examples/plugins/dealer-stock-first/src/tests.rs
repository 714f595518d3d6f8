//! Native tests of dealer-stock-first sourcing.

use super::*;
use chanhost_sdk::sourcing::{StockLevel, Warehouse};
use chanhost_sdk::{Dealer, Product, WarehouseLevel, testing};

use WarehouseLevel::{Dealer as DealerLevel, Hq, Region};

/// The SKUs of [`input`]'s products, in order: stock refers to them by index.
const PRODUCTS: [&str; 3] = ["BJ-500", "WINE-750", "BJ-NEW"];

fn wh(id: &str, rank: u32, level: WarehouseLevel, stock: &[(&str, u32)]) -> Warehouse {
    Warehouse {
        id: id.into(),
        region: format!("region-of-{id}"),
        level,
        neighbour_rank: rank,
        stock: stock
            .iter()
            .map(|(sku, n)| StockLevel {
                product: PRODUCTS.iter().position(|p| p == sku).unwrap() as u32,
                available: *n,
            })
            .collect(),
    }
}

fn input(lines: &[(&str, u32)], warehouses: Vec<Warehouse>) -> SourcingInput {
    let products: Vec<Product> = PRODUCTS
        .iter()
        .map(|sku| Product {
            new_product: *sku == "BJ-NEW",
            ..testing::product(sku, "baijiu", 100_000)
        })
        .collect();
    SourcingInput {
        order: testing::order_in(&products, lines),
        dealer: testing::dealer(),
        products,
        warehouses,
    }
}

fn key_account(mut input: SourcingInput) -> SourcingInput {
    input.dealer = Dealer {
        class: CustomerClass::KeyAccount,
        ..input.dealer
    };
    input
}

fn config(json: &str) -> Config {
    chanhost_sdk::parse_config::<DealerStockFirst>(json).unwrap()
}

fn source(input: SourcingInput) -> SourcingPlan {
    DealerStockFirst::source(&config("{}"), input).unwrap()
}

fn allocs(plan: &SourcingPlan) -> Vec<(&str, &str, u32)> {
    plan.allocations
        .iter()
        .map(|a| (a.warehouse_id.as_str(), a.sku.as_str(), a.quantity))
        .collect()
}

fn backorders(plan: &SourcingPlan) -> Vec<(&str, u32)> {
    plan.backorders
        .iter()
        .map(|b| (b.sku.as_str(), b.quantity))
        .collect()
}

#[test]
fn dealer_stock_in_the_region_ships_first() {
    let plan = source(input(
        &[("BJ-500", 40)],
        vec![
            wh("R1", 0, Region, &[("BJ-500", 500)]),
            wh("D1", 0, DealerLevel, &[("BJ-500", 50)]),
        ],
    ));
    assert_eq!(allocs(&plan), [("D1", "BJ-500", 40)]);
    assert!(plan.backorders.is_empty());
}

#[test]
fn then_regional_warehouses_then_neighbours_by_rank() {
    let plan = source(input(
        &[("BJ-500", 100)],
        vec![
            wh("N2", 2, Region, &[("BJ-500", 500)]),
            wh("N1", 1, Region, &[("BJ-500", 20)]),
            wh("R1", 0, Region, &[("BJ-500", 30)]),
            wh("D1", 0, DealerLevel, &[("BJ-500", 40)]),
        ],
    ));
    // Four warehouses would be needed; three may ship one line.
    assert_eq!(
        allocs(&plan),
        [
            ("D1", "BJ-500", 40),
            ("R1", "BJ-500", 30),
            ("N1", "BJ-500", 20)
        ]
    );
    assert_eq!(backorders(&plan), [("BJ-500", 10)]);
    let plan = DealerStockFirst::source(
        &config(r#"{"max_split": 4}"#),
        input(
            &[("BJ-500", 100)],
            vec![
                wh("N2", 2, Region, &[("BJ-500", 500)]),
                wh("N1", 1, Region, &[("BJ-500", 20)]),
                wh("R1", 0, Region, &[("BJ-500", 30)]),
                wh("D1", 0, DealerLevel, &[("BJ-500", 40)]),
            ],
        ),
    )
    .unwrap();
    assert_eq!(allocs(&plan)[3], ("N2", "BJ-500", 10));
    assert!(plan.backorders.is_empty());
}

#[test]
fn levels_left_out_of_the_configuration_do_not_ship() {
    let warehouses = vec![
        wh("HQ", 0, Hq, &[("BJ-500", 100)]),
        wh("ND", 1, DealerLevel, &[("BJ-500", 100)]),
        wh("N3", 3, Region, &[("BJ-500", 100)]),
    ];
    // HQ is not listed; neighbours' dealers are not listed; rank 3 > 2.
    let plan = DealerStockFirst::source(
        &config(r#"{"max_neighbour_rank": 2}"#),
        input(&[("BJ-500", 10)], warehouses.clone()),
    )
    .unwrap();
    assert!(plan.allocations.is_empty());
    assert_eq!(backorders(&plan), [("BJ-500", 10)]);
    let plan = DealerStockFirst::source(
        &config(r#"{"own_region_levels": ["dealer", "region", "hq"]}"#),
        input(&[("BJ-500", 10)], warehouses),
    )
    .unwrap();
    assert_eq!(allocs(&plan), [("HQ", "BJ-500", 10)]);
}

#[test]
fn within_a_level_most_stock_first_then_id() {
    let plan = source(input(
        &[("BJ-500", 70)],
        vec![
            wh("D-b", 0, DealerLevel, &[("BJ-500", 30)]),
            wh("D-a", 0, DealerLevel, &[("BJ-500", 30)]),
            wh("D-c", 0, DealerLevel, &[("BJ-500", 5)]),
            wh("D-z", 0, DealerLevel, &[("BJ-500", 50)]),
        ],
    ));
    assert_eq!(
        allocs(&plan),
        [("D-z", "BJ-500", 50), ("D-a", "BJ-500", 20)]
    );
}

#[test]
fn stock_taken_by_one_line_is_gone_for_the_next() {
    let plan = source(input(
        &[("BJ-500", 30), ("WINE-750", 5), ("BJ-500", 30)],
        vec![
            wh("D1", 0, DealerLevel, &[("BJ-500", 40), ("WINE-750", 5)]),
            wh("R1", 0, Region, &[("BJ-500", 10)]),
        ],
    ));
    // One allocation per warehouse and SKU.
    assert_eq!(
        allocs(&plan),
        [
            ("D1", "BJ-500", 40),
            ("D1", "WINE-750", 5),
            ("R1", "BJ-500", 10)
        ]
    );
    assert_eq!(backorders(&plan), [("BJ-500", 10)]);
}

#[test]
fn a_key_account_order_ships_whole_from_one_warehouse() {
    let warehouses = vec![
        // Has all the baijiu but no wine.
        wh("D1", 0, DealerLevel, &[("BJ-500", 100)]),
        wh("R1", 0, Region, &[("BJ-500", 60), ("WINE-750", 10)]),
        wh("R2", 0, Region, &[("BJ-500", 60), ("WINE-750", 10)]),
    ];
    let lines = [("BJ-500", 30), ("WINE-750", 10), ("BJ-500", 30)];
    let plan = source(key_account(input(&lines, warehouses.clone())));
    // R1 and R2 both can: the first by id.
    assert_eq!(
        allocs(&plan),
        [("R1", "BJ-500", 60), ("R1", "WINE-750", 10)]
    );
    assert!(plan.backorders.is_empty());
    // A dealer's order would have been split.
    let plan = source(input(&lines, warehouses));
    assert_eq!(
        allocs(&plan),
        [("D1", "BJ-500", 60), ("R1", "WINE-750", 10)]
    );
    // Dealer stock that covers everything still comes first.
    let plan = source(key_account(input(
        &[("BJ-500", 30)],
        vec![
            wh("R1", 0, Region, &[("BJ-500", 60)]),
            wh("D1", 0, DealerLevel, &[("BJ-500", 30)]),
        ],
    )));
    assert_eq!(allocs(&plan), [("D1", "BJ-500", 30)]);
}

#[test]
fn a_key_account_order_no_warehouse_covers_alone_is_backordered_whole() {
    chanhost_sdk::log::take();
    let plan = source(key_account(input(
        &[("BJ-500", 50), ("WINE-750", 10)],
        vec![
            wh("D1", 0, DealerLevel, &[("BJ-500", 50)]),
            wh("R1", 0, Region, &[("BJ-500", 10), ("WINE-750", 10)]),
            wh("N1", 1, Region, &[("BJ-500", 49), ("WINE-750", 100)]),
        ],
    )));
    // Together they could; alone none can: nothing ships, nothing splits.
    assert!(plan.allocations.is_empty());
    assert_eq!(backorders(&plan), [("BJ-500", 50), ("WINE-750", 10)]);
    let logs = chanhost_sdk::log::take();
    assert!(
        logs.iter()
            .any(|l| l.contains("backordered whole, not split")),
        "{logs:?}"
    );
}

#[test]
fn a_key_account_order_may_ship_whole_from_a_neighbour() {
    let plan = source(key_account(input(
        &[("BJ-500", 50)],
        vec![
            wh("R1", 0, Region, &[("BJ-500", 49)]),
            wh("N2", 2, Region, &[("BJ-500", 50)]),
            wh("N1", 1, Region, &[("BJ-500", 10)]),
        ],
    )));
    assert_eq!(allocs(&plan), [("N2", "BJ-500", 50)]);
}

#[test]
fn plans_stay_within_stock_and_cover_every_case() {
    // Every mix of stock over three warehouses and two lines, for a
    // dealer and a key account, and for every split limit.
    let levels = [(0, DealerLevel), (0, Region), (1, Region)];
    for max_split in [1, 2, 3] {
        let config = config(&format!(r#"{{"max_split": {max_split}}}"#));
        for stock in 0..=3u32.pow(6) {
            let amounts: Vec<u32> = (0..6).map(|k| stock / 3u32.pow(k) % 3 * 10).collect();
            let warehouses: Vec<Warehouse> = levels
                .iter()
                .enumerate()
                .map(|(i, (rank, level))| {
                    wh(
                        &format!("W{i}"),
                        *rank,
                        *level,
                        &[("BJ-500", amounts[2 * i]), ("WINE-750", amounts[2 * i + 1])],
                    )
                })
                .collect();
            for key in [false, true] {
                let lines = [("BJ-500", 25), ("WINE-750", 15)];
                let mut order = input(&lines, warehouses.clone());
                if key {
                    order = key_account(order);
                }
                let plan = DealerStockFirst::source(&config, order).unwrap();
                for (sku, wanted) in lines {
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
                    assert_eq!(allocated + backordered, wanted, "{amounts:?} {key}");
                }
                for a in &plan.allocations {
                    assert!(a.quantity > 0);
                    let w = warehouses.iter().find(|w| w.id == a.warehouse_id).unwrap();
                    let product = PRODUCTS.iter().position(|p| *p == a.sku).unwrap() as u32;
                    let available: u32 = w
                        .stock
                        .iter()
                        .filter(|s| s.product == product)
                        .map(|s| s.available)
                        .sum();
                    assert!(a.quantity <= available, "{amounts:?} {key}");
                }
                if key {
                    let mut shipping: Vec<&str> = plan
                        .allocations
                        .iter()
                        .map(|a| a.warehouse_id.as_str())
                        .collect();
                    shipping.dedup();
                    assert!(shipping.len() <= 1, "{amounts:?}: {shipping:?}");
                    assert!(plan.allocations.is_empty() || plan.backorders.is_empty());
                }
            }
        }
    }
}

#[test]
fn priority_key_account_expedited_new_products() {
    let mut order = key_account(input(
        &[("BJ-NEW", 1), ("BJ-500", 1)],
        vec![wh("R1", 0, Region, &[("BJ-NEW", 1), ("BJ-500", 1)])],
    ));
    order.order.urgency = Urgency::Expedited;
    let plan = source(order);
    assert_eq!(plan.priority, 300 + 50 + 20);
    assert_eq!(
        plan.priority_reasons,
        [
            "customer class key-account: +300",
            "expedited order: +50",
            "new product in order (BJ-NEW): +20"
        ]
    );
    let plan = source(input(&[("BJ-500", 1)], vec![]));
    assert_eq!(plan.priority, 200);
    assert_eq!(plan.priority_reasons, ["customer class dealer: +200"]);
    assert!(plan.signals.is_empty());
}

#[test]
fn a_line_of_an_unknown_product_is_an_error() {
    let mut order = input(&[("BJ-500", 1)], vec![]);
    order.order.lines[0].product = 9;
    let err = DealerStockFirst::source(&config("{}"), order).unwrap_err();
    assert_eq!(err.code, "unknown-product");
}

#[test]
fn every_configuration_error_with_its_path() {
    let errors = chanhost_sdk::parse_config::<DealerStockFirst>(
        r#"{"own_region_levels": [], "neighbour_levels": ["region", "hq", "region"],
            "max_split": 0, "priority": {"key_account": 100, "dealer": 200, "shop": 2000000}}"#,
    )
    .unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/own_region_levels",
            "/neighbour_levels/2",
            "/max_split",
            "/priority/shop",
            "/priority/key_account",
        ]
    );
    assert!(errors[4].message.contains("more than dealer's 200"));
    for (bad, path) in [
        (
            r#"{"own_region_levels": ["warehouse"]}"#,
            "/own_region_levels/0",
        ),
        (r#"{"max_split": 2, "split": true}"#, "/split"),
        (r#"{"priority": {"vip": 1}}"#, "/priority/vip"),
    ] {
        let errors = chanhost_sdk::parse_config::<DealerStockFirst>(bad).unwrap_err();
        assert_eq!(errors[0].path, path, "{bad}: {errors:?}");
    }
}

#[test]
fn the_fixtures_configurations_are_valid() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for case in std::fs::read_dir(&fixtures).unwrap() {
        let file = case.unwrap().path().join("config.toml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = chanhost_sdk::serde_json::to_string(&value).unwrap();
        chanhost_sdk::parse_config::<DealerStockFirst>(&json)
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", file.display()));
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} fixture configurations");
}

#[test]
fn the_schema_names_every_field() {
    let schema = chanhost_sdk::serde_json::to_string(&schemars::schema_for!(Config)).unwrap();
    for name in [
        "own_region_levels",
        "neighbour_levels",
        "max_split",
        "key_account",
        "dealer",
    ] {
        assert!(schema.contains(name), "{name} missing from {schema}");
    }
}
