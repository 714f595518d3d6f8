//! 防窜货 anti-diversion checks before anything is reserved.
//!
//! Every check has a stable reason code, and the configuration maps each
//! code to an action (`allow`, `hold` or `reject`):
//!
//! | code                        | finds                                                  | default |
//! |-----------------------------|--------------------------------------------------------|---------|
//! | `dealer-region-mismatch`    | the dealer orders from another region's center         | reject  |
//! | `region-restricted-sku`     | a SKU reserved for regions other than the dealer's     | reject  |
//! | `unknown-sku`               | a SKU with no catalogue entry in the input             | reject  |
//! | `ship-to-outside-territory` | ship-to is not one of the dealer's territory codes     | reject  |
//! | `credit-limit`              | outstanding + order (at base prices) > credit limit    | hold    |
//! | `abnormal-quantity`         | total > usual × factor, or a line > `max_line_cases`   | hold    |
//!
//! The verdict is `reject` if any finding rejects (listing every reject
//! reason, then every hold reason), else `hold` with the hold reasons, else
//! `allow`.

use chanhost_sdk::anti_diversion::{AntiDiversion, CheckInput, Verdict};
use chanhost_sdk::log::{debug, info};
use chanhost_sdk::money::yuan;
use chanhost_sdk::{ConfigError, Fen, Plugin, PluginError, Product, Reason};
use schemars::JsonSchema;
use serde::Deserialize;

/// What a finding does to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Ignore the finding (it is still logged).
    #[serde(alias = "ignore")]
    Allow,
    /// Hold the order for a person to review.
    Hold,
    /// Reject the order.
    Reject,
}

/// The action per check, keyed by its reason code.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Actions {
    pub dealer_region_mismatch: Action,
    pub region_restricted_sku: Action,
    pub unknown_sku: Action,
    pub ship_to_outside_territory: Action,
    pub credit_limit: Action,
    pub abnormal_quantity: Action,
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            dealer_region_mismatch: Action::Reject,
            region_restricted_sku: Action::Reject,
            unknown_sku: Action::Reject,
            ship_to_outside_territory: Action::Reject,
            credit_limit: Action::Hold,
            abnormal_quantity: Action::Hold,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub actions: Actions,
    /// An order of more than this many times the dealer's usual cases is
    /// abnormal (the "100 typed as 1000" mistake).
    pub abnormal_quantity_factor: u32,
    /// A single line above this many cases is abnormal; none: no limit.
    pub max_line_cases: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            actions: Actions::default(),
            abnormal_quantity_factor: 5,
            max_line_cases: None,
        }
    }
}

pub struct AntiDiversionChecks;

impl Plugin for AntiDiversionChecks {
    type Config = Config;
    const NAME: &'static str = "anti-diversion";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Region, territory, credit and abnormal-quantity checks, each mapped to allow, hold or reject.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !(1..=1_000).contains(&config.abnormal_quantity_factor) {
            errors.push(ConfigError::new(
                "/abnormal_quantity_factor",
                format!("must be 1..=1000, got {}", config.abnormal_quantity_factor),
            ));
        }
        if config.max_line_cases == Some(0) {
            errors.push(ConfigError::new(
                "/max_line_cases",
                "must be at least 1 (leave it out for no limit)",
            ));
        }
        errors
    }
}

/// Findings so far, each with the action its check is configured for.
#[derive(Default)]
struct Findings(Vec<(Action, Reason)>);

impl Findings {
    fn add(&mut self, action: Action, code: &str, message: String) {
        debug(&format!("{code} ({action:?}): {message}"));
        if action != Action::Allow {
            self.0.push((action, Reason::new(code, message)));
        }
    }

    fn with(&self, action: Action) -> impl Iterator<Item = Reason> + '_ {
        self.0
            .iter()
            .filter(move |(a, _)| *a == action)
            .map(|(_, r)| r.clone())
    }
}

