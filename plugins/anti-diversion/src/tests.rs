//! Native tests of the anti-diversion checks.

use super::*;
use chanhost_sdk::{Dealer, Order, Product, testing};

fn product(sku: &str, base_price: Fen, restricted: &[&str]) -> Product {
    Product {
        name: format!("{sku} name"),
        restricted_to_regions: restricted.iter().map(|r| r.to_string()).collect(),
        ..testing::product(sku, "baijiu", base_price)
    }
}

/// A clean order: dealer of r01 ordering 10 cases at ¥1,000 within its
/// territory, with room on its credit (and a usual order of 10 cases).
fn input() -> CheckInput {
    CheckInput {
        order: Order {
            ship_to: "r01-hz".into(),
            ..testing::order(&[("BJ-500", 10)])
        },
        dealer: Dealer {
            territory: vec!["r01".into(), "r01-hz".into()],
            credit_limit: 5_000_000,
            outstanding_balance: 1_000_000,
            ..testing::dealer()
        },
        products: vec![
            product("BJ-500", 100_000, &[]),
            product("BJ-SOUTH", 50_000, &["r03", "r04"]),
        ],
    }
}

fn check(json: &str, input: CheckInput) -> Verdict {
    let config = chanhost_sdk::parse_config::<AntiDiversionChecks>(json).unwrap();
    AntiDiversionChecks::check(&config, input).unwrap()
}

