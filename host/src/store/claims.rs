//! After-sales claims: what a dealer reports wrong with a delivered order
//! (damaged, missing or wrong goods, with photo references), and how the
//! region decided it. A claim is decided once: the decision is a
//! conditional update on `status = 'open'`, so two admins (or two hosts)
//! cannot both approve it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::orders::ShipmentLine;
use super::{StoreError, StoreResult, decode_enum, encode_enum, placeholders};
use crate::domain::{Fen, OrderStatus, TimestampMs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Damaged,
    Missing,
    WrongGoods,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Open,
    Approved,
    Rejected,
}

impl ClaimStatus {
    pub fn name(self) -> &'static str {
        match self {
            ClaimStatus::Open => "open",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Rejected => "rejected",
        }
    }

    /// The actions this status allows.
    pub fn allowed(self) -> &'static [&'static str] {
        match self {
            ClaimStatus::Open => &["approve", "reject"],
            ClaimStatus::Approved | ClaimStatus::Rejected => &[],
        }
    }
}

/// How an approved claim is made good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The amount is credited to the dealer's account.
    RefundCredit,
    /// The claimed goods ship again.
    Reshipment,
}

/// Order statuses whose goods have arrived, so a claim may be opened.
pub const CLAIMABLE: [OrderStatus; 2] = [OrderStatus::Delivered, OrderStatus::Completed];

/// One claimed SKU and quantity (cases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimLine {
    pub sku: String,
    pub quantity: u32,
}

/// A shipment made to resolve a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reshipment {
    pub id: String,
    pub warehouse_id: String,
    pub carrier: String,
    pub tracking_no: String,
    pub status: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub shipped_at: TimestampMs,
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: String,
    pub order_id: String,
    pub dealer_id: String,
    pub region: String,
    pub kind: ClaimKind,
    pub description: String,
    pub photos: Vec<String>,
    pub lines: Vec<ClaimLine>,
    pub status: ClaimStatus,
    pub resolution: Option<Resolution>,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = Option<i64>)]
    pub refund_amount: Option<Fen>,
    pub reshipment_id: Option<String>,
    pub decision_note: Option<String>,
    pub decided_by: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = Option<i64>)]
    pub decided_at: Option<TimestampMs>,
    pub opened_by: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub opened_at: TimestampMs,
    pub allowed_actions: Vec<&'static str>,
    /// The shipments that resolved it (single-claim reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reshipments: Option<Vec<Reshipment>>,
}

/// A claim to open.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub kind: ClaimKind,
    pub description: &'a str,
    pub photos: &'a [String],
    pub lines: &'a [ClaimLine],
    pub opened_by: &'a str,
    pub opened_at: TimestampMs,
}

const COLUMNS: &str = "id, order_id, dealer_id, region, kind, description, photos, lines, status, resolution, \
     refund_amount, reshipment_id, decision_note, decided_by, decided_at, opened_by, opened_at";

fn from_row(row: &AnyRow) -> StoreResult<ClaimView> {
    let kind: String = row.try_get(4)?;
    let photos: String = row.try_get(6)?;
    let lines: String = row.try_get(7)?;
    let status: String = row.try_get(8)?;
    let resolution: Option<String> = row.try_get(9)?;
    let status: ClaimStatus = decode_enum("claim status", &status)?;
    Ok(ClaimView {
        id: row.try_get(0)?,
        order_id: row.try_get(1)?,
        dealer_id: row.try_get(2)?,
        region: row.try_get(3)?,
        kind: decode_enum("claim kind", &kind)?,
        description: row.try_get(5)?,
        photos: serde_json::from_str(&photos)
            .map_err(|e| StoreError::corrupt("claim photos", e))?,
        lines: serde_json::from_str(&lines).map_err(|e| StoreError::corrupt("claim lines", e))?,
        status,
        resolution: resolution
            .map(|r| decode_enum("claim resolution", &r))
            .transpose()?,
        refund_amount: row.try_get(10)?,
        reshipment_id: row.try_get(11)?,
        decision_note: row.try_get(12)?,
        decided_by: row.try_get(13)?,
        decided_at: row.try_get(14)?,
        opened_by: row.try_get(15)?,
        opened_at: row.try_get(16)?,
        allowed_actions: status.allowed().to_vec(),
        reshipments: None,
    })
}

fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt("claim", e))
}