impl AntiDiversion for AntiDiversionChecks {
    fn check(config: &Config, input: CheckInput) -> Result<Verdict, PluginError> {
        let (order, dealer, actions) = (&input.order, &input.dealer, &config.actions);
        let mut found = Findings::default();

        if dealer.region != order.region {
            found.add(
                actions.dealer_region_mismatch,
                "dealer-region-mismatch",
                format!(
                    "dealer {} belongs to region {} but ordered from region {}",
                    dealer.id, dealer.region, order.region
                ),
            );
        }

        // Each line's catalogue entry, looked up once.
        let line_products: Vec<Option<&Product>> = order
            .lines
            .iter()
            .map(|line| input.products.get(line.product as usize))
            .collect();

        // One finding per distinct SKU, in order of first appearance.
        for (i, (line, product)) in order.lines.iter().zip(&line_products).enumerate() {
            if order.lines[..i].iter().any(|l| l.product == line.product) {
                continue;
            }
            match product {
                None => found.add(
                    actions.unknown_sku,
                    "unknown-sku",
                    format!(
                        "line {}: product {} is not in the catalogue input",
                        line.line_no, line.product
                    ),
                ),
                Some(p)
                    if !p.restricted_to_regions.is_empty()
                        && !p.restricted_to_regions.contains(&dealer.region) =>
                {
                    found.add(
                        actions.region_restricted_sku,
                        "region-restricted-sku",
                        format!(
                            "SKU {} ({}) is reserved for region(s) {}; dealer {} is in {}",
                            p.sku,
                            p.name,
                            p.restricted_to_regions.join(", "),
                            dealer.id,
                            dealer.region
                        ),
                    )
                }
                Some(_) => {}
            }
        }

        if !dealer.territory.contains(&order.ship_to) {
            found.add(
                actions.ship_to_outside_territory,
                "ship-to-outside-territory",
                format!(
                    "ship-to {} is outside dealer {}'s territory ({})",
                    order.ship_to,
                    dealer.id,
                    dealer.territory.join(", ")
                ),
            );
        }

        // The input carries no prices: estimate the order at HQ base prices.
        let estimate =
            order
                .lines
                .iter()
                .zip(&line_products)
                .fold(0 as Fen, |sum, (line, product)| {
                    let unit = product.map_or(0, |p| p.base_price.max(0));
                    sum.saturating_add(unit.saturating_mul(Fen::from(line.quantity)))
                });
        let exposure = dealer.outstanding_balance.saturating_add(estimate);
        if exposure > dealer.credit_limit {
            found.add(
                actions.credit_limit,
                "credit-limit",
                format!(
                    "outstanding {} + this order ≈ {} (at base prices) exceeds the credit limit {} by {}",
                    yuan(dealer.outstanding_balance),
                    yuan(estimate),
                    yuan(dealer.credit_limit),
                    yuan(exposure.saturating_sub(dealer.credit_limit))
                ),
            );
        }

        let total: u64 = order.lines.iter().map(|l| u64::from(l.quantity)).sum();
        let usual = u64::from(dealer.usual_order_cases);
        let factor = u64::from(config.abnormal_quantity_factor);
        if usual == 0 {
            // A new dealer has no usual size to compare with.
            debug(&format!(
                "dealer {} has no usual order size; total-quantity check skipped",
                dealer.id
            ));
        } else if total > usual * factor {
            found.add(
                actions.abnormal_quantity,
                "abnormal-quantity",
                format!("{total} cases is more than {factor}× the dealer's usual {usual} cases per order"),
            );
        }
        if let Some(max) = config.max_line_cases {
            for line in order.lines.iter().filter(|l| l.quantity > max) {
                found.add(
                    actions.abnormal_quantity,
                    "abnormal-quantity",
                    format!(
                        "line {}: {} cases of {} exceeds the per-line maximum of {max}",
                        line.line_no,
                        line.quantity,
                        input
                            .products
                            .get(line.product as usize)
                            .map_or("an unknown SKU", |p| p.sku.as_str())
                    ),
                );
            }
        }

        let rejects: Vec<Reason> = found.with(Action::Reject).collect();
        let holds: Vec<Reason> = found.with(Action::Hold).collect();
        let verdict = if !rejects.is_empty() {
            Verdict::Reject(rejects.into_iter().chain(holds).collect())
        } else if !holds.is_empty() {
            Verdict::Hold(holds)
        } else {
            Verdict::Allow
        };
        let codes: Vec<&str> = found.0.iter().map(|(_, r)| r.code.as_str()).collect();
        info(&format!(
            "order {}: {} [{}]",
            order.id,
            verdict_name(&verdict),
            codes.join(", ")
        ));
        Ok(verdict)
    }
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Allow => "allow",
        Verdict::Hold(_) => "hold",
        Verdict::Reject(_) => "reject",
    }
}

chanhost_sdk::export_anti_diversion!(AntiDiversionChecks);

#[cfg(test)]
mod tests;