/// "allow", or "hold:code,code" / "reject:code,code".
fn outcome(verdict: &Verdict) -> String {
    let codes = |reasons: &[Reason]| {
        reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    match verdict {
        Verdict::Allow => "allow".into(),
        Verdict::Hold(r) => format!("hold:{}", codes(r)),
        Verdict::Reject(r) => format!("reject:{}", codes(r)),
    }
}

fn messages(verdict: &Verdict) -> Vec<String> {
    match verdict {
        Verdict::Allow => vec![],
        Verdict::Hold(r) | Verdict::Reject(r) => r.iter().map(|r| r.message.clone()).collect(),
    }
}

#[test]
fn clean_order_is_allowed() {
    assert_eq!(outcome(&check("", input())), "allow");
}

#[test]
fn dealer_of_another_region_is_rejected() {
    let mut input = input();
    input.order.region = "r02".into();
    let verdict = check("{}", input);
    assert_eq!(outcome(&verdict), "reject:dealer-region-mismatch");
    assert_eq!(
        messages(&verdict)[0],
        "dealer d1 belongs to region r01 but ordered from region r02"
    );
}

#[test]
fn region_restricted_skus_are_rejected_once_per_sku() {
    let mut input = input();
    input.order.lines = testing::order(&[("BJ-500", 10), ("BJ-SOUTH", 1), ("BJ-SOUTH", 1)]).lines;
    let verdict = check("{}", input.clone());
    assert_eq!(outcome(&verdict), "reject:region-restricted-sku");
    assert_eq!(
        messages(&verdict)[0],
        "SKU BJ-SOUTH (BJ-SOUTH name) is reserved for region(s) r03, r04; dealer d1 is in r01"
    );

    input.products[1].restricted_to_regions.push("r01".into());
    assert_eq!(outcome(&check("{}", input)), "allow");
}

#[test]
fn unknown_skus_are_rejected_by_default() {
    let mut input = input();
    // A line whose product is not among the input's products.
    input.order.lines[0].product = 7;
    assert_eq!(outcome(&check("{}", input.clone())), "reject:unknown-sku");
    assert_eq!(
        outcome(&check(r#"{"actions": {"unknown-sku": "allow"}}"#, input)),
        "allow"
    );
}

#[test]
fn ship_to_outside_territory_rejects_or_holds() {
    let mut input = input();
    input.order.ship_to = "r02".into();
    let verdict = check("{}", input.clone());
    assert_eq!(outcome(&verdict), "reject:ship-to-outside-territory");
    assert_eq!(
        messages(&verdict)[0],
        "ship-to r02 is outside dealer d1's territory (r01, r01-hz)"
    );
    let verdict = check(
        r#"{"actions": {"ship-to-outside-territory": "hold"}}"#,
        input,
    );
    assert_eq!(outcome(&verdict), "hold:ship-to-outside-territory");
}

#[test]
fn credit_limit_is_estimated_at_base_prices() {
    let mut input = input();
    // ¥10,000 outstanding + 40 cases × ¥1,000 = ¥50,000: exactly the limit.
    input.order.lines[0].quantity = 40;
    input.dealer.usual_order_cases = 100;
    assert_eq!(outcome(&check("{}", input.clone())), "allow");

    input.order.lines[0].quantity = 41;
    let verdict = check("{}", input.clone());
    assert_eq!(outcome(&verdict), "hold:credit-limit");
    assert_eq!(
        messages(&verdict)[0],
        "outstanding ¥10,000.00 + this order ≈ ¥41,000.00 (at base prices) exceeds the credit limit ¥50,000.00 by ¥1,000.00"
    );
    assert_eq!(
        outcome(&check(
            r#"{"actions": {"credit-limit": "reject"}}"#,
            input.clone()
        )),
        "reject:credit-limit"
    );
    assert_eq!(
        outcome(&check(r#"{"actions": {"credit-limit": "ignore"}}"#, input)),
        "allow"
    );
}

#[test]
fn abnormal_total_quantity_is_held() {
    let mut input = input();
    input.dealer.credit_limit = i64::MAX;
    input.order.lines[0].quantity = 50; // exactly 5 × 10
    assert_eq!(outcome(&check("{}", input.clone())), "allow");
    input.order.lines[0].quantity = 100; // "10 typed as 100"
    let verdict = check("{}", input.clone());
    assert_eq!(outcome(&verdict), "hold:abnormal-quantity");
    assert_eq!(
        messages(&verdict)[0],
        "100 cases is more than 5× the dealer's usual 10 cases per order"
    );
    assert_eq!(
        outcome(&check(r#"{"abnormal_quantity_factor": 10}"#, input.clone())),
        "allow"
    );

    // No order history: nothing to compare with.
    input.dealer.usual_order_cases = 0;
    assert_eq!(outcome(&check("{}", input)), "allow");
}

#[test]
fn per_line_maximum_is_held() {
    let mut input = input();
    input.dealer.usual_order_cases = 1_000;
    input.dealer.credit_limit = i64::MAX;
    input.order.lines = testing::order(&[("BJ-500", 10), ("BJ-500", 25), ("BJ-500", 30)]).lines;
    let verdict = check(r#"{"max_line_cases": 20}"#, input.clone());
    assert_eq!(
        outcome(&verdict),
        "hold:abnormal-quantity,abnormal-quantity"
    );
    assert_eq!(
        messages(&verdict)[1],
        "line 3: 30 cases of BJ-500 exceeds the per-line maximum of 20"
    );
    assert_eq!(outcome(&check("{}", input)), "allow");
}

#[test]
fn reject_lists_every_reject_reason_then_every_hold_reason() {
    let mut input = input();
    input.order.region = "r02".into();
    input.order.ship_to = "r09".into();
    input.order.lines = testing::order(&[("BJ-500", 1_000), ("BJ-SOUTH", 1)]).lines;
    let verdict = check("{}", input.clone());
    assert_eq!(
        outcome(&verdict),
        "reject:dealer-region-mismatch,region-restricted-sku,ship-to-outside-territory,credit-limit,abnormal-quantity"
    );

    let all_hold = r#"{"actions": {"dealer-region-mismatch": "hold", "region-restricted-sku": "hold",
        "ship-to-outside-territory": "allow"}}"#;
    assert_eq!(
        outcome(&check(all_hold, input)),
        "hold:dealer-region-mismatch,region-restricted-sku,credit-limit,abnormal-quantity"
    );
}

#[test]
fn config_defaults_and_errors_with_paths() {
    let config = chanhost_sdk::parse_config::<AntiDiversionChecks>("{}").unwrap();
    assert_eq!(config.abnormal_quantity_factor, 5);
    assert_eq!(config.actions.credit_limit, Action::Hold);
    assert_eq!(config.actions.ship_to_outside_territory, Action::Reject);

    let errors = chanhost_sdk::parse_config::<AntiDiversionChecks>(
        r#"{"abnormal_quantity_factor": 0, "max_line_cases": 0}"#,
    )
    .unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/abnormal_quantity_factor", "/max_line_cases"]);

    let errors = chanhost_sdk::parse_config::<AntiDiversionChecks>(
        r#"{"actions": {"credit-limit": "shout"}}"#,
    )
    .unwrap_err();
    assert_eq!(errors[0].path, "/actions/credit-limit");
    let errors = chanhost_sdk::parse_config::<AntiDiversionChecks>(
        r#"{"actions": {"price-floor": "hold"}}"#,
    )
    .unwrap_err();
    assert!(errors[0].path.starts_with("/actions"), "{errors:?}");
}
