//! What plugins decide, as plain host types (serde for traces and JSON).
//! The generated bindings stay inside `policy`; these cross its wall.

use serde::{Deserialize, Serialize};

use crate::domain::Fen;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    AntiDiversion,
    Pricing,
    Promotion,
    Sourcing,
}

impl PluginKind {
    pub const ALL: [PluginKind; 4] = [
        PluginKind::AntiDiversion,
        PluginKind::Pricing,
        PluginKind::Promotion,
        PluginKind::Sourcing,
    ];

    /// The WIT interface (and world prefix) of this kind.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::AntiDiversion => "anti-diversion",
            PluginKind::Pricing => "pricing",
            PluginKind::Promotion => "promotion",
            PluginKind::Sourcing => "sourcing",
        }
    }

    pub fn from_interface(name: &str) -> Option<Self> {
        PluginKind::ALL
            .into_iter()
            .find(|kind| kind.interface() == name)
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.interface())
    }
}

/// A plugin's own description of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    /// JSON Schema of the configuration.
    pub config_schema: serde_json::Value,
    pub summary: String,
}

/// A configuration problem located by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reasons", rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Hold(Vec<Reason>),
    Reject(Vec<Reason>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub line_no: u32,
    pub unit_price: Fen,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdjustmentKind {
    LineDiscount { line_no: u32, amount: Fen },
    OrderDiscount { amount: Fen },
    FreeGoods { sku: String, quantity: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub promotion_id: String,
    #[serde(flatten)]
    pub kind: AdjustmentKind,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub warehouse_id: String,
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backorder {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Signal {
    ProductionAlert {
        sku: String,
        region: String,
        shortfall: u32,
        demand: u32,
        available: u32,
        suggested_lead_days: u32,
    },
    TransferSuggestion {
        sku: String,
        from_warehouse: String,
        to_region: String,
        quantity: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcingPlan {
    pub allocations: Vec<Allocation>,
    pub backorders: Vec<Backorder>,
    pub priority: u32,
    pub priority_reasons: Vec<String>,
    pub signals: Vec<Signal>,
}
