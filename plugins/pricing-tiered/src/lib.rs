//! Tiered pricing: HQ base price → the region's adjustment → the dealer
//! tier's discount → the best quantity break, kept inside HQ's band.

use chanhost_sdk::money::{apply_bp, push_yuan};
use chanhost_sdk::pricing::{PricedLine, Pricing, PricingInput};
use chanhost_sdk::text::push_int;
use chanhost_sdk::{ConfigError, DealerTier, Plugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;

/// Discounts per dealer tier, in basis points off the regional price.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TierDiscounts {
    pub strategic: i32,
    pub core: i32,
    pub standard: i32,
}

impl Default for TierDiscounts {
    fn default() -> Self {
        TierDiscounts {
            strategic: 600,
            core: 300,
            standard: 0,
        }
    }
}

/// From `min_cases` cases on one line, a further `discount_bp` off.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityBreak {
    pub min_cases: u32,
    pub discount_bp: i32,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub tier_discount_bp: TierDiscounts,
    pub quantity_breaks: Vec<QuantityBreak>,
}

pub struct TieredPricing;

impl Plugin for TieredPricing {
    type Config = Config;
    const NAME: &'static str = "pricing-tiered";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str =
        "Regional price, then tier discount, then the best quantity break, inside HQ's band.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let tiers = &config.tier_discount_bp;
        for (name, bp) in [
            ("strategic", tiers.strategic),
            ("core", tiers.core),
            ("standard", tiers.standard),
        ] {
            if !(0..=5_000).contains(&bp) {
                errors.push(ConfigError::new(
                    format!("/tier_discount_bp/{name}"),
                    format!("tier discount must be 0..=5000 basis points, got {bp}"),
                ));
            }
        }
        for (i, brk) in config.quantity_breaks.iter().enumerate() {
            if !(0..=5_000).contains(&brk.discount_bp) {
                errors.push(ConfigError::new(
                    format!("/quantity_breaks/{i}/discount_bp"),
                    format!(
                        "discount must be 0..=5000 basis points, got {}",
                        brk.discount_bp
                    ),
                ));
            }
            if brk.min_cases == 0 {
                errors.push(ConfigError::new(
                    format!("/quantity_breaks/{i}/min_cases"),
                    "must be at least 1",
                ));
            }
            if i > 0 && brk.min_cases <= config.quantity_breaks[i - 1].min_cases {
                errors.push(ConfigError::new(
                    format!("/quantity_breaks/{i}/min_cases"),
                    "quantity breaks must be in increasing order of min_cases",
                ));
            }
        }
        errors
    }
}

impl Pricing for TieredPricing {
    fn price(config: &Config, input: PricingInput) -> Result<Vec<PricedLine>, PluginError> {
        let (tier, tier_bp) = match input.dealer.tier {
            DealerTier::Strategic => ("strategic", config.tier_discount_bp.strategic),
            DealerTier::Core => ("core", config.tier_discount_bp.core),
            DealerTier::Standard => ("standard", config.tier_discount_bp.standard),
        };
        input
            .order
            .lines
            .iter()
            .map(|line| {
                let ctx = input.prices.get(line.product as usize).ok_or_else(|| {
                    PluginError::new(
                        "no-price",
                        format!("no price context for line {}", line.line_no),
                    )
                })?;
                let regional = apply_bp(ctx.base_price, ctx.region_adjustment_bp);
                let mut price = apply_bp(regional, -tier_bp);
                // Built piece by piece: one explanation per line, and the
                // formatting machinery would cost more than the pricing.
                let mut why = String::with_capacity(128);
                why.push_str("base ");
                push_yuan(&mut why, ctx.base_price);
                why.push_str(" → regional ");
                push_yuan(&mut why, regional);
                why.push_str(" (");
                if ctx.region_adjustment_bp >= 0 {
                    why.push('+');
                }
                push_int(&mut why, ctx.region_adjustment_bp);
                why.push_str(" bp) → ");
                why.push_str(tier);
                why.push_str(" tier ");
                push_yuan(&mut why, price);
                why.push_str(" (−");
                push_int(&mut why, tier_bp);
                why.push_str(" bp)");
                let best_break = config
                    .quantity_breaks
                    .iter()
                    .rev()
                    .find(|b| line.quantity >= b.min_cases);
                if let Some(brk) = best_break {
                    price = apply_bp(price, -brk.discount_bp);
                    why.push_str(" → ≥");
                    push_int(&mut why, brk.min_cases);
                    why.push_str(" cases ");
                    push_yuan(&mut why, price);
                    why.push_str(" (−");
                    push_int(&mut why, brk.discount_bp);
                    why.push_str(" bp)");
                }
                if price < ctx.floor {
                    price = ctx.floor;
                    why.push_str(" → raised to HQ floor ");
                    push_yuan(&mut why, price);
                } else if price > ctx.ceiling {
                    price = ctx.ceiling;
                    why.push_str(" → lowered to HQ ceiling ");
                    push_yuan(&mut why, price);
                }
                Ok(PricedLine {
                    line_no: line.line_no,
                    unit_price: price,
                    explanation: why,
                })
            })
            .collect()
    }
}

