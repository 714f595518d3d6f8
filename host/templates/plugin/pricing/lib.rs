//! {{name}}: a chanhost pricing plugin.
//!
//! Every order line is priced at the region's price (HQ's base price with
//! the region's adjustment) plus a markup the region configures, rounded to
//! whole yuan if asked, and kept inside HQ's band (`floor..=ceiling`). Each
//! line's explanation says how its price was reached.
//!
//! A region configures it in its `config` table (every field is optional):
//!
//! ```toml
//! markup_bp = 150        # +1.5% on the regional price
//! round_to_yuan = true   # ¥1,205.82 → ¥1,206.00
//! ```
//!
//! Money is integer fen (`Fen`, 1 yuan = 100 fen) and rates are basis points
//! (10000 = 100%): use `chanhost_sdk::money`, never floats. The answer may
//! depend only on the configuration and the input (no clock, no randomness,
//! nothing kept between calls), so that a replayed order gets the same price.

use chanhost_sdk::log::info;
use chanhost_sdk::money::{apply_bp, yuan};
use chanhost_sdk::pricing::{PricedLine, Pricing, PricingInput};
use chanhost_sdk::{ConfigError, Fen, Plugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;

// The configuration a region gives the plugin, as JSON. Its JSON Schema,
// derived from this type and its doc comments (`///`), is what `chanhost
// plugin check` shows and what a region's configuration is checked against.
/// How much to add to the region's price.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Markup on the regional price in basis points (150 = +1.5%, -200 =
    /// 2% off), from -5000 to 5000.
    pub markup_bp: i32,
    /// Round each unit price to whole yuan (half up) before keeping it in
    /// HQ's band.
    pub round_to_yuan: bool,
}

/// The largest markup either way, in basis points.
const MAX_MARKUP_BP: i32 = 5_000;

/// The plugin: the SDK calls its `Pricing::price` for every order.
pub struct MarkupPricing;

impl Plugin for MarkupPricing {
    type Config = Config;
    // The package's name and version in Cargo.toml: one place to bump.
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "The region's price plus a configured markup, kept inside HQ's band.";

    /// Checks what the types cannot say; every problem with its path.
    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !(-MAX_MARKUP_BP..=MAX_MARKUP_BP).contains(&config.markup_bp) {
            errors.push(ConfigError::new(
                "/markup_bp",
                format!(
                    "must be from -{MAX_MARKUP_BP} to {MAX_MARKUP_BP} basis points, got {}",
                    config.markup_bp
                ),
            ));
        }
        errors
    }
}

