//! Stock transfers between warehouses (within a region or across regions):
//! the plan, its lines and its timeline, and the state machine that says
//! which action each status allows. The stock itself moves through
//! `inventory::apply` in the service, in the same transaction as the
//! conditional status change written here.
//!
//! ```text
//! draft ──┐
//!         ├─approve→ approved ─ship→ shipped ─receive→ received
//! planned ┘              │
//!   └──────────cancel────┴→ cancelled   (draft and planned cancel too)
//! ```

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{StoreResult, decode_enum, encode_enum, new_id, placeholders};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Proposed by the alert scanner, awaiting HQ.
    Draft,
    /// Proposed by a person, awaiting HQ.
    Planned,
    /// HQ agreed; the quantities are reserved at the source.
    Approved,
    /// Left the source; in transit.
    Shipped,
    Received,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferAction {
    Approve,
    Ship,
    Receive,
    Cancel,
}

impl TransferAction {
    pub fn name(self) -> &'static str {
        match self {
            TransferAction::Approve => "approve",
            TransferAction::Ship => "ship",
            TransferAction::Receive => "receive",
            TransferAction::Cancel => "cancel",
        }
    }
}

impl TransferStatus {
    pub fn name(self) -> &'static str {
        match self {
            TransferStatus::Draft => "draft",
            TransferStatus::Planned => "planned",
            TransferStatus::Approved => "approved",
            TransferStatus::Shipped => "shipped",
            TransferStatus::Received => "received",
            TransferStatus::Cancelled => "cancelled",
        }
    }

    /// Statuses in which a transfer still means to move stock.
    pub const OPEN: [TransferStatus; 4] = [
        TransferStatus::Draft,
        TransferStatus::Planned,
        TransferStatus::Approved,
        TransferStatus::Shipped,
    ];

    /// What can be done from this status.
    pub fn allowed(self) -> &'static [TransferAction] {
        use TransferAction::*;
        match self {
            TransferStatus::Draft | TransferStatus::Planned => &[Approve, Cancel],
            TransferStatus::Approved => &[Ship, Cancel],
            TransferStatus::Shipped => &[Receive],
            TransferStatus::Received | TransferStatus::Cancelled => &[],
        }
    }

    /// Where `action` leads, or the actions this status allows.
    pub fn after(
        self,
        action: TransferAction,
    ) -> Result<TransferStatus, &'static [TransferAction]> {
        if !self.allowed().contains(&action) {
            return Err(self.allowed());
        }
        Ok(match action {
            TransferAction::Approve => TransferStatus::Approved,
            TransferAction::Ship => TransferStatus::Shipped,
            TransferAction::Receive => TransferStatus::Received,
            TransferAction::Cancel => TransferStatus::Cancelled,
        })
    }
}

/// A transfer to write.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub id: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub from_region: String,
    pub to_region: String,
    pub status: TransferStatus,
    pub route: String,
    pub cost_estimate: i64,
    pub reason: String,
    pub alert_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub lines: Vec<TransferLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferLine {
    pub sku: String,
    pub quantity: i64,
}

/// Writes the transfer, its lines and its first timeline entry.
pub async fn insert(conn: &mut AnyConnection, t: &NewTransfer) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO transfers (id, from_warehouse, to_warehouse, from_region, to_region, status, route, \
         cost_estimate, reason, alert_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&t.id)
    .bind(&t.from_warehouse)
    .bind(&t.to_warehouse)
    .bind(&t.from_region)
    .bind(&t.to_region)
    .bind(t.status.name())
    .bind(&t.route)
    .bind(t.cost_estimate)
    .bind(&t.reason)
    .bind(&t.alert_id)
    .bind(&t.created_by)
    .bind(t.created_at)
    .execute(&mut *conn)
    .await?;
    for line in &t.lines {
        sqlx::query("INSERT INTO transfer_lines (transfer_id, sku, quantity) VALUES ($1, $2, $3)")
            .bind(&t.id)
            .bind(&line.sku)
            .bind(line.quantity)
            .execute(&mut *conn)
            .await?;
    }
    let action = if t.status == TransferStatus::Draft {
        "draft"
    } else {
        "plan"
    };
    record_event(
        conn,
        &t.id,
        None,
        t.status,
        action,
        &t.created_by,
        t.created_at,
        &t.reason,
    )
    .await
}

