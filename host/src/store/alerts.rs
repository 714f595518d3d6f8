//! Stock and production alerts, and what the scanner reads to raise them.
//! An alert is open until its condition clears (the scanner resolves it) or
//! a person resolves it; `dedupe_key` is unique among open alerts, so two
//! hosts scanning at once raise each alert once.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{StoreError, StoreResult, decode_enum, new_id};

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
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Available below the safety share of target.
    SafetyStock,
    /// More days of cover than the slow-moving limit.
    SlowMoving,
    /// Short of target by more than the transfer share: a transfer is drafted.
    ShortfallTransfer,
    /// Orders exceed available stock: the factory is told.
    Production,
    /// A new plugin version faulted too often; its slot was rolled back by
    /// itself (`sku` holds the slot).
    PolicyRollback,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::SafetyStock,
        AlertKind::SlowMoving,
        AlertKind::ShortfallTransfer,
        AlertKind::Production,
        AlertKind::PolicyRollback,
    ];

    /// Raised by the stock scanner, and resolved by it when the stock
    /// condition clears.
    pub fn is_stock(self) -> bool {
        matches!(
            self,
            AlertKind::SafetyStock | AlertKind::SlowMoving | AlertKind::ShortfallTransfer
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            AlertKind::SafetyStock => "safety_stock",
            AlertKind::SlowMoving => "slow_moving",
            AlertKind::ShortfallTransfer => "shortfall_transfer",
            AlertKind::Production => "production",
            AlertKind::PolicyRollback => "policy_rollback",
        }
    }

    /// One open alert per kind, region and SKU.
    pub fn dedupe_key(self, region: &str, sku: &str) -> String {
        format!("{}:{region}:{sku}", self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Resolved,
}

impl AlertStatus {
    pub fn name(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// An alert as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: String,
    pub kind: AlertKind,
    pub region: String,
    pub warehouse_id: Option<String>,
    pub sku: Option<String>,
    pub status: AlertStatus,
    pub message: String,
    /// The figures that raised it.
    pub details: serde_json::Value,
    /// The transfer drafted for a shortfall, if any.
    pub transfer_id: Option<String>,
    pub dedupe_key: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
}

const COLUMNS: &str = "id, kind, region, warehouse_id, sku, status, message, details, transfer_id, dedupe_key, \
     created_at, resolved_at, resolved_by, resolution_note";

fn from_row(row: &AnyRow) -> StoreResult<AlertView> {
    let kind: String = row.try_get(1)?;
    let status: String = row.try_get(5)?;
    let details: String = row.try_get(7)?;
    Ok(AlertView {
        id: row.try_get(0)?,
        kind: decode_enum("alert kind", &kind)?,
        region: row.try_get(2)?,
        warehouse_id: row.try_get(3)?,
        sku: row.try_get(4)?,
        status: decode_enum("alert status", &status)?,
        message: row.try_get(6)?,
        details: serde_json::from_str(&details)
            .map_err(|e| StoreError::corrupt("alert details", e))?,
        transfer_id: row.try_get(8)?,
        dedupe_key: row.try_get(9)?,
        created_at: row.try_get(10)?,
        resolved_at: row.try_get(11)?,
        resolved_by: row.try_get(12)?,
        resolution_note: row.try_get(13)?,
    })
}

/// An alert to raise.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub region: String,
    pub sku: String,
    pub message: String,
    pub details: serde_json::Value,
}

/// Raises `alert` unless one with its key is open; returns the new id, or
/// `None` when it was already open.
pub async fn raise(
    conn: &mut AnyConnection,
    alert: &NewAlert,
    at: i64,
) -> StoreResult<Option<String>> {
    let id = new_id("ALR");
    let inserted = sqlx::query(
        "INSERT INTO alerts (id, kind, region, warehouse_id, sku, status, message, details, transfer_id, \
         dedupe_key, created_at) VALUES ($1, $2, $3, NULL, $4, 'open', $5, $6, NULL, $7, $8) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(alert.kind.name())
    .bind(&alert.region)
    .bind(&alert.sku)
    .bind(&alert.message)
    .bind(alert.details.to_string())
    .bind(alert.kind.dedupe_key(&alert.region, &alert.sku))
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(id))
}

/// Resolves an open alert; false if it was not open (any more).
pub async fn resolve(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    note: &str,
    at: i64,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE alerts SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution_note = $3 \
         WHERE id = $4 AND status = 'open'",
    )
    .bind(at)
    .bind(by)
    .bind(note)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Links a drafted transfer to its alert, if none is linked yet: the claim
/// that keeps two scanners from drafting two transfers for one alert.
pub async fn claim_transfer(
    conn: &mut AnyConnection,
    alert_id: &str,
    transfer_id: &str,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE alerts SET transfer_id = $1 WHERE id = $2 AND status = 'open' AND transfer_id IS NULL",
    )
    .bind(transfer_id)
    .bind(alert_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<AlertView>> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter<'a> {
    pub region: Option<&'a str>,
    pub kind: Option<AlertKind>,
    pub status: Option<AlertStatus>,
    pub before: Option<&'a str>,
    pub limit: i64,
}

pub async fn list(
    conn: &mut AnyConnection,
    filter: &AlertFilter<'_>,
) -> StoreResult<Vec<AlertView>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts \
         WHERE ($1 = '' OR region = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR status = $3) \
           AND ($4 = '' OR id < $4) \
         ORDER BY id DESC LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.region.unwrap_or(""))
        .bind(filter.kind.map(AlertKind::name).unwrap_or(""))
        .bind(filter.status.map(AlertStatus::name).unwrap_or(""))
        .bind(filter.before.unwrap_or(""))
        .bind(filter.limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every open alert (the scanner's starting point).
pub async fn open(conn: &mut AnyConnection) -> StoreResult<Vec<AlertView>> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE status = 'open' ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// Open alerts counted per region and kind, for the dashboard.
pub async fn open_counts(
    conn: &mut AnyConnection,
    region: Option<&str>,
) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT region, kind, COUNT(*) FROM alerts WHERE status = 'open' AND ($1 = '' OR region = $1) \
         GROUP BY region, kind",
    )
    .bind(region.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?)
}

