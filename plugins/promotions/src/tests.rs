//! Native tests of the promotion engine.

use super::*;
use chanhost_sdk::{Order, testing};

/// Lines of (SKU, cases, unit price in yuan), ordered at time 1,000 (inside
/// the test windows) by the builders' core-tier dealer.
fn input(lines: &[(&str, u32, i64)]) -> PromotionInput {
    let products = vec![
        testing::product("BJ-500", "baijiu", 50_000),
        testing::product("WINE-750", "wine", 50_000),
        testing::product("GIFT", "merch", 50_000),
    ];
    let cases: Vec<(&str, u32)> = lines
        .iter()
        .map(|&(sku, quantity, _)| (sku, quantity))
        .collect();
    let order = Order {
        placed_at: 1_000,
        ..testing::order_in(&products, &cases)
    };
    let lines: Vec<PricedOrderLine> = lines
        .iter()
        .zip(&order.lines)
        .map(|((_, quantity, yuan), line)| PricedOrderLine {
            line_no: line.line_no,
            product: line.product,
            quantity: *quantity,
            unit_price: yuan * 100,
            amount: yuan * 100 * i64::from(*quantity),
        })
        .collect();
    PromotionInput {
        order,
        dealer: testing::dealer(),
        products,
        subtotal: lines.iter().map(|l| l.amount).sum(),
        lines,
        near_expiry_lots: Vec::new(),
    }
}

fn config(json: &str) -> Config {
    chanhost_sdk::parse_config::<Promotions>(json).unwrap()
}

fn apply(json: &str, input: PromotionInput) -> Vec<Adjustment> {
    Promotions::apply(&config(json), input).unwrap()
}

/// (promotion id, what) with line discounts as `L<line>:<fen>`, order
/// discounts as `O:<fen>` and free goods as `F<sku>:<cases>`.
fn summary(adjustments: &[Adjustment]) -> Vec<(String, String)> {
    adjustments
        .iter()
        .map(|a| {
            let what = match &a.kind {
                AdjustmentKind::LineDiscount(d) => format!("L{}:{}", d.line_no, d.amount),
                AdjustmentKind::OrderDiscount(off) => format!("O:{off}"),
                AdjustmentKind::FreeGoods(g) => format!("F{}:{}", g.sku, g.quantity),
            };
            (a.promotion_id.clone(), what)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const SPEND: &str = r#"{"id": "spend-10k", "kind": {"type": "spend_threshold", "threshold": 1000000, "off": 80000}}"#;

#[test]
fn spend_threshold_takes_money_off_the_order() {
    let adjustments = apply(
        &format!(r#"{{"promotions": [{SPEND}]}}"#),
        input(&[("BJ-500", 12, 1000)]),
    );
    assert_eq!(summary(&adjustments), pairs(&[("spend-10k", "O:80000")]));
    assert_eq!(
        adjustments[0].description,
        "spend-10k: spend ¥12,000.00 ≥ ¥10,000.00 → ¥800.00 off"
    );

    let adjustments = apply(
        &format!(r#"{{"promotions": [{SPEND}]}}"#),
        input(&[("BJ-500", 9, 1000)]),
    );
    assert!(adjustments.is_empty());
}

#[test]
fn repeating_spend_threshold_counts_every_full_threshold() {
    let json = r#"{"promotions": [{"id": "every-10k", "name": "每满万减800",
        "kind": {"type": "spend_threshold", "threshold": 1000000, "off": 80000, "repeat": true}}]}"#;
    let adjustments = apply(json, input(&[("BJ-500", 25, 1000), ("WINE-750", 4, 1000)]));
    assert_eq!(summary(&adjustments), pairs(&[("every-10k", "O:160000")]));
    assert!(
        adjustments[0]
            .description
            .starts_with("每满万减800: spend ¥29,000.00, 2 × every ¥10,000.00")
    );
}

#[test]
fn buy_n_get_m_gives_free_goods_per_line() {
    let json = r#"{"promotions": [
        {"id": "b10g2", "skus": ["BJ-500"], "kind": {"type": "buy_n_get_m", "buy": 10, "get": 2}},
        {"id": "wine-gift", "skus": ["WINE-750"], "kind": {"type": "buy_n_get_m", "buy": 5, "get": 1, "gift_sku": "GIFT"}}]}"#;
    let adjustments = apply(
        json,
        input(&[
            ("BJ-500", 25, 1000),
            ("WINE-750", 11, 300),
            ("BJ-500", 9, 1000),
        ]),
    );
    assert_eq!(
        summary(&adjustments),
        pairs(&[("b10g2", "FBJ-500:4"), ("wine-gift", "FGIFT:2")])
    );
    assert_eq!(
        adjustments[1].description,
        "wine-gift: buy 5 get 1: line 2 ordered 11 cases of WINE-750 → 2 cases of GIFT free"
    );
}

