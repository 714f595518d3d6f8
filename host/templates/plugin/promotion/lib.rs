//! {{name}}: a chanhost promotion plugin.
//!
//! A spend threshold (满减): when the order's spend on the configured
//! product categories reaches `threshold`, `off` comes off the order; with
//! `repeat`, `off` again for every full `threshold` (满5000减300 gives ¥600
//! off ¥10,000). The adjustment is tagged with the configured promotion id.
//!
//! A region configures it in its `config` table (every field is optional):
//!
//! ```toml
//! promotion_id = "gd-baijiu-5000"
//! threshold = 500000          # fen: ¥5,000.00
//! off = 30000                 # fen: ¥300.00
//! repeat = false
//! categories = ["baijiu"]     # empty: every line counts
//! ```
//!
//! Money is integer fen (`Fen`, 1 yuan = 100 fen): use `chanhost_sdk::money`,
//! never floats. The answer may depend only on the configuration and the
//! input (no clock, no randomness, nothing kept between calls), so that a
//! replayed order gets the same promotions.

use chanhost_sdk::log::{debug, info};
use chanhost_sdk::money::yuan;
use chanhost_sdk::promotion::{Adjustment, AdjustmentKind, Promotion, PromotionInput};
use chanhost_sdk::{ConfigError, Fen, Plugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;

// The configuration a region gives the plugin, as JSON. Its JSON Schema,
// derived from this type and its doc comments (`///`), is what `chanhost
// plugin check` shows and what a region's configuration is checked against.
/// The spend threshold: what counts, what it takes, what it gives.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Tags the adjustment this promotion gives (the order's trace and the
    /// dealer's invoice show it).
    pub promotion_id: String,
    /// Spend on eligible lines (fen) that earns the discount.
    pub threshold: Fen,
    /// Money off the order (fen) when the threshold is reached; less than
    /// the threshold.
    pub off: Fen,
    /// Give `off` once per full `threshold` rather than once.
    pub repeat: bool,
    /// Only lines of these product categories count toward the threshold
    /// (empty: every line).
    pub categories: Vec<String>,
}

impl Default for Config {
    /// 满5000减300 on the whole order.
    fn default() -> Self {
        Config {
            promotion_id: "spend-threshold".into(),
            threshold: 500_000,
            off: 30_000,
            repeat: false,
            categories: Vec::new(),
        }
    }
}

/// The plugin: the SDK calls its `Promotion::apply` for every priced order.
pub struct SpendThreshold;

impl Plugin for SpendThreshold {
    type Config = Config;
    // The package's name and version in Cargo.toml: one place to bump.
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "A fixed amount off orders whose spend on chosen categories reaches a threshold.";

    /// Checks what the types cannot say; every problem with its path.
    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if config.promotion_id.trim().is_empty() {
            errors.push(ConfigError::new("/promotion_id", "must not be empty"));
        }
        if config.threshold <= 0 {
            errors.push(ConfigError::new(
                "/threshold",
                format!("must be positive, got {}", config.threshold),
            ));
        }
        // Below the threshold, the discount can never exceed the spend
        // that earned it: no order goes below zero.
        if config.off <= 0 || config.off >= config.threshold {
            errors.push(ConfigError::new(
                "/off",
                format!(
                    "must be positive and less than the threshold {}, got {}",
                    yuan(config.threshold),
                    yuan(config.off)
                ),
            ));
        }
        for (i, category) in config.categories.iter().enumerate() {
            if category.trim().is_empty() {
                errors.push(ConfigError::new(
                    format!("/categories/{i}"),
                    "must not be empty",
                ));
            }
        }
        errors
    }
}

impl Promotion for SpendThreshold {
    fn apply(config: &Config, input: PromotionInput) -> Result<Vec<Adjustment>, PluginError> {
        let mut eligible: Fen = 0;
        for line in &input.lines {
            // A line refers to its product by index.
            let product = input.products.get(line.product as usize).ok_or_else(|| {
                PluginError::new(
                    "no-product",
                    format!("line {} has no catalogue entry", line.line_no),
                )
            })?;
            if config.categories.is_empty() || config.categories.contains(&product.category) {
                eligible = eligible.saturating_add(line.amount);
            }
        }
        if eligible < config.threshold {
            debug(&format!(
                "{}: {} spent on eligible lines, below {}",
                config.promotion_id,
                yuan(eligible),
                yuan(config.threshold)
            ));
            return Ok(Vec::new());
        }

        let times = if config.repeat {
            eligible / config.threshold
        } else {
            1
        };
        let off = config.off.saturating_mul(times);
        let reached = if times == 1 {
            yuan(config.threshold)
        } else {
            format!("{times} × {}", yuan(config.threshold))
        };
        let description = format!(
            "{} spent on eligible lines reaches {reached}: {} off",
            yuan(eligible),
            yuan(off)
        );
        info(&format!("{}: {description}", config.promotion_id));
        Ok(vec![Adjustment {
            promotion_id: config.promotion_id.clone(),
            kind: AdjustmentKind::OrderDiscount(off),
            description,
        }])
    }
}