chanhost_sdk::export_pricing!(TieredPricing);

#[cfg(test)]
mod tests {
    use super::*;
    use chanhost_sdk::pricing::PriceContext;
    use chanhost_sdk::{Dealer, testing};

    fn input(tier: DealerTier, quantity: u32, adjustment_bp: i32) -> PricingInput {
        PricingInput {
            order: testing::order(&[("BJ-500", quantity)]),
            dealer: Dealer {
                tier,
                ..testing::dealer()
            },
            prices: vec![PriceContext {
                sku: "BJ-500".into(),
                base_price: 100_000,
                region_adjustment_bp: adjustment_bp,
                floor: 90_000,
                ceiling: 110_000,
            }],
        }
    }

    fn config() -> Config {
        chanhost_sdk::parse_config::<TieredPricing>(
            r#"{"quantity_breaks":[{"min_cases":50,"discount_bp":200},{"min_cases":100,"discount_bp":400}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn regional_then_tier_then_break() {
        let lines = TieredPricing::price(&config(), input(DealerTier::Core, 60, 500)).unwrap();
        // 1000.00 +5% = 1050.00, core −3% = 1018.50, ≥50 cases −2% = 998.13
        assert_eq!(lines[0].unit_price, 99_813);
        assert!(
            lines[0].explanation.contains("≥50 cases"),
            "{}",
            lines[0].explanation
        );
    }

    #[test]
    fn standard_tier_small_order_pays_regional_price() {
        let lines = TieredPricing::price(&config(), input(DealerTier::Standard, 5, -300)).unwrap();
        assert_eq!(lines[0].unit_price, 97_000);
    }

    #[test]
    fn never_leaves_the_hq_band() {
        let lines =
            TieredPricing::price(&config(), input(DealerTier::Strategic, 500, -1000)).unwrap();
        assert_eq!(lines[0].unit_price, 90_000);
        assert!(lines[0].explanation.contains("HQ floor"));
    }

    #[test]
    fn explains_every_step() {
        let lines = TieredPricing::price(&config(), input(DealerTier::Core, 60, 500)).unwrap();
        assert_eq!(
            lines[0].explanation,
            "base ¥1,000.00 → regional ¥1,050.00 (+500 bp) → core tier ¥1,018.50 (−300 bp) → ≥50 cases ¥998.13 (−200 bp)"
        );
        let lines =
            TieredPricing::price(&config(), input(DealerTier::Strategic, 500, -1000)).unwrap();
        assert_eq!(
            lines[0].explanation,
            "base ¥1,000.00 → regional ¥900.00 (-1000 bp) → strategic tier ¥846.00 (−600 bp) → ≥100 cases ¥812.16 (−400 bp) → raised to HQ floor ¥900.00"
        );
    }

    #[test]
    fn rejects_bad_configs_with_paths() {
        let errors = chanhost_sdk::parse_config::<TieredPricing>(
            r#"{"tier_discount_bp":{"core":9000},"quantity_breaks":[{"min_cases":10,"discount_bp":100},{"min_cases":5,"discount_bp":100}]}"#,
        )
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/tier_discount_bp/core", "/quantity_breaks/1/min_cases"]
        );

        let errors = chanhost_sdk::parse_config::<TieredPricing>(
            r#"{"quantity_breaks":[{"min_cases":"x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(errors[0].path, "/quantity_breaks/0/min_cases");
    }
}
