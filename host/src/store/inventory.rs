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
) -> StoreResult<Vec<(String, String, String, String, i64)>> {
    if regions.is_empty() || skus.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT w.id, w.region, w.level, s.sku, s.on_hand - s.reserved \
         FROM stock s JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE s.sku IN ({}) AND (w.level = 'hq' OR (w.level = 'region' AND w.region IN ({}))) \
         ORDER BY w.id, s.sku",
        super::placeholders(1, skus.len()),
        super::placeholders(1 + skus.len(), regions.len()),
    );
    let mut query = sqlx::query(&sql);
    for sku in skus {
        query = query.bind(*sku);
    }
    for region in regions {
        query = query.bind(*region);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