// The component's exports; on a native build (`cargo test`) this expands to
// nothing.
chanhost_sdk::export_promotion!(SpendThreshold);

#[cfg(test)]
mod tests {
    use super::*;
    use chanhost_sdk::promotion::PricedOrderLine;
    use chanhost_sdk::testing;

    /// An order of `lines` (SKU, cases, unit price); SKUs starting with
    /// `BJ` are baijiu, the others wine.
    fn input(lines: &[(&str, u32, Fen)]) -> PromotionInput {
        let cases: Vec<(&str, u32)> = lines.iter().map(|(sku, n, _)| (*sku, *n)).collect();
        let order = testing::order(&cases);
        let products = testing::products_for(&cases, |sku| {
            let category = if sku.starts_with("BJ") {
                "baijiu"
            } else {
                "wine"
            };
            testing::product(sku, category, 100_000)
        });
        let priced: Vec<PricedOrderLine> = order
            .lines
            .iter()
            .zip(lines)
            .map(|(line, (_, quantity, unit_price))| PricedOrderLine {
                line_no: line.line_no,
                product: line.product,
                quantity: *quantity,
                unit_price: *unit_price,
                amount: unit_price * Fen::from(*quantity),
            })
            .collect();
        PromotionInput {
            subtotal: priced.iter().map(|line| line.amount).sum(),
            order,
            dealer: testing::dealer(),
            products,
            lines: priced,
            near_expiry_lots: Vec::new(),
        }
    }

    /// Parsed and validated as the host does it.
    fn config(json: &str) -> Config {
        chanhost_sdk::parse_config::<SpendThreshold>(json).expect("a valid configuration")
    }

    fn order_discount(adjustments: &[Adjustment]) -> Option<Fen> {
        match adjustments {
            [] => None,
            [
                Adjustment {
                    kind: AdjustmentKind::OrderDiscount(off),
                    ..
                },
            ] => Some(*off),
            other => panic!("expected one order discount, got {other:?}"),
        }
    }

    #[test]
    fn reaching_the_threshold_takes_off_the_amount() {
        let adjustments =
            SpendThreshold::apply(&config("{}"), input(&[("BJ-001", 5, 100_000)])).unwrap();
        assert_eq!(order_discount(&adjustments), Some(30_000));
        assert_eq!(adjustments[0].promotion_id, "spend-threshold");
        assert_eq!(
            adjustments[0].description,
            "¥5,000.00 spent on eligible lines reaches ¥5,000.00: ¥300.00 off"
        );
    }

    #[test]
    fn below_the_threshold_gives_nothing() {
        let adjustments =
            SpendThreshold::apply(&config("{}"), input(&[("BJ-001", 4, 100_000)])).unwrap();
        assert_eq!(order_discount(&adjustments), None);
    }

    #[test]
    fn only_the_configured_categories_count() {
        let config = config(r#"{"categories": ["baijiu"]}"#);
        let order = input(&[("BJ-001", 3, 100_000), ("WN-001", 3, 100_000)]);
        assert_eq!(
            order_discount(&SpendThreshold::apply(&config, order).unwrap()),
            None
        );
    }

    #[test]
    fn repeat_gives_the_amount_per_full_threshold() {
        let config = config(r#"{"repeat": true}"#);
        let adjustments =
            SpendThreshold::apply(&config, input(&[("BJ-001", 12, 100_000)])).unwrap();
        assert_eq!(order_discount(&adjustments), Some(60_000));
        assert!(adjustments[0].description.contains("2 × ¥5,000.00"));
    }

    #[test]
    fn a_bad_configuration_is_refused_with_every_problem() {
        let errors = chanhost_sdk::parse_config::<SpendThreshold>(
            r#"{"threshold": 100000, "off": 100000, "categories": [""]}"#,
        )
        .unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/off", "/categories/0"]);
    }
}
