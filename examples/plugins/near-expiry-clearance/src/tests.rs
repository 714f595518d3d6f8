//! Native tests of the clearance: steps, lots, regions, descriptions and
//! configuration errors.

use super::*;
use chanhost_sdk::promotion::PricedOrderLine;
use chanhost_sdk::{Order, testing};

/// 2025-03-13T00:00:00Z, when the test orders are placed.
const PLACED_AT: i64 = 1_741_824_000_000;
const DAY: i64 = dates::DAY_MS;

const CONFIG: &str = r#"{"promotion_id": "r01-clearance", "region": "r01",
    "steps": [{"days_left": 90, "off_bp": 1000}, {"days_left": 30, "off_bp": 2500}]}"#;

fn config(json: &str) -> Config {
    chanhost_sdk::parse_config::<NearExpiryClearance>(json).unwrap()
}

/// An order of `r01` for lines of (SKU, cases) at ¥1,000.00 a case, with
/// `lots` of (SKU, lot code, days from the order to its best-before date).
fn input(lines: &[(&str, u32)], lots: &[(&str, &str, i64)]) -> PromotionInput {
    let products = vec![
        testing::product("BJ-500", "baijiu", 100_000),
        testing::product("WINE-750", "wine", 100_000),
        testing::product("LOW-330", "low-alcohol", 100_000),
    ];
    let order = Order {
        placed_at: PLACED_AT,
        ..testing::order_in(&products, lines)
    };
    let lines: Vec<PricedOrderLine> = order
        .lines
        .iter()
        .map(|line| PricedOrderLine {
            line_no: line.line_no,
            product: line.product,
            quantity: line.quantity,
            unit_price: 100_000,
            amount: 100_000 * i64::from(line.quantity),
        })
        .collect();
    let near_expiry_lots = lots
        .iter()
        .map(|(sku, lot, days)| NearExpiryLot {
            product: products.iter().position(|p| p.sku == *sku).unwrap() as u32,
            lot: lot.to_string(),
            best_before: PLACED_AT + days * DAY,
        })
        .collect();
    PromotionInput {
        subtotal: lines.iter().map(|l| l.amount).sum(),
        order,
        dealer: testing::dealer(),
        products,
        lines,
        near_expiry_lots,
    }
}

fn apply(input: PromotionInput) -> Vec<Adjustment> {
    NearExpiryClearance::apply(&config(CONFIG), input).unwrap()
}

/// (line, fen off) per adjustment, checking each is a tagged line discount.
fn discounts(adjustments: &[Adjustment]) -> Vec<(u32, Fen)> {
    adjustments
        .iter()
        .map(|a| {
            assert_eq!(a.promotion_id, "r01-clearance");
            match &a.kind {
                AdjustmentKind::LineDiscount(d) => (d.line_no, d.amount),
                other => panic!("not a line discount: {other:?}"),
            }
        })
        .collect()
}

#[test]
fn no_flagged_lots_no_discount() {
    assert!(apply(input(&[("BJ-500", 10)], &[])).is_empty());
}

#[test]
fn the_discount_rises_as_the_best_before_date_nears() {
    for (days, off) in [
        (365, None),
        (91, None),
        (90, Some(100_000)),
        (31, Some(100_000)),
        (30, Some(250_000)),
        (1, Some(250_000)),
    ] {
        let got = discounts(&apply(input(&[("BJ-500", 10)], &[("BJ-500", "L1", days)])));
        let want: Vec<(u32, Fen)> = off.map(|off| (1, off)).into_iter().collect();
        assert_eq!(got, want, "{days} days left");
    }
}

#[test]
fn days_left_are_whole_days_and_the_last_day_counts() {
    // 30 days and 23 hours are 30 days left; an hour to go is 0 days left.
    let nearly_31 = input(&[("BJ-500", 10)], &[("BJ-500", "L1", 31)]);
    let mut lots = nearly_31.clone();
    lots.near_expiry_lots[0].best_before -= 3_600_000;
    assert_eq!(discounts(&apply(nearly_31)), [(1, 100_000)]);
    assert_eq!(discounts(&apply(lots)), [(1, 250_000)]);
    let mut last_hour = input(&[("BJ-500", 10)], &[("BJ-500", "L1", 0)]);
    last_hour.near_expiry_lots[0].best_before += 3_600_000;
    let adjustments = apply(last_hour);
    assert_eq!(discounts(&adjustments), [(1, 250_000)]);
    assert!(adjustments[0].description.contains(", 0 days left:"));
}

#[test]
fn only_lines_of_flagged_products_are_discounted() {
    let adjustments = apply(input(
        &[("BJ-500", 10), ("WINE-750", 4), ("BJ-500", 2)],
        &[("BJ-500", "L20250311", 28), ("LOW-330", "L20250101", 5)],
    ));
    // Both BJ-500 lines; not the wine; the low-alcohol lot is not ordered.
    assert_eq!(discounts(&adjustments), [(1, 250_000), (3, 50_000)]);
    assert_eq!(
        adjustments[0].description,
        "r01-clearance: lot L20250311 of BJ-500 best before 2025-04-10, 28 days left: 25% off line 1 of ¥10,000.00 = ¥2,500.00"
    );
}

#[test]
fn a_lot_of_a_product_not_in_the_order_gives_nothing() {
    let mut order = input(&[("BJ-500", 10)], &[("WINE-750", "W1", 10)]);
    assert!(apply(order.clone()).is_empty());
    // Nor does a lot whose product index is outside the input.
    order.near_expiry_lots[0].product = 17;
    assert!(apply(order).is_empty());
}

