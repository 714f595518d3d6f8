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
