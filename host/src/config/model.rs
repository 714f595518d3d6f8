//! The shape of the TOML files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::Product;
use crate::policy::{BreakerSettings, Guardrails, Limits};

/// `hq.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HqFile {
    pub hq: HqSection,
    /// Sandbox limits of every plugin call.
    #[serde(default)]
    pub limits: Limits,
    /// When a failing plugin version is quarantined.
    #[serde(default)]
    pub breaker: BreakerSettings,
    /// The plugin set a region gets for every slot it does not set itself.
    pub defaults: PluginSet,
    /// What sources an order when a region's sourcing plugin fails.
    pub fallback_sourcing: PluginSlot,
    /// Stock alert thresholds; domain.md's reference figures when absent.
    #[serde(default)]
    pub alerts: AlertThresholds,
    /// Which publisher keys the plugin registry trusts.
    #[serde(default)]
    pub registry: RegistrySettings,
    /// How deployments are checked and guarded.
    #[serde(default)]
    pub deployments: DeploymentSettings,
}

/// `[registry]` in hq.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    /// Publisher keys whose signatures the host accepts on uploads.
    #[serde(default)]
    pub trusted_keys: Vec<TrustedKey>,
}

/// One publisher's ed25519 public key, as `chanhost keygen` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The key's name, which signatures carry (e.g. `hq-release-2026`).
    pub id: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
}

/// `[deployments]` in hq.toml: the automatic guard on new versions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeploymentSettings {
    /// Calls a new deployment must have taken before its fault rate is judged.
    pub guard_min_calls: u32,
    /// Fault rate (basis points of calls) at which a new deployment is
    /// quarantined and its slot rolled back by itself.
    pub guard_fault_rate_bp: u32,
    /// Calls after which a deployment is no longer watched by the guard.
    pub guard_window_calls: u32,
    /// How often a host looks for deployments other hosts made, in ms.
    pub poll_interval_ms: u64,
}

impl Default for DeploymentSettings {
    fn default() -> Self {
        DeploymentSettings {
            guard_min_calls: 20,
            guard_fault_rate_bp: 2000,
            guard_window_calls: 10_000,
            poll_interval_ms: 500,
        }
    }
}

/// `[alerts]` in hq.toml: when the stock scanner raises an alert. Every
/// field is optional; the defaults are the reference customer's figures.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawAlertThresholds")]
pub struct AlertThresholds {
    /// Safety stock: a region's available stock of a SKU below this share
    /// of its target, in basis points (3000 = 30%).
    pub safety_stock_bp: u32,
    /// Slow-moving: more days of cover than this.
    pub slow_moving_days: u32,
    /// Shortfall (target − available, share of target, basis points) above
    /// which a cross-region transfer is drafted for HQ to approve.
    pub shortfall_transfer_bp: u32,
    /// How often the scanner runs, in milliseconds.
    pub scan_interval_ms: u64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        AlertThresholds {
            safety_stock_bp: 3000,
            slow_moving_days: 60,
            shortfall_transfer_bp: 2000,
            scan_interval_ms: 60_000,
        }
    }
}

/// `[alerts]` as written, checked into [`AlertThresholds`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlertThresholds {
    safety_stock_bp: Option<u32>,
    slow_moving_days: Option<u32>,
    shortfall_transfer_bp: Option<u32>,
    scan_interval_ms: Option<u64>,
}

impl TryFrom<RawAlertThresholds> for AlertThresholds {
    type Error = String;