/// Opens the claim if its order is (still) delivered or completed; false
/// and nothing written otherwise. Dealer and region are copied from the
/// order in the same statement.
pub async fn insert(conn: &mut AnyConnection, claim: &NewClaim<'_>) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO claims (id, order_id, dealer_id, region, kind, description, photos, lines, status, opened_by, opened_at) \
         SELECT $1, id, dealer_id, region, $2, $3, $4, $5, 'open', $6, $7 FROM orders \
         WHERE id = $8 AND status IN ({})",
        placeholders(9, CLAIMABLE.len())
    );
    let mut query = sqlx::query(&sql)
        .bind(claim.id)
        .bind(encode_enum(&claim.kind))
        .bind(claim.description)
        .bind(to_json(&claim.photos)?)
        .bind(to_json(&claim.lines)?)
        .bind(claim.opened_by)
        .bind(claim.opened_at)
        .bind(claim.order_id);
    for status in CLAIMABLE {
        query = query.bind(status.name());
    }
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<ClaimView>> {
    let sql = format!("SELECT {COLUMNS} FROM claims WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The claim with the shipments that resolved it.
pub async fn view(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<ClaimView>> {
    let Some(mut claim) = get(conn, id).await? else {
        return Ok(None);
    };
    claim.reshipments = Some(reshipments(conn, id).await?);
    Ok(Some(claim))
}

/// Claims of one order, oldest first.
pub async fn for_order(conn: &mut AnyConnection, order_id: &str) -> StoreResult<Vec<ClaimView>> {
    let sql = format!("SELECT {COLUMNS} FROM claims WHERE order_id = $1 ORDER BY opened_at, id");
    let rows = sqlx::query(&sql).bind(order_id).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// Filters for listing claims; all optional.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub region: Option<String>,
    pub status: Option<ClaimStatus>,
    pub dealer_id: Option<String>,
    /// Continue after this `(opened_at, id)`, newest first.
    pub after: Option<(TimestampMs, String)>,
    pub limit: u32,
}

/// Claims newest first, `limit + 1` fetched so the caller knows if more follow.
pub async fn list(conn: &mut AnyConnection, filter: &ClaimFilter) -> StoreResult<Vec<ClaimView>> {
    let mut sql = format!("SELECT {COLUMNS} FROM claims WHERE 1 = 1");
    let mut texts: Vec<String> = Vec::new();
    let mut clause = |sql: &mut String, column: &str, value: String| {
        texts.push(value);
        sql.push_str(&format!(" AND {column} = ${}", texts.len()));
    };
    if let Some(region) = &filter.region {
        clause(&mut sql, "region", region.clone());
    }
    if let Some(status) = filter.status {
        clause(&mut sql, "status", status.name().to_string());
    }
    if let Some(dealer) = &filter.dealer_id {
        clause(&mut sql, "dealer_id", dealer.clone());
    }
    let after = filter.after.as_ref();
    if after.is_some() {
        let (at, id) = (texts.len() + 1, texts.len() + 2);
        sql.push_str(&format!(
            " AND (opened_at < ${at} OR (opened_at = ${at} AND id < ${id}))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY opened_at DESC, id DESC LIMIT {}",
        filter.limit + 1
    ));
    let mut query = sqlx::query(&sql);
    for text in texts {
        query = query.bind(text);
    }
    if let Some((at, id)) = after {
        query = query.bind(*at).bind(id.clone());
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// How a claim was decided.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub status: ClaimStatus,
    pub resolution: Option<Resolution>,
    pub refund_amount: Option<Fen>,
    pub note: &'a str,
    pub decided_by: &'a str,
    pub decided_at: TimestampMs,
}

/// Records the decision if the claim is still open; false if someone
/// decided it first.
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    decision: &Decision<'_>,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE claims SET status = $1, resolution = $2, refund_amount = $3, decision_note = $4, \
         decided_by = $5, decided_at = $6 WHERE id = $7 AND status = 'open'",
    )
    .bind(decision.status.name())
    .bind(decision.resolution.map(|r| encode_enum(&r)))
    .bind(decision.refund_amount)
    .bind(decision.note)
    .bind(decision.decided_by)
    .bind(decision.decided_at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn set_reshipment(
    conn: &mut AnyConnection,
    id: &str,
    shipment_id: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE claims SET reshipment_id = $1 WHERE id = $2")
        .bind(shipment_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The shipments made for a claim, with their lines.
pub async fn reshipments(conn: &mut AnyConnection, claim_id: &str) -> StoreResult<Vec<Reshipment>> {
    let rows = sqlx::query(
        "SELECT id, warehouse_id, carrier, tracking_no, status, shipped_at FROM shipments WHERE claim_id = $1 ORDER BY id",
    )
    .bind(claim_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get(0)?;
        let lines = sqlx::query(
            "SELECT sku, quantity FROM shipment_lines WHERE shipment_id = $1 ORDER BY sku",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let quantity: i64 = r.try_get(1)?;
            Ok(ShipmentLine {
                sku: r.try_get(0)?,
                quantity: quantity.clamp(0, u32::MAX as i64) as u32,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        out.push(Reshipment {
            id,
            warehouse_id: row.try_get(1)?,
            carrier: row.try_get(2)?,
            tracking_no: row.try_get(3)?,
            status: row.try_get(4)?,
            shipped_at: row.try_get(5)?,
            lines,
        });
    }
    Ok(out)
}

/// A shipment that resolves a claim.
#[derive(Debug, Clone)]
pub struct NewReshipment<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub claim_id: &'a str,
    pub warehouse_id: &'a str,
    pub carrier: &'a str,
    pub tracking_no: &'a str,
    pub shipped_by: &'a str,
    pub shipped_at: TimestampMs,
    pub lines: &'a [ClaimLine],
}

/// Writes the shipment and its lines; the stock it takes is the caller's
/// `inventory::apply`, in the same transaction.
pub async fn insert_reshipment(
    conn: &mut AnyConnection,
    shipment: &NewReshipment<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO shipments (id, order_id, warehouse_id, carrier, tracking_no, status, claim_id, shipped_by, shipped_at) \
         VALUES ($1, $2, $3, $4, $5, 'shipped', $6, $7, $8)",
    )
    .bind(shipment.id)
    .bind(shipment.order_id)
    .bind(shipment.warehouse_id)
    .bind(shipment.carrier)
    .bind(shipment.tracking_no)
    .bind(shipment.claim_id)
    .bind(shipment.shipped_by)
    .bind(shipment.shipped_at)
    .execute(&mut *conn)
    .await?;
    for line in shipment.lines {
        sqlx::query("INSERT INTO shipment_lines (shipment_id, sku, quantity) VALUES ($1, $2, $3)")
            .bind(shipment.id)
            .bind(&line.sku)
            .bind(line.quantity as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Available stock (on hand − reserved) of one SKU at one warehouse; 0 if
/// it never held the SKU.
pub async fn available(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    sku: &str,
) -> StoreResult<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT on_hand - reserved FROM stock WHERE warehouse_id = $1 AND sku = $2")
            .bind(warehouse_id)
            .bind(sku)
            .fetch_optional(conn)
            .await?;
    Ok(row.map_or(0, |(available,)| available))
}

/// The region a warehouse belongs to, if it exists.
pub async fn warehouse_region(
    conn: &mut AnyConnection,
    warehouse_id: &str,
) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT region FROM warehouses WHERE id = $1")
        .bind(warehouse_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(region,)| region))
}

/// What the order's own shipments (not reshipments) carried, per
/// warehouse and SKU, in shipment order: `(warehouse, sku, quantity, carrier)`.
pub async fn shipped(
    conn: &mut AnyConnection,
    order_id: &str,
) -> StoreResult<Vec<(String, String, i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT s.warehouse_id, l.sku, l.quantity, s.carrier FROM shipments s \
         JOIN shipment_lines l ON l.shipment_id = s.id \
         WHERE s.order_id = $1 AND s.claim_id IS NULL ORDER BY s.id, l.sku",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

/// Cases per SKU that open or approved claims of the order already cover.
pub async fn claimed(
    conn: &mut AnyConnection,
    order_id: &str,
) -> StoreResult<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for claim in for_order(conn, order_id).await? {
        if claim.status == ClaimStatus::Rejected {
            continue;
        }
        for line in claim.lines {
            *out.entry(line.sku).or_insert(0) += line.quantity as i64;
        }
    }
    Ok(out)
}

/// What the order charged per case of each SKU (its paid line's unit price;
/// free goods count nothing).
pub async fn unit_prices(
    conn: &mut AnyConnection,
    order_id: &str,
) -> StoreResult<BTreeMap<String, Fen>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT sku, unit_price FROM order_lines WHERE order_id = $1")
            .bind(order_id)
            .fetch_all(conn)
            .await?;
    let mut out = BTreeMap::new();
    for (sku, price) in rows {
        let entry = out.entry(sku).or_insert(0);
        *entry = price.max(*entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_claims_can_be_decided() {
        assert_eq!(ClaimStatus::Open.allowed(), &["approve", "reject"]);
        assert!(ClaimStatus::Approved.allowed().is_empty());
        assert!(ClaimStatus::Rejected.allowed().is_empty());
    }

    #[test]
    fn names_match_their_stored_form() {
        for status in [
            ClaimStatus::Open,
            ClaimStatus::Approved,
            ClaimStatus::Rejected,
        ] {
            assert_eq!(encode_enum(&status), status.name());
        }
        assert_eq!(encode_enum(&ClaimKind::WrongGoods), "wrong_goods");
        assert_eq!(encode_enum(&Resolution::RefundCredit), "refund_credit");
    }
}
