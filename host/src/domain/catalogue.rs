//! HQ's catalogue and the warehouses stock lives in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Fen;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    pub name: String,
    /// e.g. "baijiu", "wine", "low-alcohol".
    pub category: String,
    /// Bottles per case.
    pub pack_size: u32,
    /// HQ base price per case.
    #[schema(value_type = i64)]
    pub base_price: Fen,
    #[serde(default)]
    pub new_product: bool,
    /// Regions allowed to sell this SKU; empty means every region.
    #[serde(default)]
    pub restricted_to_regions: Vec<String>,
    /// Lots HQ flagged for clearance before their best-before date;
    /// promotion plugins see them (WIT 0.2.0 and later).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub near_expiry_lots: Vec<NearExpiryLot>,
}

/// A production lot of a SKU flagged as near its best-before date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NearExpiryLot {
    /// HQ's lot code, e.g. "L20250311".
    pub lot: String,
    /// Milliseconds since the Unix epoch, UTC.
    #[schema(value_type = i64)]
    pub best_before: super::TimestampMs,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WarehouseLevel {
    Hq,
    Region,
    Dealer,
    Store,
}

/// A warehouse and its available stock per SKU, as the order sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warehouse {
    pub id: String,
    pub region: String,
    pub level: WarehouseLevel,
    /// SKU → cases available (on hand − reserved).
    #[serde(default)]
    pub available: BTreeMap<String, u32>,
}