#[test]
fn percent_off_applies_inside_its_window_only() {
    let json = r#"{"promotions": [{"id": "flash", "starts_at": 1000, "ends_at": 2000,
        "kind": {"type": "percent_off", "percent_bp": 550}}]}"#;
    let mut order = input(&[("BJ-500", 3, 1000), ("WINE-750", 1, 299)]);
    let adjustments = apply(json, order.clone());
    // 5.5% of ¥3,000.00 and of ¥299.00 (16.445 → 16.45).
    assert_eq!(
        summary(&adjustments),
        pairs(&[("flash", "L1:16500"), ("flash", "L2:1645")])
    );
    assert_eq!(
        adjustments[0].description,
        "flash: 5.5% off line 1 (BJ-500) of ¥3,000.00 = ¥165.00"
    );
    for placed_at in [999, 2000] {
        order.order.placed_at = placed_at;
        assert!(
            apply(json, order.clone()).is_empty(),
            "placed at {placed_at}"
        );
    }
}

#[test]
fn spend_threshold_sees_the_subtotal_after_line_discounts() {
    // Listed first, evaluated second: 10% off ¥11,000 leaves ¥9,900 < ¥10,000.
    let json = format!(
        r#"{{"promotions": [{SPEND}, {{"id": "ten", "kind": {{"type": "percent_off", "percent_bp": 1000}}}}]}}"#
    );
    let adjustments = apply(&json, input(&[("BJ-500", 11, 1000)]));
    assert_eq!(summary(&adjustments), pairs(&[("ten", "L1:110000")]));
    let adjustments = apply(&json, input(&[("BJ-500", 12, 1000)]));
    assert_eq!(
        summary(&adjustments),
        pairs(&[("ten", "L1:120000"), ("spend-10k", "O:80000")])
    );
}

#[test]
fn exclusive_group_keeps_the_best_for_the_dealer() {
    let json = r#"{"promotions": [
        {"id": "five", "group": "autumn", "kind": {"type": "percent_off", "percent_bp": 500}},
        {"id": "spend", "group": "autumn", "kind": {"type": "spend_threshold", "threshold": 1000000, "off": 80000}},
        {"id": "gift", "group": "autumn", "kind": {"type": "buy_n_get_m", "buy": 12, "get": 1}},
        {"id": "other", "kind": {"type": "buy_n_get_m", "buy": 6, "get": 1, "gift_sku": "GIFT"}}]}"#;
    // ¥12,000: 5% = ¥600, 满减 = ¥800, 1 free case = ¥1,000.
    let adjustments = apply(json, input(&[("BJ-500", 12, 1000)]));
    assert_eq!(
        summary(&adjustments),
        pairs(&[("gift", "FBJ-500:1"), ("other", "FGIFT:2")])
    );
    // ¥24,000: 5% = ¥1,200 and 满减 ¥800 lose to one free case at ¥2,000.
    let adjustments = apply(json, input(&[("BJ-500", 12, 2000)]));
    assert_eq!(summary(&adjustments)[0].0, "gift");
    // 11 cases: no free case; 5% of ¥22,000 = ¥1,100 beats ¥800.
    let adjustments = apply(json, input(&[("BJ-500", 11, 2000)]));
    assert_eq!(
        summary(&adjustments),
        pairs(&[("five", "L1:110000"), ("other", "FGIFT:1")])
    );
}

#[test]
fn group_ties_go_to_the_first_listed() {
    let json = r#"{"promotions": [
        {"id": "b", "group": "g", "kind": {"type": "percent_off", "percent_bp": 800}},
        {"id": "a", "group": "g", "kind": {"type": "spend_threshold", "threshold": 500000, "off": 80000}}]}"#;
    let adjustments = apply(json, input(&[("BJ-500", 10, 1000)]));
    assert_eq!(summary(&adjustments), pairs(&[("b", "L1:80000")]));
}

#[test]
fn filters_by_sku_category_and_tier() {
    let json = r#"{"promotions": [
        {"id": "wine", "categories": ["wine"], "kind": {"type": "percent_off", "percent_bp": 1000}},
        {"id": "strategic", "tiers": ["strategic"], "kind": {"type": "percent_off", "percent_bp": 1000}},
        {"id": "core-bj", "tiers": ["core", "standard"], "skus": ["BJ-500"],
         "kind": {"type": "spend_threshold", "threshold": 300000, "off": 10000}}]}"#;
    let mut order = input(&[
        ("BJ-500", 2, 1000),
        ("WINE-750", 10, 100),
        ("UNKNOWN", 1, 100),
    ]);
    // The ¥1,000 of wine does not count towards the BJ-500 threshold.
    assert_eq!(
        summary(&apply(json, order.clone())),
        pairs(&[("wine", "L2:10000")])
    );
    order.lines[0].quantity = 3;
    order.lines[0].amount = 300_000;
    order.dealer.tier = DealerTier::Strategic;
    let got = summary(&apply(json, order));
    assert_eq!(
        got,
        pairs(&[
            ("wine", "L2:10000"),
            ("strategic", "L1:30000"),
            ("strategic", "L2:9000"),
            ("strategic", "L3:1000")
        ])
    );
}