/// Appends one entry to a transfer's timeline.
#[allow(clippy::too_many_arguments)]
pub async fn record_event(
    conn: &mut AnyConnection,
    transfer_id: &str,
    from: Option<TransferStatus>,
    to: TransferStatus,
    action: &str,
    actor: &str,
    at: i64,
    note: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO transfer_events (id, transfer_id, from_status, to_status, action, actor, at, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id("TEV"))
    .bind(transfer_id)
    .bind(from.map(TransferStatus::name))
    .bind(to.name())
    .bind(action)
    .bind(actor)
    .bind(at)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves a transfer from `from` to `to` if it is still `from`; false if
/// someone else moved it first. Stamps the status's own time column.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: TransferStatus,
    to: TransferStatus,
    actor: &str,
    at: i64,
) -> StoreResult<bool> {
    let stamp = match to {
        TransferStatus::Approved => ", approved_at = $4, approved_by = $5",
        TransferStatus::Shipped => ", shipped_at = $4",
        TransferStatus::Received => ", received_at = $4",
        _ => "",
    };
    let sql = format!(
        "UPDATE transfers SET status = $1, updated_at = $4{stamp} WHERE id = $2 AND status = $3"
    );
    let mut query = sqlx::query(&sql)
        .bind(to.name())
        .bind(id)
        .bind(from.name())
        .bind(at);
    if to == TransferStatus::Approved {
        query = query.bind(actor);
    }
    let updated = query.execute(&mut *conn).await?.rows_affected();
    Ok(updated == 1)
}

/// A transfer's history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TransferEvent {
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    pub actor: String,
    pub at: i64,
    pub note: String,
}

/// A transfer as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub from_region: String,
    pub to_region: String,
    pub status: TransferStatus,
    pub route: String,
    /// Fen.
    pub cost_estimate: i64,
    pub reason: String,
    /// The shortfall alert that drafted it, if any.
    pub alert_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub shipped_at: Option<i64>,
    pub received_at: Option<i64>,
    pub updated_at: i64,
    pub lines: Vec<TransferLine>,
    /// Every transition with actor, time and note (empty in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<TransferEvent>,
    pub allowed_actions: Vec<TransferAction>,
}

const COLUMNS: &str = "id, from_warehouse, to_warehouse, from_region, to_region, status, route, cost_estimate, \
     reason, alert_id, created_by, created_at, approved_by, approved_at, shipped_at, received_at, updated_at";

fn from_row(row: &AnyRow) -> StoreResult<TransferView> {
    let status: String = row.try_get(5)?;
    let status: TransferStatus = decode_enum("transfer status", &status)?;
    Ok(TransferView {
        id: row.try_get(0)?,
        from_warehouse: row.try_get(1)?,
        to_warehouse: row.try_get(2)?,
        from_region: row.try_get(3)?,
        to_region: row.try_get(4)?,
        status,
        route: row.try_get(6)?,
        cost_estimate: row.try_get(7)?,
        reason: row.try_get(8)?,
        alert_id: row.try_get(9)?,
        created_by: row.try_get(10)?,
        created_at: row.try_get(11)?,
        approved_by: row.try_get(12)?,
        approved_at: row.try_get(13)?,
        shipped_at: row.try_get(14)?,
        received_at: row.try_get(15)?,
        updated_at: row.try_get(16)?,
        lines: Vec::new(),
        history: Vec::new(),
        allowed_actions: status.allowed().to_vec(),
    })
}