// What the scanner reads besides stock.

/// Cases ordered per region and SKU since `since` (orders not cancelled or
/// rejected, free goods included: they leave the warehouse too).
pub async fn ordered_since(
    conn: &mut AnyConnection,
    since: i64,
) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT o.region, l.sku, COALESCE(CAST(SUM(l.quantity) AS BIGINT), 0) \
         FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE o.placed_at >= $1 AND o.status NOT IN ('cancelled', 'rejected') \
         GROUP BY o.region, l.sku",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

/// When each region's first order was placed.
pub async fn first_orders(conn: &mut AnyConnection) -> StoreResult<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT region, MIN(placed_at) FROM orders GROUP BY region")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// `(order id, decision JSON)` of orders placed since `since` whose
/// sourcing signalled production (a text match narrows the rows; the
/// caller parses the JSON).
pub async fn production_signals_since(
    conn: &mut AnyConnection,
    since: i64,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, decision FROM orders \
         WHERE placed_at >= $1 AND status <> 'cancelled' AND decision LIKE '%production_alert%' \
         ORDER BY placed_at, id",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

/// When the latest recorded scan started.
pub async fn last_scan_started(conn: &mut AnyConnection) -> StoreResult<Option<i64>> {
    let (latest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(started_at) FROM alert_scans")
        .fetch_one(&mut *conn)
        .await?;
    Ok(latest)
}

pub async fn record_scan(
    conn: &mut AnyConnection,
    started_at: i64,
    finished_at: i64,
    summary: &serde_json::Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO alert_scans (id, started_at, finished_at, summary) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_id("SCN"))
    .bind(started_at)
    .bind(finished_at)
    .bind(summary.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