    fn try_from(raw: RawAlertThresholds) -> Result<Self, String> {
        let d = AlertThresholds::default();
        let t = AlertThresholds {
            safety_stock_bp: raw.safety_stock_bp.unwrap_or(d.safety_stock_bp),
            slow_moving_days: raw.slow_moving_days.unwrap_or(d.slow_moving_days),
            shortfall_transfer_bp: raw.shortfall_transfer_bp.unwrap_or(d.shortfall_transfer_bp),
            scan_interval_ms: raw.scan_interval_ms.unwrap_or(d.scan_interval_ms),
        };
        if t.safety_stock_bp > 10_000 {
            return Err(format!(
                "alerts.safety_stock_bp {} is above 10000 (100%)",
                t.safety_stock_bp
            ));
        }
        if t.shortfall_transfer_bp > 10_000 {
            return Err(format!(
                "alerts.shortfall_transfer_bp {} is above 10000 (100%)",
                t.shortfall_transfer_bp
            ));
        }
        if t.slow_moving_days == 0 {
            return Err("alerts.slow_moving_days must be at least 1".into());
        }
        if t.scan_interval_ms < 1_000 {
            return Err(format!(
                "alerts.scan_interval_ms {} is below 1000 (one second)",
                t.scan_interval_ms
            ));
        }
        Ok(t)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HqSection {
    pub name: String,
    #[serde(flatten)]
    pub guardrails: Guardrails,
}

/// The plugins of a region (or HQ's defaults). A slot left out is filled
/// from HQ's defaults; `promotions = []` means "no promotions".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSet {
    pub anti_diversion: Option<PluginSlot>,
    pub pricing: Option<PluginSlot>,
    pub promotions: Option<Vec<PluginSlot>>,
    pub sourcing: Option<PluginSlot>,
}

/// One plugin and its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSlot {
    /// Names the slot among several promotions (default `promotions/<n>`).
    pub id: Option<String>,
    /// `builtin:<name>` for a plugin shipped in the binary, or a path to a
    /// `.wasm` component relative to the brand directory.
    pub plugin: Spanned<String>,
    /// The plugin's configuration; its shape is the plugin's schema.
    pub config: Option<Spanned<toml::Table>>,
}

/// `catalogue.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    #[serde(default)]
    pub product: Vec<Product>,
}

/// `regions/<id>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionFile {
    pub region: RegionSection,
    #[serde(default)]
    pub plugins: PluginSet,
    /// Where the file was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSection {
    pub id: String,
    pub name: String,
    /// Neighbouring regions in order of preference for sourcing.
    #[serde(default)]
    pub neighbours: Vec<String>,
    /// The region's price move for every listed SKU, in basis points of
    /// the HQ base price (inside HQ's band).
    #[serde(default)]
    pub price_adjustment_bp: i32,
    /// Per-SKU moves that replace `price_adjustment_bp`.
    #[serde(default)]
    pub sku_adjustment_bp: BTreeMap<String, i32>,
    /// SKUs the region sells; absent means the whole catalogue.
    pub listed: Option<Vec<String>>,
}

impl RegionSection {
    /// The region's adjustment of one SKU's price, in basis points.
    pub fn adjustment_bp(&self, sku: &str) -> i32 {
        self.sku_adjustment_bp
            .get(sku)
            .copied()
            .unwrap_or(self.price_adjustment_bp)
    }

    pub fn lists(&self, sku: &str) -> bool {
        self.listed
            .as_ref()
            .is_none_or(|listed| listed.iter().any(|s| s == sku))
    }
}

#[cfg(test)]
mod tests {
    use super::AlertThresholds;

    #[derive(Debug, serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        alerts: AlertThresholds,
    }

    fn parse(text: &str) -> Result<AlertThresholds, String> {
        toml::from_str::<Doc>(text)
            .map(|d| d.alerts)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn alerts_default_to_the_reference_figures() {
        assert_eq!(parse("").unwrap(), AlertThresholds::default());
        let partial = parse("[alerts]\nslow_moving_days = 45").unwrap();
        assert_eq!(partial.slow_moving_days, 45);
        assert_eq!(partial.safety_stock_bp, 3000);
    }

    #[test]
    fn alerts_refuse_unknown_keys_and_impossible_shares() {
        assert!(
            parse("[alerts]\nsafety_stock = 3000")
                .unwrap_err()
                .contains("safety_stock")
        );
        assert!(
            parse("[alerts]\nshortfall_transfer_bp = 12000")
                .unwrap_err()
                .contains("10000")
        );
        assert!(parse("[alerts]\nscan_interval_ms = 10").is_err());
    }
}