impl Pricing for MarkupPricing {
    fn price(config: &Config, input: PricingInput) -> Result<Vec<PricedLine>, PluginError> {
        let lines = input
            .order
            .lines
            .iter()
            .map(|line| {
                // A line refers to its SKU's price context by index.
                let context = input.prices.get(line.product as usize).ok_or_else(|| {
                    PluginError::new(
                        "no-price",
                        format!("line {} has no price context", line.line_no),
                    )
                })?;
                let regional = apply_bp(context.base_price, context.region_adjustment_bp);
                let marked_up = apply_bp(regional, config.markup_bp);
                let mut explanation = format!(
                    "base {}, region {:+} bp → {}; markup {:+} bp → {}",
                    yuan(context.base_price),
                    context.region_adjustment_bp,
                    yuan(regional),
                    config.markup_bp,
                    yuan(marked_up)
                );
                let mut unit_price = marked_up;
                if config.round_to_yuan {
                    unit_price = round_to_yuan(unit_price);
                    explanation.push_str(&format!("; rounded → {}", yuan(unit_price)));
                }
                // HQ's guardrails refuse a price outside the band: a plugin
                // that left it would fault and the order would be rejected.
                if unit_price > context.ceiling {
                    unit_price = context.ceiling;
                    explanation.push_str(&format!("; capped at HQ ceiling {}", yuan(unit_price)));
                } else if unit_price < context.floor {
                    unit_price = context.floor;
                    explanation.push_str(&format!("; raised to HQ floor {}", yuan(unit_price)));
                }
                Ok(PricedLine {
                    line_no: line.line_no,
                    unit_price,
                    explanation,
                })
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        // Log lines go into the order's decision trace.
        info(&format!(
            "lines priced: {}, markup {:+} bp",
            lines.len(),
            config.markup_bp
        ));
        Ok(lines)
    }
}

/// To the nearest whole yuan, halves up.
fn round_to_yuan(amount: Fen) -> Fen {
    (amount + 50).div_euclid(100) * 100
}

// The component's exports; on a native build (`cargo test`) this expands to
// nothing.
chanhost_sdk::export_pricing!(MarkupPricing);

#[cfg(test)]
mod tests {
    use super::*;
    use chanhost_sdk::pricing::PriceContext;
    use chanhost_sdk::testing;

    /// One line of `quantity` cases of BJ-001: base ¥1,000.00, the region's
    /// adjustment `region_bp`, HQ's band ±10%.
    fn input(quantity: u32, region_bp: i32) -> PricingInput {
        PricingInput {
            order: testing::order(&[("BJ-001", quantity)]),
            dealer: testing::dealer(),
            prices: vec![PriceContext {
                sku: "BJ-001".into(),
                base_price: 100_000,
                region_adjustment_bp: region_bp,
                floor: 90_000,
                ceiling: 110_000,
            }],
        }
    }

    /// Parsed and validated as the host does it.
    fn config(json: &str) -> Config {
        chanhost_sdk::parse_config::<MarkupPricing>(json).expect("a valid configuration")
    }

    #[test]
    fn markup_goes_on_the_regional_price() {
        let lines =
            MarkupPricing::price(&config(r#"{"markup_bp": 150}"#), input(10, -200)).unwrap();
        // ¥1,000.00 - 2% = ¥980.00, + 1.5% = ¥994.70
        assert_eq!(lines[0].line_no, 1);
        assert_eq!(lines[0].unit_price, 99_470);
        assert_eq!(
            lines[0].explanation,
            "base ¥1,000.00, region -200 bp → ¥980.00; markup +150 bp → ¥994.70"
        );
    }

    #[test]
    fn no_configuration_means_the_regional_price() {
        let lines = MarkupPricing::price(&config("{}"), input(10, 300)).unwrap();
        assert_eq!(lines[0].unit_price, 103_000);
    }

    #[test]
    fn rounds_to_whole_yuan_when_asked() {
        let config = config(r#"{"markup_bp": 150, "round_to_yuan": true}"#);
        let lines = MarkupPricing::price(&config, input(10, -200)).unwrap();
        assert_eq!(lines[0].unit_price, 99_500);
        assert!(lines[0].explanation.ends_with("; rounded → ¥995.00"));
    }

    #[test]
    fn stays_inside_hqs_band() {
        let high = MarkupPricing::price(&config(r#"{"markup_bp": 2000}"#), input(1, 0)).unwrap();
        assert_eq!(high[0].unit_price, 110_000);
        let low = MarkupPricing::price(&config(r#"{"markup_bp": -2000}"#), input(1, 0)).unwrap();
        assert_eq!(low[0].unit_price, 90_000);
        assert!(low[0].explanation.ends_with("; raised to HQ floor ¥900.00"));
    }

    #[test]
    fn logs_what_it_did() {
        chanhost_sdk::log::take();
        MarkupPricing::price(&config(r#"{"markup_bp": 150}"#), input(1, 0)).unwrap();
        let lines = chanhost_sdk::log::take();
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].ends_with("lines priced: 1, markup +150 bp"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_line_without_its_price_context_is_an_error() {
        let mut input = input(1, 0);
        input.prices.clear();
        let err = MarkupPricing::price(&config("{}"), input).unwrap_err();
        assert_eq!(err.code, "no-price");
    }

    #[test]
    fn a_bad_configuration_is_refused_with_its_path() {
        let errors =
            chanhost_sdk::parse_config::<MarkupPricing>(r#"{"markup_bp": 9000}"#).unwrap_err();
        assert_eq!(errors[0].path, "/markup_bp");
        let errors = chanhost_sdk::parse_config::<MarkupPricing>(r#"{"markup": 150}"#).unwrap_err();
        assert!(errors[0].message.contains("unknown field `markup`"));
    }
}
