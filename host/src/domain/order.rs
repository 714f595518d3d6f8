//! Orders and the dealers who place them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Fen, TimestampMs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealerTier {
    Strategic,
    Core,
    Standard,
}

/// Who places the order; drives supply priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerClass {
    Dealer,
    KeyAccount,
    Shop,
    Restaurant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    #[default]
    Spot,
    Presale,
    Reservation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    #[default]
    Normal,
    Expedited,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dealer {
    pub id: String,
    pub region: String,
    pub tier: DealerTier,
    pub class: CustomerClass,
    /// Territory codes the dealer may ship to.
    pub territory: Vec<String>,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub credit_limit: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub outstanding_balance: Fen,
    /// Usual order size in cases.
    pub usual_order_cases: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub id: String,
    pub dealer_id: String,
    pub region: String,
    pub ship_to: String,
    #[serde(default)]
    pub order_type: OrderType,
    #[serde(default)]
    pub urgency: Urgency,
    /// When the order was placed; the only clock plugins see.
    pub placed_at: TimestampMs,
    pub lines: Vec<OrderLine>,
}

/// Why an order's shape is unacceptable before any policy looks at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OrderProblem {
    /// JSON pointer to the offending field, e.g. `/lines/2/quantity`.
    pub path: String,
    pub message: String,
}

impl Order {
    /// Most lines an order may have; bounds the work any plugin is given.
    pub const MAX_LINES: usize = 500;
    /// Most cases on one line.
    pub const MAX_LINE_QUANTITY: u32 = 1_000_000;

    /// Structural checks every order must pass: at least one line, line
    /// numbers unique, quantities positive and sane.
    pub fn problems(&self) -> Vec<OrderProblem> {
        let mut problems = Vec::new();
        let mut problem =
            |path: String, message: String| problems.push(OrderProblem { path, message });
        if self.id.trim().is_empty() {
            problem("/id".into(), "order id must not be empty".into());
        }
        if self.lines.is_empty() {
            problem("/lines".into(), "an order needs at least one line".into());
        }
        if self.lines.len() > Self::MAX_LINES {
            problem(
                "/lines".into(),
                format!("at most {} lines per order", Self::MAX_LINES),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, line) in self.lines.iter().enumerate() {
            if !seen.insert(line.line_no) {
                problem(
                    format!("/lines/{i}/line_no"),
                    format!("line number {} is repeated", line.line_no),
                );
            }
            if line.quantity == 0 {
                problem(
                    format!("/lines/{i}/quantity"),
                    "quantity must be at least 1".into(),
                );
            }
            if line.quantity > Self::MAX_LINE_QUANTITY {
                problem(
                    format!("/lines/{i}/quantity"),
                    format!(
                        "quantity {} exceeds {} cases",
                        line.quantity,
                        Self::MAX_LINE_QUANTITY
                    ),
                );
            }
            if line.sku.trim().is_empty() {
                problem(format!("/lines/{i}/sku"), "sku must not be empty".into());
            }
        }
        problems
    }

    /// Total cases ordered.
    pub fn total_cases(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lines: Vec<(u32, &str, u32)>) -> Order {
        Order {
            id: "o-1".into(),
            dealer_id: "d-1".into(),
            region: "r01".into(),
            ship_to: "r01".into(),
            order_type: OrderType::Spot,
            urgency: Urgency::Normal,
            placed_at: 0,
            lines: lines
                .into_iter()
                .map(|(line_no, sku, quantity)| OrderLine {
                    line_no,
                    sku: sku.into(),
                    quantity,
                })
                .collect(),
        }
    }

    #[test]
    fn a_sane_order_has_no_problems() {
        assert!(order(vec![(1, "A", 3), (2, "B", 1)]).problems().is_empty());
    }

    #[test]
    fn zero_quantity_repeated_line_and_empty_order_are_located() {
        let paths: Vec<_> = order(vec![(1, "A", 0), (1, "B", 2)])
            .problems()
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(paths, ["/lines/0/quantity", "/lines/1/line_no"]);
        assert_eq!(order(vec![]).problems()[0].path, "/lines");
    }

    #[test]
    fn negative_quantity_is_refused_by_the_type() {
        let json = r#"{"id":"o","dealer_id":"d","region":"r","ship_to":"r","placed_at":0,
                       "lines":[{"line_no":1,"sku":"A","quantity":-3}]}"#;
        let err = serde_json::from_str::<Order>(json).unwrap_err();
        assert!(err.to_string().contains("invalid value"), "{err}");
    }
}