/// The transfer with its lines (no history).
pub async fn header(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<TransferView>> {
    let sql = format!("SELECT {COLUMNS} FROM transfers WHERE id = $1");
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut transfer = from_row(&row)?;
    transfer.lines = sqlx::query_as::<_, (String, i64)>(
        "SELECT sku, quantity FROM transfer_lines WHERE transfer_id = $1 ORDER BY sku",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(sku, quantity)| TransferLine { sku, quantity })
    .collect();
    Ok(Some(transfer))
}

/// The transfer with its lines and history.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<TransferView>> {
    let Some(mut transfer) = header(conn, id).await? else {
        return Ok(None);
    };
    let events: Vec<(Option<String>, String, String, String, i64, String)> = sqlx::query_as(
        "SELECT from_status, to_status, action, actor, at, note FROM transfer_events \
         WHERE transfer_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    transfer.history = events
        .into_iter()
        .map(
            |(from_status, to_status, action, actor, at, note)| TransferEvent {
                from_status,
                to_status,
                action,
                actor,
                at,
                note,
            },
        )
        .collect();
    Ok(Some(transfer))
}

/// Which transfers to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter<'a> {
    pub status: Option<TransferStatus>,
    /// Transfers into or out of this region.
    pub region: Option<&'a str>,
    /// Only transfers older than this id (the cursor).
    pub before: Option<&'a str>,
    pub limit: i64,
}

pub async fn list(
    conn: &mut AnyConnection,
    filter: &TransferFilter<'_>,
) -> StoreResult<Vec<TransferView>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM transfers \
         WHERE ($1 = '' OR status = $1) AND ($2 = '' OR from_region = $2 OR to_region = $2) \
           AND ($3 = '' OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.status.map(TransferStatus::name).unwrap_or(""))
        .bind(filter.region.unwrap_or(""))
        .bind(filter.before.unwrap_or(""))
        .bind(filter.limit)
        .fetch_all(&mut *conn)
        .await?;
    let mut transfers = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    if transfers.is_empty() {
        return Ok(transfers);
    }
    let sql = format!(
        "SELECT transfer_id, sku, quantity FROM transfer_lines WHERE transfer_id IN ({}) ORDER BY transfer_id, sku",
        placeholders(1, transfers.len())
    );
    let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
    for t in &transfers {
        query = query.bind(&t.id);
    }
    for (id, sku, quantity) in query.fetch_all(&mut *conn).await? {
        if let Some(t) = transfers.iter_mut().find(|t| t.id == id) {
            t.lines.push(TransferLine { sku, quantity });
        }
    }
    Ok(transfers)
}

/// `(destination region, SKU)` of every transfer still under way (draft to
/// shipped), so the scanner never drafts a second one.
pub async fn open_destinations(conn: &mut AnyConnection) -> StoreResult<Vec<(String, String)>> {
    let statuses: Vec<&str> = TransferStatus::OPEN.iter().map(|s| s.name()).collect();
    let sql = format!(
        "SELECT DISTINCT t.to_region, l.sku FROM transfers t JOIN transfer_lines l ON l.transfer_id = t.id \
         WHERE t.status IN ({})",
        placeholders(1, statuses.len())
    );
    let mut query = sqlx::query_as(&sql);
    for status in statuses {
        query = query.bind(status);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// The stored name of a status (for callers that filter on it).
pub fn status_name(status: TransferStatus) -> String {
    encode_enum(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approve_works_from_draft_and_planned_only() {
        for from in [TransferStatus::Draft, TransferStatus::Planned] {
            assert_eq!(
                from.after(TransferAction::Approve),
                Ok(TransferStatus::Approved)
            );
        }
        assert_eq!(
            TransferStatus::Approved.after(TransferAction::Approve),
            Err(&[TransferAction::Ship, TransferAction::Cancel][..])
        );
    }

    #[test]
    fn nothing_cancels_once_shipped() {
        assert!(
            TransferStatus::Shipped
                .after(TransferAction::Cancel)
                .is_err()
        );
        assert_eq!(
            TransferStatus::Shipped.after(TransferAction::Receive),
            Ok(TransferStatus::Received)
        );
        assert!(TransferStatus::Received.allowed().is_empty());
        assert!(TransferStatus::Cancelled.allowed().is_empty());
    }

    #[test]
    fn names_match_serde() {
        for status in TransferStatus::OPEN {
            assert_eq!(status_name(status), status.name());
        }
    }
}
