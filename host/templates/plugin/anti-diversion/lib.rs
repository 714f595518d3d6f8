//! {{name}}: a chanhost anti-diversion (防窜货) plugin.
//!
//! An order far above what the dealer usually orders is a sign of goods
//! bought to be resold outside the dealer's territory (or of 100 cases
//! typed as 1000). This plugin holds an order for a person to review when
//! its total cases exceed `hold_factor` × the dealer's usual order, and
//! rejects it beyond `reject_factor` × (when set). Orders of up to
//! `min_cases` are never stopped, so that a dealer with little history can
//! still order a few cases.
//!
//! A region configures it in its `config` table (every field is optional):
//!
//! ```toml
//! hold_factor = 3       # hold above 3 × the usual order
//! reject_factor = 10    # reject above 10 × (absent: never reject)
//! min_cases = 20        # never stop an order of up to 20 cases
//! ```
//!
//! The answer may depend only on the configuration and the input (no
//! clock, no randomness, nothing kept between calls), so that a replayed
//! order gets the same verdict.

use chanhost_sdk::Plugin;
use chanhost_sdk::anti_diversion::{AntiDiversion, CheckInput, Verdict};
use chanhost_sdk::log::{debug, info};
use chanhost_sdk::{ConfigError, PluginError, Reason};
use schemars::JsonSchema;
use serde::Deserialize;

// The configuration a region gives the plugin, as JSON. Its JSON Schema,
// derived from this type and its doc comments (`///`), is what `chanhost
// plugin check` shows and what a region's configuration is checked against.
/// When an order is too large for the dealer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Hold an order whose total cases exceed this multiple of the dealer's
    /// usual order size (at least 1).
    pub hold_factor: u32,
    /// Reject an order whose total cases exceed this multiple (greater than
    /// `hold_factor`); absent, such an order is held like the others.
    pub reject_factor: Option<u32>,
    /// Orders of up to this many cases are never held or rejected.
    pub min_cases: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hold_factor: 3,
            reject_factor: None,
            min_cases: 20,
        }
    }
}

/// Reason codes: stable, for reports and for people to search.
const HOLD_CODE: &str = "above-usual-volume";
const REJECT_CODE: &str = "far-above-usual-volume";

/// The plugin: the SDK calls its `AntiDiversion::check` for every order.
pub struct VolumeGuard;

impl Plugin for VolumeGuard {
    type Config = Config;
    // The package's name and version in Cargo.toml: one place to bump.
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "Holds orders far above the dealer's usual volume; rejects those far beyond.";

    /// Checks what the types cannot say; every problem with its path.
    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if config.hold_factor == 0 {
            errors.push(ConfigError::new("/hold_factor", "must be at least 1"));
        }
        if let Some(reject) = config.reject_factor
            && reject <= config.hold_factor
        {
            errors.push(ConfigError::new(
                "/reject_factor",
                format!(
                    "must be greater than hold_factor ({}), got {reject}",
                    config.hold_factor
                ),
            ));
        }
        errors
    }
}

impl AntiDiversion for VolumeGuard {
    fn check(config: &Config, input: CheckInput) -> Result<Verdict, PluginError> {
        // u64: a line is at most u32::MAX cases, a sum of them may be more.
        let total: u64 = input
            .order
            .lines
            .iter()
            .map(|line| u64::from(line.quantity))
            .sum();
        let usual = input.dealer.usual_order_cases;
        // Why the order is over `factor` × the usual, when it is.
        let over = |factor: u32| -> Option<String> {
            let limit = (u64::from(usual) * u64::from(factor)).max(u64::from(config.min_cases));
            (total > limit).then(|| {
                format!(
                    "{total} cases ordered; the limit is {limit} cases ({factor} × the usual {usual}, at least {})",
                    config.min_cases
                )
            })
        };

        if let Some(why) = config.reject_factor.and_then(over) {
            info(&format!("rejected: {why}"));
            return Ok(Verdict::Reject(vec![Reason::new(REJECT_CODE, why)]));
        }
        if let Some(why) = over(config.hold_factor) {
            info(&format!("held: {why}"));
            return Ok(Verdict::Hold(vec![Reason::new(HOLD_CODE, why)]));
        }
        debug(&format!(
            "{total} cases, within {} × the usual {usual}",
            config.hold_factor
        ));
        Ok(Verdict::Allow)
    }
}

// The component's exports; on a native build (`cargo test`) this expands to
// nothing.
chanhost_sdk::export_anti_diversion!(VolumeGuard);

#[cfg(test)]
mod tests {
    use super::*;
    use chanhost_sdk::{Dealer, testing};

    /// An order of `cases` cases in two lines by a dealer whose usual order
    /// is `usual` cases.
    fn input(cases: u32, usual: u32) -> CheckInput {
        let lines = [("BJ-001", cases / 2), ("WN-001", cases - cases / 2)];
        CheckInput {
            order: testing::order(&lines),
            dealer: Dealer {
                usual_order_cases: usual,
                ..testing::dealer()
            },
            products: testing::products_for(&lines, |sku| testing::product(sku, "baijiu", 100_000)),
        }
    }

    /// Parsed and validated as the host does it.
    fn config(json: &str) -> Config {
        chanhost_sdk::parse_config::<VolumeGuard>(json).expect("a valid configuration")
    }

    /// The verdict's name and its reasons' codes.
    fn verdict(config: &Config, input: CheckInput) -> (&'static str, Vec<String>) {
        match VolumeGuard::check(config, input).unwrap() {
            Verdict::Allow => ("allow", Vec::new()),
            Verdict::Hold(reasons) => ("hold", reasons.into_iter().map(|r| r.code).collect()),
            Verdict::Reject(reasons) => ("reject", reasons.into_iter().map(|r| r.code).collect()),
        }
    }

    #[test]
    fn usual_orders_pass() {
        assert_eq!(verdict(&config("{}"), input(30, 10)), ("allow", vec![]));
    }

    #[test]
    fn above_the_hold_factor_is_held_with_a_reason() {
        assert_eq!(
            verdict(&config("{}"), input(31, 10)),
            ("hold", vec![HOLD_CODE.to_string()])
        );
        let Verdict::Hold(reasons) = VolumeGuard::check(&config("{}"), input(31, 10)).unwrap()
        else {
            panic!("expected a hold");
        };
        assert_eq!(
            reasons[0].message,
            "31 cases ordered; the limit is 30 cases (3 × the usual 10, at least 20)"
        );
    }

    #[test]
    fn beyond_the_reject_factor_is_rejected() {
        let config = config(r#"{"reject_factor": 10}"#);
        assert_eq!(verdict(&config, input(100, 10)).0, "hold");
        assert_eq!(
            verdict(&config, input(101, 10)),
            ("reject", vec![REJECT_CODE.to_string()])
        );
    }

    #[test]
    fn small_orders_pass_whatever_the_history() {
        // A new dealer: no usual order yet.
        assert_eq!(verdict(&config("{}"), input(20, 0)).0, "allow");
        assert_eq!(verdict(&config("{}"), input(21, 0)).0, "hold");
    }

    #[test]
    fn a_bad_configuration_is_refused_with_every_problem() {
        let errors =
            chanhost_sdk::parse_config::<VolumeGuard>(r#"{"hold_factor": 0, "reject_factor": 0}"#)
                .unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/hold_factor", "/reject_factor"]);
    }
}
