//! HQ's catalogue, the regional centers and the warehouses. The catalogue
//! and regions are owned by the brand's TOML configuration and mirrored
//! here at every start, so queries can join on them.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreResult, decode_enum, encode_enum};
use crate::config::BrandConfig;
use crate::domain::WarehouseLevel;

/// Writes the brand's products and regions, replacing older copies.
pub async fn mirror(store: &Store, brand: &BrandConfig) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    for product in brand.catalogue.values() {
        sqlx::query(
            "INSERT INTO products (sku, name, category, pack_size, base_price, new_product, restricted_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (sku) DO UPDATE SET name = excluded.name, category = excluded.category, \
             pack_size = excluded.pack_size, base_price = excluded.base_price, \
             new_product = excluded.new_product, restricted_to = excluded.restricted_to",
        )
        .bind(&product.sku)
        .bind(&product.name)
        .bind(&product.category)
        .bind(product.pack_size as i64)
        .bind(product.base_price)
        .bind(product.new_product as i64)
        .bind(serde_json::to_string(&product.restricted_to_regions).expect("json"))
        .execute(&mut *tx)
        .await?;
    }
    for (id, file) in &brand.regions {
        let region = &file.region;
        let listing = serde_json::json!({
            "listed": region.listed,
            "sku_adjustment_bp": region.sku_adjustment_bp,
        });
        sqlx::query(
            "INSERT INTO regions (id, name, neighbours, price_adjustment_bp, listing) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, neighbours = excluded.neighbours, \
             price_adjustment_bp = excluded.price_adjustment_bp, listing = excluded.listing",
        )
        .bind(id)
        .bind(&region.name)
        .bind(serde_json::to_string(&region.neighbours).expect("json"))
        .bind(region.price_adjustment_bp as i64)
        .bind(listing.to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseView {
    pub id: String,
    pub name: String,
    pub region: String,
    pub level: WarehouseLevel,
    /// The dealer or store holding a dealer- or store-level warehouse.
    #[serde(default)]
    pub owner: Option<String>,
}

const WAREHOUSE_COLUMNS: &str = "id, name, region, level, owner";

fn warehouse_from_row(row: &sqlx::any::AnyRow) -> StoreResult<WarehouseView> {
    let level: String = row.try_get(3)?;
    Ok(WarehouseView {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        region: row.try_get(2)?,
        level: decode_enum("warehouse level", &level)?,
        owner: row.try_get(4)?,
    })
}

/// Warehouses of one region, or all, by id.
pub async fn warehouses(store: &Store, region: Option<&str>) -> StoreResult<Vec<WarehouseView>> {
    let sql = format!(
        "SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE ($1 = '' OR region = $1) ORDER BY id"
    );
    let rows = sqlx::query(&sql)
        .bind(region.unwrap_or(""))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(warehouse_from_row).collect()
}

pub async fn warehouse(store: &Store, id: &str) -> StoreResult<Option<WarehouseView>> {
    let sql = format!("SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(warehouse_from_row).transpose()
}

/// Adds a warehouse; false if the id is taken.
pub async fn insert_warehouse(
    conn: &mut sqlx::AnyConnection,
    warehouse: &WarehouseView,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO warehouses (id, name, region, level, owner) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&warehouse.id)
    .bind(&warehouse.name)
    .bind(&warehouse.region)
    .bind(encode_enum(&warehouse.level))
    .bind(&warehouse.owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
