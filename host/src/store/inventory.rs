//! Stock per warehouse and SKU, and the append-only movements that explain
//! every figure. [`apply`] is the only way stock changes: one conditional
//! update that re-checks the invariant (0 ≤ reserved ≤ on hand) in the
//! database, plus its movement row, in the caller's transaction.

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::{StoreResult, new_id};

/// Why stock changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Receipt,
    Reservation,
    Release,
    Shipment,
    TransferOut,
    TransferIn,
    Adjustment,
    Count,
    Return,
    Reshipment,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Reservation => "reservation",
            MovementKind::Release => "release",
            MovementKind::Shipment => "shipment",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Count => "count",
            MovementKind::Return => "return",
            MovementKind::Reshipment => "reshipment",
        }
    }
}

/// One change of one stock row.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub warehouse_id: &'a str,
    pub sku: &'a str,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: &'a str,
    pub actor: &'a str,
    pub order_id: Option<&'a str>,
    pub transfer_id: Option<&'a str>,
    pub claim_id: Option<&'a str>,
    pub at: i64,
}

impl<'a> Movement<'a> {
    /// A movement with no links; set `order_id` etc. with struct update.
    #[allow(clippy::too_many_arguments)] // one per column; named at every call site by position in Movement
    pub fn new(
        warehouse_id: &'a str,
        sku: &'a str,
        kind: MovementKind,
        on_hand_delta: i64,
        reserved_delta: i64,
        reason: &'a str,
        actor: &'a str,
        at: i64,
    ) -> Self {
        Movement {
            warehouse_id,
            sku,
            kind,
            on_hand_delta,
            reserved_delta,
            reason,
            actor,
            order_id: None,
            transfer_id: None,
            claim_id: None,
            at,
        }
    }
}

/// Applies `movement` if the row stays valid and returns true; returns
/// false and changes nothing when it would not (not enough available stock
/// to reserve or ship, nothing reserved to release). Stock that arrives at a
/// warehouse that never held the SKU opens a row for it.
pub async fn apply(conn: &mut AnyConnection, movement: &Movement<'_>) -> StoreResult<bool> {
    if movement.on_hand_delta > 0 {
        sqlx::query(
            "INSERT INTO stock (warehouse_id, sku, on_hand, reserved) VALUES ($1, $2, 0, 0) \
             ON CONFLICT (warehouse_id, sku) DO NOTHING",
        )
        .bind(movement.warehouse_id)
        .bind(movement.sku)
        .execute(&mut *conn)
        .await?;
    }
    let updated = sqlx::query(
        "UPDATE stock SET on_hand = on_hand + $1, reserved = reserved + $2 \
         WHERE warehouse_id = $3 AND sku = $4 \
           AND reserved + $2 >= 0 AND on_hand + $1 >= reserved + $2",
    )
    .bind(movement.on_hand_delta)
    .bind(movement.reserved_delta)
    .bind(movement.warehouse_id)
    .bind(movement.sku)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    record(conn, movement).await?;
    Ok(true)
}

