//! What a region configures: its promotion id, its region, and the table of
//! discount steps, each a number of days left before the best-before date
//! and the percentage off from there on.
//!
//! ```toml
//! promotion_id = "r01-clearance"
//! region = "r01"
//! steps = [
//!     { days_left = 90, off_bp = 1000 }, # 10% off from 90 days left
//!     { days_left = 30, off_bp = 2500 }, # 25% off from 30 days left
//! ]
//! ```

use chanhost_sdk::ConfigError;
use schemars::JsonSchema;
use serde::Deserialize;

/// The largest discount a step may give. HQ's guardrails cap all
/// promotions of an order together, at 30% of the subtotal by default:
/// a step above that makes every order it applies to a plugin fault.
pub const MAX_OFF_BP: u32 = 9_000;

/// Steps further from the best-before date than this are a typo.
pub const MAX_DAYS_LEFT: u32 = 3_650;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Tags every adjustment this plugin gives.
    pub promotion_id: String,
    /// Shown in descriptions instead of the id when set, e.g. "临期清仓".
    #[serde(default)]
    pub name: Option<String>,
    /// The one region whose orders get the clearance (`order.region`).
    pub region: String,
    /// From the furthest from the best-before date to the nearest: each
    /// step's `days_left` fewer than the one before, its `off_bp` more.
    pub steps: Vec<Step>,
}

/// From `days_left` days before a lot's best-before date (or fewer),
/// `off_bp` basis points off the line.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub days_left: u32,
    pub off_bp: u32,
}

impl Config {
    /// The label descriptions use.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.promotion_id)
    }

    /// The discount for a lot with `days_left` whole days to go: the step
    /// nearest the best-before date that the lot has reached, if any.
    pub fn step_for(&self, days_left: u64) -> Option<&Step> {
        self.steps
            .iter()
            .rev()
            .find(|step| days_left <= u64::from(step.days_left))
    }

    /// Every problem beyond the shape, each with its JSON pointer path.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.promotion_id.trim().is_empty() {
            errors.push(ConfigError::new("/promotion_id", "must not be empty"));
        }
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            errors.push(ConfigError::new("/name", "must not be empty when set"));
        }
        if self.region.trim().is_empty() {
            errors.push(ConfigError::new("/region", "must not be empty"));
        }
        if self.steps.is_empty() {
            errors.push(ConfigError::new("/steps", "at least one step is needed"));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let at = |field: &str| format!("/steps/{i}/{field}");
            if !(1..=MAX_DAYS_LEFT).contains(&step.days_left) {
                errors.push(ConfigError::new(
                    at("days_left"),
                    format!("must be 1..={MAX_DAYS_LEFT} days, got {}", step.days_left),
                ));
            }
            if !(1..=MAX_OFF_BP).contains(&step.off_bp) {
                errors.push(ConfigError::new(
                    at("off_bp"),
                    format!("must be 1..={MAX_OFF_BP} basis points, got {}", step.off_bp),
                ));
            }
            let Some(before) = i.checked_sub(1).map(|p| &self.steps[p]) else {
                continue;
            };
            if step.days_left >= before.days_left {
                errors.push(ConfigError::new(
                    at("days_left"),
                    format!(
                        "must be fewer than the previous step's {} (steps go towards the best-before date), got {}",
                        before.days_left, step.days_left
                    ),
                ));
            }
            if step.off_bp <= before.off_bp {
                errors.push(ConfigError::new(
                    at("off_bp"),
                    format!(
                        "must be more than the previous step's {} (the discount rises as the best-before date nears), got {}",
                        before.off_bp, step.off_bp
                    ),
                ));
            }
        }
        errors
    }
}