#[test]
fn discounts_never_take_the_order_below_zero() {
    let json = r#"{"promotions": [
        {"id": "a", "kind": {"type": "percent_off", "percent_bp": 9000}},
        {"id": "b", "kind": {"type": "percent_off", "percent_bp": 9000}},
        {"id": "s1", "kind": {"type": "spend_threshold", "threshold": 100, "off": 99, "repeat": true}},
        {"id": "s2", "kind": {"type": "spend_threshold", "threshold": 100, "off": 99, "repeat": true}}]}"#;
    let order = input(&[("BJ-500", 1, 1000)]);
    let adjustments = apply(json, order.clone());
    // ¥1,000 → ¥100 → ¥10; s1 wants 10 × ¥0.99 = ¥9.90; s2 gets the ¥0.10 left.
    assert_eq!(
        summary(&adjustments),
        pairs(&[
            ("a", "L1:90000"),
            ("b", "L1:9000"),
            ("s1", "O:990"),
            ("s2", "O:10")
        ])
    );
    assert!(
        adjustments[3]
            .description
            .ends_with("capped at the ¥0.10 that remains")
    );
    let off: i64 = adjustments
        .iter()
        .map(|a| match &a.kind {
            AdjustmentKind::LineDiscount(d) => d.amount,
            AdjustmentKind::OrderDiscount(o) => *o,
            AdjustmentKind::FreeGoods(_) => 0,
        })
        .sum();
    assert_eq!(order.subtotal - off, 0);
    // Deterministic: the same input gives the same adjustments.
    assert_eq!(summary(&apply(json, order.clone())), summary(&adjustments));
}

#[test]
fn empty_config_gives_nothing() {
    assert!(apply("", input(&[("BJ-500", 100, 1000)])).is_empty());
}

#[test]
fn rejects_bad_configs_with_paths() {
    let errors = chanhost_sdk::parse_config::<Promotions>(
        r#"{"promotions": [
            {"id": "x", "starts_at": 5, "ends_at": 5, "kind": {"type": "spend_threshold", "threshold": 1000, "off": 1000}},
            {"id": "x", "group": "", "kind": {"type": "percent_off", "percent_bp": 0}},
            {"id": "", "skus": [""], "kind": {"type": "buy_n_get_m", "buy": 0, "get": 0, "gift_sku": ""}},
            {"id": "y", "kind": {"type": "percent_off", "percent_bp": 9001}},
            {"id": "z", "kind": {"type": "spend_threshold", "threshold": 0, "off": -1}}]}"#,
    )
    .unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/promotions/0/ends_at",
            "/promotions/0/kind/off",
            "/promotions/1/id",
            "/promotions/1/group",
            "/promotions/1/kind/percent_bp",
            "/promotions/2/id",
            "/promotions/2/skus/0",
            "/promotions/2/kind/buy",
            "/promotions/2/kind/get",
            "/promotions/2/kind/gift_sku",
            "/promotions/3/kind/percent_bp",
            "/promotions/4/kind/threshold",
            "/promotions/4/kind/off",
        ]
    );
    assert!(
        errors[2].message.contains("duplicate promotion id `x`"),
        "{}",
        errors[2].message
    );

    for bad in [
        r#"{"promotions": [{"id": "a", "kind": {"type": "coupon"}}]}"#,
        r#"{"promotions": [{"id": "a", "kind": {"type": "percent_off", "percent_bp": 5, "extra": 1}}]}"#,
        r#"{"promotions": [{"id": "a", "colour": "red", "kind": {"type": "percent_off", "percent_bp": 5}}]}"#,
        r#"{"promotions": [{"id": "a", "tiers": ["gold"], "kind": {"type": "percent_off", "percent_bp": 5}}]}"#,
    ] {
        let errors = chanhost_sdk::parse_config::<Promotions>(bad).unwrap_err();
        assert!(
            errors[0].path.starts_with("/promotions/0"),
            "{bad}: {errors:?}"
        );
    }
}

#[test]
fn percent_formatting() {
    assert_eq!(
        (percent(500), percent(1250), percent(5), percent(9000)),
        ("5%".into(), "12.5%".into(), "0.05%".into(), "90%".into())
    );
}

#[test]
fn schema_describes_the_three_kinds() {
    let schema = chanhost_sdk::serde_json::to_string(&schemars::schema_for!(Config)).unwrap();
    for name in [
        "spend_threshold",
        "buy_n_get_m",
        "percent_off",
        "percent_bp",
        "gift_sku",
        "starts_at",
    ] {
        assert!(schema.contains(name), "{name} missing from {schema}");
    }
}