/// Writes the movement row only (for callers that changed stock themselves).
async fn record(conn: &mut AnyConnection, movement: &Movement<'_>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO movements (id, warehouse_id, sku, kind, on_hand_delta, reserved_delta, \
         reason, actor, order_id, transfer_id, claim_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(new_id("MOV"))
    .bind(movement.warehouse_id)
    .bind(movement.sku)
    .bind(movement.kind.as_str())
    .bind(movement.on_hand_delta)
    .bind(movement.reserved_delta)
    .bind(movement.reason)
    .bind(movement.actor)
    .bind(movement.order_id)
    .bind(movement.transfer_id)
    .bind(movement.claim_id)
    .bind(movement.at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Available stock (on hand − reserved) of `skus` that an order may draw
/// on: the region-level warehouses of `regions` and every HQ warehouse, as
/// `(warehouse id, region, level, sku, available)` rows.
pub async fn available_in(
    conn: &mut AnyConnection,
    regions: &[&str],
    skus: &[&str],
) -> StoreResult<Vec<super::stock_book::CandidateStock>> {
    if regions.is_empty() || skus.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        // Warehouses first, then stock by its primary key: the few candidate
        // warehouses are far fewer rows than every warehouse holding the SKUs.
        // (CROSS JOIN fixes that order on SQLite; PostgreSQL plans it freely.)
        "SELECT w.id, w.region, w.level, s.sku, s.on_hand - s.reserved \
         FROM warehouses w CROSS JOIN stock s \
         WHERE s.warehouse_id = w.id AND s.sku IN ({}) \
           AND (w.level = 'hq' OR (w.level = 'region' AND w.region IN ({})))",
        super::placeholders(1, skus.len()),
        super::placeholders(1 + skus.len(), regions.len()),
    );
    let mut query = sqlx::query_as(&sql);
    for sku in skus {
        query = query.bind(*sku);
    }
    for region in regions {
        query = query.bind(*region);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

// Reads for the inventory API, the alert scanner and the dashboard.

/// One stock row with the warehouse it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StockRow {
    pub warehouse_id: String,
    pub warehouse_name: String,
    pub region: String,
    /// `hq`, `region`, `dealer` or `store`.
    pub level: String,
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub target: i64,
    pub daily_demand: i64,
}

impl StockRow {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// Which stock rows to read; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct StockFilter<'a> {
    /// A regional center's warehouses (HQ-level warehouses are HQ's, not
    /// the center's, wherever they stand).
    pub region: Option<&'a str>,
    pub warehouse_id: Option<&'a str>,
    pub sku: Option<&'a str>,
    pub level: Option<&'a str>,
}

/// Stock rows matching `filter`, by warehouse and SKU.
pub async fn stock(
    conn: &mut AnyConnection,
    filter: &StockFilter<'_>,
) -> StoreResult<Vec<StockRow>> {
    let rows = sqlx::query(
        "SELECT s.warehouse_id, w.name, w.region, w.level, s.sku, s.on_hand, s.reserved, s.target, s.daily_demand \
         FROM stock s JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE ($1 = '' OR (w.region = $1 AND w.level <> 'hq')) \
           AND ($2 = '' OR s.warehouse_id = $2) \
           AND ($3 = '' OR s.sku = $3) \
           AND ($4 = '' OR w.level = $4) \
         ORDER BY s.warehouse_id, s.sku",
    )
    .bind(filter.region.unwrap_or(""))
    .bind(filter.warehouse_id.unwrap_or(""))
    .bind(filter.sku.unwrap_or(""))
    .bind(filter.level.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StockRow {
                warehouse_id: row.try_get(0)?,
                warehouse_name: row.try_get(1)?,
                region: row.try_get(2)?,
                level: row.try_get(3)?,
                sku: row.try_get(4)?,
                on_hand: row.try_get(5)?,
                reserved: row.try_get(6)?,
                target: row.try_get(7)?,
                daily_demand: row.try_get(8)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// `(on_hand, reserved)` of one stock row, if the warehouse holds the SKU.
pub async fn level_of(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    sku: &str,
) -> StoreResult<Option<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT on_hand, reserved FROM stock WHERE warehouse_id = $1 AND sku = $2")
            .bind(warehouse_id)
            .bind(sku)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Takes the write lock on one stock row before reading it (a no-op
/// update: PostgreSQL locks the row, SQLite the database), so that a figure
/// read next cannot change before the caller's movement lands. Returns
/// `(on_hand, reserved)`, or `None` if the warehouse does not hold the SKU.
pub async fn lock_row(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    sku: &str,
) -> StoreResult<Option<(i64, i64)>> {
    sqlx::query("UPDATE stock SET on_hand = on_hand WHERE warehouse_id = $1 AND sku = $2")
        .bind(warehouse_id)
        .bind(sku)
        .execute(&mut *conn)
        .await?;
    level_of(conn, warehouse_id, sku).await
}

/// One movement as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MovementRow {
    pub id: String,
    pub warehouse_id: String,
    pub sku: String,
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: String,
    pub actor: String,
    pub order_id: Option<String>,
    pub transfer_id: Option<String>,
    pub claim_id: Option<String>,
    pub at: i64,
}

/// Which movements to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct MovementFilter<'a> {
    /// A regional center's warehouses (not HQ-level ones).
    pub region: Option<&'a str>,
    pub warehouse_id: Option<&'a str>,
    pub sku: Option<&'a str>,
    pub transfer_id: Option<&'a str>,
    /// Only movements older than this id (the cursor).
    pub before: Option<&'a str>,
    pub limit: i64,
}

/// Movements matching `filter`, newest first (ids are time-ordered).
pub async fn movements(
    conn: &mut AnyConnection,
    filter: &MovementFilter<'_>,
) -> StoreResult<Vec<MovementRow>> {
    let rows = sqlx::query(
        "SELECT m.id, m.warehouse_id, m.sku, m.kind, m.on_hand_delta, m.reserved_delta, m.reason, m.actor, \
                m.order_id, m.transfer_id, m.claim_id, m.at \
         FROM movements m JOIN warehouses w ON w.id = m.warehouse_id \
         WHERE ($1 = '' OR (w.region = $1 AND w.level <> 'hq')) \
           AND ($2 = '' OR m.warehouse_id = $2) \
           AND ($3 = '' OR m.sku = $3) \
           AND ($4 = '' OR m.transfer_id = $4) \
           AND ($5 = '' OR m.id < $5) \
         ORDER BY m.id DESC LIMIT $6",
    )
    .bind(filter.region.unwrap_or(""))
    .bind(filter.warehouse_id.unwrap_or(""))
    .bind(filter.sku.unwrap_or(""))
    .bind(filter.transfer_id.unwrap_or(""))
    .bind(filter.before.unwrap_or(""))
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MovementRow {
                id: row.try_get(0)?,
                warehouse_id: row.try_get(1)?,
                sku: row.try_get(2)?,
                kind: row.try_get(3)?,
                on_hand_delta: row.try_get(4)?,
                reserved_delta: row.try_get(5)?,
                reason: row.try_get(6)?,
                actor: row.try_get(7)?,
                order_id: row.try_get(8)?,
                transfer_id: row.try_get(9)?,
                claim_id: row.try_get(10)?,
                at: row.try_get(11)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Stock of each region's own warehouses (every level but HQ's) summed:
/// `(region, on_hand, reserved, target)`, one query for the dashboard.
pub async fn region_totals(
    conn: &mut AnyConnection,
    region: Option<&str>,
) -> StoreResult<Vec<(String, i64, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT w.region, COALESCE(CAST(SUM(s.on_hand) AS BIGINT), 0), \
                COALESCE(CAST(SUM(s.reserved) AS BIGINT), 0), COALESCE(CAST(SUM(s.target) AS BIGINT), 0) \
         FROM stock s JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE w.level <> 'hq' AND ($1 = '' OR w.region = $1) \
         GROUP BY w.region",
    )
    .bind(region.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?)
}