#[test]
fn several_lots_of_a_product_price_on_the_first_to_expire() {
    let adjustments = apply(input(
        &[("BJ-500", 1)],
        &[
            ("BJ-500", "LATE", 80),
            ("BJ-500", "EARLY", 1),
            ("BJ-500", "MID", 40),
        ],
    ));
    assert_eq!(discounts(&adjustments), [(1, 25_000)]);
    assert!(
        adjustments[0]
            .description
            .contains("lot EARLY of BJ-500 best before 2025-03-14, 1 day left: 25% off"),
        "{}",
        adjustments[0].description
    );
}

#[test]
fn other_regions_get_nothing() {
    let mut order = input(&[("BJ-500", 10)], &[("BJ-500", "L1", 5)]);
    order.order.region = "r02".into();
    assert!(apply(order).is_empty());
}

#[test]
fn a_lot_past_its_date_is_not_cleared_and_says_so() {
    chanhost_sdk::log::take();
    for days in [0, -3] {
        assert!(apply(input(&[("BJ-500", 10)], &[("BJ-500", "OLD", days)])).is_empty());
    }
    let logs = chanhost_sdk::log::take();
    assert!(
        logs.iter()
            .any(|l| l.contains("Warn]")
                && l.contains("lot OLD of BJ-500 was best before 2025-03-13")),
        "{logs:?}"
    );
}

#[test]
fn the_name_labels_descriptions_and_amounts_round_half_away_from_zero() {
    let json = r#"{"promotion_id": "p", "name": "临期清仓", "region": "r01",
        "steps": [{"days_left": 60, "off_bp": 1250}]}"#;
    let mut order = input(&[("BJ-500", 1)], &[("BJ-500", "L7", 45)]);
    // 12.5% of ¥0.99 is 12.375 fen: 12 fen.
    order.lines[0].amount = 99;
    let adjustments = NearExpiryClearance::apply(&config(json), order).unwrap();
    assert_eq!(adjustments[0].promotion_id, "p");
    assert_eq!(
        adjustments[0].description,
        "临期清仓: lot L7 of BJ-500 best before 2025-04-27, 45 days left: 12.5% off line 1 of ¥0.99 = ¥0.12"
    );
    // A line worth nothing gets no zero adjustment.
    let mut free = input(&[("BJ-500", 1)], &[("BJ-500", "L7", 45)]);
    free.lines[0].amount = 0;
    assert!(
        NearExpiryClearance::apply(&config(json), free)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn percentages_for_people() {
    assert_eq!(
        [percent(2500), percent(1250), percent(5), percent(1205)],
        ["25%", "12.5%", "0.05%", "12.05%"]
    );
}

#[test]
fn every_configuration_error_with_its_path() {
    let errors = chanhost_sdk::parse_config::<NearExpiryClearance>(
        r#"{"promotion_id": " ", "name": "", "region": "",
            "steps": [{"days_left": 0, "off_bp": 0},
                      {"days_left": 90, "off_bp": 9001},
                      {"days_left": 90, "off_bp": 2000},
                      {"days_left": 30, "off_bp": 1000}]}"#,
    )
    .unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/promotion_id",
            "/name",
            "/region",
            "/steps/0/days_left",
            "/steps/0/off_bp",
            "/steps/1/off_bp",
            "/steps/1/days_left",
            "/steps/2/days_left",
            "/steps/2/off_bp",
            "/steps/3/off_bp",
        ]
    );
    assert!(
        errors[6]
            .message
            .contains("fewer than the previous step's 0"),
        "{}",
        errors[6].message
    );
    assert!(
        errors[9]
            .message
            .contains("more than the previous step's 2000"),
        "{}",
        errors[9].message
    );

    let errors = chanhost_sdk::parse_config::<NearExpiryClearance>(
        r#"{"promotion_id": "p", "region": "r01", "steps": []}"#,
    )
    .unwrap_err();
    assert_eq!((errors[0].path.as_str(), errors.len()), ("/steps", 1));

    // Shape errors come from the parser, located too.
    for (bad, path) in [
        (r#"{"promotion_id": "p", "region": "r01"}"#, ""),
        (
            r#"{"promotion_id": "p", "region": "r01", "steps": [{"days_left": 9, "off": 5}]}"#,
            "/steps/0/off",
        ),
        (
            r#"{"promotion_id": "p", "region": "r01", "steps": [{"days_left": -1, "off_bp": 5}]}"#,
            "/steps/0/days_left",
        ),
    ] {
        let errors = chanhost_sdk::parse_config::<NearExpiryClearance>(bad).unwrap_err();
        assert_eq!(errors[0].path, path, "{bad}: {errors:?}");
    }
}

#[test]
fn the_fixtures_configurations_are_valid_and_within_hq_guardrails() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for case in std::fs::read_dir(&fixtures).unwrap() {
        let file = case.unwrap().path().join("config.toml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = chanhost_sdk::serde_json::to_string(&value).unwrap();
        let config = chanhost_sdk::parse_config::<NearExpiryClearance>(&json)
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", file.display()));
        // HQ's default cap on all promotions of an order: 30%.
        assert!(
            config.steps.iter().all(|s| s.off_bp <= 3_000),
            "{}",
            file.display()
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} fixture configurations");
}

#[test]
fn the_schema_names_every_field() {
    let schema = chanhost_sdk::serde_json::to_string(&schemars::schema_for!(Config)).unwrap();
    for name in ["promotion_id", "region", "steps", "days_left", "off_bp"] {
        assert!(schema.contains(name), "{name} missing from {schema}");
    }
}
