//! After-sales claims: a dealer reports damaged, missing or wrong goods on a
//! delivered order; the region's admin (or HQ) approves it with a refund to
//! the dealer's credit account or a reshipment of the claimed goods, or
//! rejects it. Every step leaves an entry on the order's timeline without
//! moving the order's status.
//!
//! As in `payments`, each write is one write transaction led by its guarding
//! conditional write (the claim row, or the claim's status); checks made
//! before it, on a connection of their own, give the better errors, the
//! conditional writes keep two hosts from both deciding.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sqlx::AnyConnection;

use crate::api::{ApiError, ApiResult, AppState, Caller, FieldProblem, Role};
use crate::domain::Fen;
use crate::service::lifecycle;
use crate::store::claims::{
    self, CLAIMABLE, ClaimFilter, ClaimKind, ClaimLine, ClaimStatus, ClaimView, Decision,
    Resolution,
};
use crate::store::inventory::{self, Movement, MovementKind};
use crate::store::orders::{self, OrderHeader};
use crate::store::payments::{self, NewPayment, PaymentMethod};
use crate::store::{StoreError, new_id, now_ms};

pub const MAX_PHOTOS: usize = 10;
pub const MAX_PHOTO_REF_LEN: usize = 1000;
pub const MAX_DESCRIPTION_LEN: usize = 4000;
pub const MAX_NOTE_LEN: usize = 2000;
pub const MAX_CLAIM_LINES: usize = 100;
/// Photo references are stored, not uploaded: a photo store's id or a URL.
const PHOTO_SCHEMES: [&str; 3] = ["photo://", "https://", "http://"];

/// The body of `POST /v1/orders/{id}/claims`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenClaim {
    pub kind: ClaimKind,
    pub description: String,
    #[serde(default)]
    pub photos: Vec<String>,
    pub lines: Vec<ClaimLineRequest>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimLineRequest {
    pub sku: String,
    /// Signed so a negative quantity gets a clear 422.
    pub quantity: i64,
}

/// The body of `POST /v1/claims/{id}/approve`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveClaim {
    pub resolution: Resolution,
    /// refund_credit: fen; default the claimed cases at the order's unit prices.
    #[serde(default)]
    pub amount: Option<i64>,
    /// reshipment: the source warehouse; default the one(s) the order shipped from.
    #[serde(default)]
    pub warehouse_id: Option<String>,
    /// reshipment: the carrier; default the one that carried the original.
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub tracking_no: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The body of `POST /v1/claims/{id}/reject`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectClaim {
    pub note: String,
}

/// What a valid request to open a claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ValidClaim {
    description: String,
    photos: Vec<String>,
    lines: Vec<ClaimLine>,
}

/// Checks what can be checked without the order; every problem at once.
fn validate_open(request: &OpenClaim) -> Result<ValidClaim, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let description = request.description.trim().to_string();
    if description.is_empty() {
        problems.push(FieldProblem::new("/description", "say what is wrong"));
    } else if description.chars().count() > MAX_DESCRIPTION_LEN {
        problems.push(FieldProblem::new(
            "/description",
            format!("at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    if request.photos.len() > MAX_PHOTOS {
        problems.push(FieldProblem::new(
            "/photos",
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    let mut photos = Vec::new();
    for (i, photo) in request.photos.iter().enumerate().take(MAX_PHOTOS) {
        let photo = photo.trim();
        let scheme_ok = PHOTO_SCHEMES
            .iter()
            .any(|s| photo.len() > s.len() && photo.starts_with(s));
        if !scheme_ok || photo.chars().any(char::is_whitespace) || photo.len() > MAX_PHOTO_REF_LEN {
            problems.push(FieldProblem::new(
                format!("/photos/{i}"),
                format!("a photo reference (photo://…, https://…) of at most {MAX_PHOTO_REF_LEN} characters"),
            ));
        } else {
            photos.push(photo.to_string());
        }
    }
    if request.lines.is_empty() {
        problems.push(FieldProblem::new(
            "/lines",
            "name the SKUs and cases claimed",
        ));
    } else if request.lines.len() > MAX_CLAIM_LINES {
        problems.push(FieldProblem::new(
            "/lines",
            format!("at most {MAX_CLAIM_LINES} lines"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    for (i, line) in request.lines.iter().enumerate() {
        let sku = line.sku.trim();
        if !seen.insert(sku) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("{sku} appears twice"),
            ));
        }
        if line.quantity <= 0 || line.quantity > u32::MAX as i64 {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/quantity"),
                "a positive number of cases",
            ));
        } else {
            lines.push(ClaimLine {
                sku: sku.to_string(),
                quantity: line.quantity as u32,
            });
        }
    }
    if problems.is_empty() {
        Ok(ValidClaim {
            description,
            photos,
            lines,
        })
    } else {
        Err(problems)
    }
}

/// Checks the lines against what the order shipped, less what earlier
/// claims (open or approved) already cover.
fn check_lines(
    lines: &[ClaimLine],
    on_order: &BTreeMap<String, Fen>,
    shipped: &BTreeMap<String, i64>,
    claimed: &BTreeMap<String, i64>,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !on_order.contains_key(&line.sku) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("{} is not on this order", line.sku),
            ));
            continue;
        }
        let shipped = shipped.get(&line.sku).copied().unwrap_or(0);
        let claimed = claimed.get(&line.sku).copied().unwrap_or(0);
        let open = shipped - claimed;
        if line.quantity as i64 > open {
            let earlier = if claimed > 0 {
                format!(", {claimed} of them already claimed")
            } else {
                String::new()
            };
            problems.push(FieldProblem::new(
                format!("/lines/{i}/quantity"),
                format!(
                    "{} cases of {} shipped{earlier}; at most {} can be claimed",
                    shipped,
                    line.sku,
                    open.max(0)
                ),
            ));
        }
    }
    problems
}

fn not_claimable(order: &OrderHeader) -> ApiError {
    let statuses: Vec<String> = CLAIMABLE.iter().map(|s| s.name().to_string()).collect();
    ApiError::conflict(
        format!(
            "order {} is {}; claims can be opened once it is {}",
            order.id,
            order.status.name(),
            statuses.join(" or ")
        ),
        statuses,
    )
}

fn already_decided(claim: &ClaimView, action: &str) -> ApiError {
    ApiError::conflict(
        format!(
            "claim {} is {}; it cannot {action}",
            claim.id,
            claim.status.name()
        ),
        claim
            .status
            .allowed()
            .iter()
            .map(|a| a.to_string())
            .collect(),
    )
}

fn summary(lines: &[ClaimLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.sku))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens a claim on a delivered or completed order.
pub async fn open(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
    request: OpenClaim,
) -> ApiResult<ClaimView> {
    let valid = validate_open(&request).map_err(ApiError::invalid_fields)?;
    let mut conn = state.store.pool.acquire().await?;
    // The order's parties (the dealer, its region admin, HQ) may open one.
    let order = lifecycle::visible_order(&mut conn, caller, order_id).await?;
    if !CLAIMABLE.contains(&order.status) {
        return Err(not_claimable(&order));
    }
    let mut shipped: BTreeMap<String, i64> = BTreeMap::new();
    for (_, sku, quantity, _) in claims::shipped(&mut conn, order_id).await? {
        *shipped.entry(sku).or_insert(0) += quantity;
    }
    let on_order = claims::unit_prices(&mut conn, order_id).await?;
    let claimed = claims::claimed(&mut conn, order_id).await?;
    let problems = check_lines(&valid.lines, &on_order, &shipped, &claimed);
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }

    let id = new_id("CLM");
    let at = now_ms();
    let actor = caller.actor();
    let new = claims::NewClaim {
        id: &id,
        order_id,
        kind: request.kind,
        description: &valid.description,
        photos: &valid.photos,
        lines: &valid.lines,
        opened_by: &actor,
        opened_at: at,
    };
    // One connection at a time per request, so a busy pool cannot deadlock.
    drop(conn);
    let mut tx = state.store.begin_write().await?;
    if !claims::insert(&mut tx, &new).await? {
        drop(tx);
        let mut conn = acquire(state).await?;
        let now = orders::header(&mut conn, order_id)
            .await?
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        return Err(not_claimable(&now));
    }
    let note = format!(
        "claim {id} ({}): {}",
        crate::store::encode_enum(&request.kind),
        summary(&valid.lines)
    );
    orders::record_note(&mut tx, order_id, "claim_opened", &actor, at, &note).await?;
    tx.commit().await?;
    load(&mut *acquire(state).await?, &id).await
}

/// Approves an open claim with a refund to credit or a reshipment.
pub async fn approve(
    state: &AppState,
    caller: &Caller,
    claim_id: &str,
    request: ApproveClaim,
) -> ApiResult<ClaimView> {
    let note = checked_note(&request.note)?;
    let misplaced = match request.resolution {
        Resolution::RefundCredit => [
            ("/warehouse_id", request.warehouse_id.is_some()),
            ("/carrier", request.carrier.is_some()),
            ("/tracking_no", request.tracking_no.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(path, _)| FieldProblem::new(path, "only for a reshipment"))
        .collect::<Vec<_>>(),
        Resolution::Reshipment if request.amount.is_some() => {
            vec![FieldProblem::new("/amount", "only for a refund_credit")]
        }
        Resolution::Reshipment => Vec::new(),
    };
    if !misplaced.is_empty() {
        return Err(ApiError::invalid_fields(misplaced));
    }
    let mut conn = state.store.pool.acquire().await?;
    let claim = claims::get(&mut conn, claim_id)
        .await?
        .ok_or_else(|| ApiError::not_found("claim", claim_id))?;
    caller.require_admin_of(&claim.region, "decide claims")?;
    if claim.status != ClaimStatus::Open {
        return Err(already_decided(&claim, "approve"));
    }
    let order = orders::header(&mut conn, &claim.order_id)
        .await?
        .ok_or_else(|| {
            StoreError::corrupt(
                "claim",
                format!("claim {claim_id} names missing order {}", claim.order_id),
            )
        })?;
    match request.resolution {
        Resolution::RefundCredit => {
            refund(state, conn, caller, &claim, &order, request.amount, &note).await
        }
        Resolution::Reshipment => reship(state, conn, caller, &claim, request, &note).await,
    }
}

type Conn = sqlx::pool::PoolConnection<sqlx::Any>;

async fn acquire(state: &AppState) -> ApiResult<Conn> {
    Ok(state.store.pool.acquire().await?)
}

async fn refund(
    state: &AppState,
    mut conn: Conn,
    caller: &Caller,
    claim: &ClaimView,
    order: &OrderHeader,
    amount: Option<i64>,
    note: &str,
) -> ApiResult<ClaimView> {
    let amount = match amount {
        Some(amount) if amount <= 0 => {
            return Err(ApiError::invalid(
                "/amount",
                "must be a positive amount in fen",
            ));
        }
        Some(amount) if amount > order.total => {
            return Err(ApiError::invalid(
                "/amount",
                format!(
                    "{amount} is more than order {} was worth ({})",
                    order.id, order.total
                ),
            ));
        }
        Some(amount) => amount,
        None => {
            let prices = claims::unit_prices(&mut conn, &order.id).await?;
            let amount = claim
                .lines
                .iter()
                .map(|l| {
                    (l.quantity as i64).saturating_mul(prices.get(&l.sku).copied().unwrap_or(0))
                })
                .fold(0i64, i64::saturating_add);
            if amount <= 0 {
                return Err(ApiError::invalid(
                    "/amount",
                    "the claimed goods were free on this order; give the amount to refund",
                ));
            }
            amount
        }
    };
    let at = now_ms();
    let actor = caller.actor();
    let decision = Decision {
        status: ClaimStatus::Approved,
        resolution: Some(Resolution::RefundCredit),
        refund_amount: Some(amount),
        note,
        decided_by: &actor,
        decided_at: at,
    };
    drop(conn);
    let mut tx = state.store.begin_write().await?;
    if !claims::decide(&mut tx, &claim.id, &decision).await? {
        drop(tx);
        return Err(decided_meanwhile(&mut *acquire(state).await?, &claim.id, "approve").await);
    }
    if !payments::credit_back(&mut tx, &claim.dealer_id, amount).await? {
        return Err(StoreError::corrupt(
            "claim",
            format!(
                "claim {} names missing dealer {}",
                claim.id, claim.dealer_id
            ),
        )
        .into());
    }
    let reference = format!("claim {}", claim.id);
    let payment = NewPayment {
        id: &new_id("PAY"),
        dealer_id: &claim.dealer_id,
        order_id: Some(&order.id),
        claim_id: Some(&claim.id),
        method: PaymentMethod::RefundCredit,
        amount,
        reference: &reference,
        recorded_by: &actor,
        at,
        idempotency_key: None,
    };
    payments::insert(&mut tx, &payment).await?;
    let event = format!(
        "claim {} approved: {amount} fen credited to the dealer's account (payment {})",
        claim.id, payment.id
    );
    orders::record_note(
        &mut tx,
        &order.id,
        "claim_approved",
        &actor,
        at,
        &with_note(event, note),
    )
    .await?;
    tx.commit().await?;
    load(&mut *acquire(state).await?, &claim.id).await
}

async fn reship(
    state: &AppState,
    mut conn: Conn,
    caller: &Caller,
    claim: &ClaimView,
    request: ApproveClaim,
    note: &str,
) -> ApiResult<ClaimView> {
    let shipped = claims::shipped(&mut conn, &claim.order_id).await?;
    let plan = plan_reshipment(
        &mut conn,
        caller,
        claim,
        &shipped,
        request.warehouse_id.as_deref(),
    )
    .await?;
    let at = now_ms();
    let actor = caller.actor();
    let decision = Decision {
        status: ClaimStatus::Approved,
        resolution: Some(Resolution::Reshipment),
        refund_amount: None,
        note,
        decided_by: &actor,
        decided_at: at,
    };
    let tracking_no = request
        .tracking_no
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    drop(conn);
    let mut tx = state.store.begin_write().await?;
    if !claims::decide(&mut tx, &claim.id, &decision).await? {
        drop(tx);
        return Err(decided_meanwhile(&mut *acquire(state).await?, &claim.id, "approve").await);
    }
    let mut shipment_ids = Vec::new();
    // Warehouses and SKUs in sorted order: the one lock order every stock
    // writer keeps, so hosts sharing PostgreSQL cannot deadlock.
    for (warehouse_id, lines) in &plan {
        let carrier = match request
            .carrier
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(carrier) => carrier.to_string(),
            None => shipped
                .iter()
                .find(|(wh, ..)| wh == warehouse_id)
                .map(|(.., carrier)| carrier.clone())
                .unwrap_or_else(|| "to be assigned".to_string()),
        };
        let shipment_id = new_id("SHP");
        let shipment = claims::NewReshipment {
            id: &shipment_id,
            order_id: &claim.order_id,
            claim_id: &claim.id,
            warehouse_id,
            carrier: &carrier,
            tracking_no: &tracking_no,
            shipped_by: &actor,
            shipped_at: at,
            lines,
        };
        claims::insert_reshipment(&mut tx, &shipment).await?;
        let reason = format!("reshipment for claim {}", claim.id);
        for line in lines {
            let movement = Movement {
                order_id: Some(&claim.order_id),
                claim_id: Some(&claim.id),
                ..Movement::new(
                    warehouse_id,
                    &line.sku,
                    MovementKind::Reshipment,
                    -(line.quantity as i64),
                    0,
                    &reason,
                    &actor,
                    at,
                )
            };
            if !inventory::apply(&mut tx, &movement).await? {
                drop(tx);
                let available =
                    claims::available(&mut *acquire(state).await?, warehouse_id, &line.sku).await?;
                return Err(ApiError::invalid(
                    "/warehouse_id",
                    format!(
                        "{warehouse_id} has {available} of {} available; the claim needs {}",
                        line.sku, line.quantity
                    ),
                ));
            }
        }
        shipment_ids.push(shipment_id);
    }
    if let Some(first) = shipment_ids.first() {
        claims::set_reshipment(&mut tx, &claim.id, first).await?;
    }
    let event = format!(
        "claim {} approved: reshipment {} of {}",
        claim.id,
        shipment_ids.join(", "),
        summary(&claim.lines)
    );
    orders::record_note(
        &mut tx,
        &claim.order_id,
        "claim_approved",
        &actor,
        at,
        &with_note(event, note),
    )
    .await?;
    tx.commit().await?;
    load(&mut *acquire(state).await?, &claim.id).await
}

/// Which warehouse ships which claimed lines: the one asked for, or per SKU
/// the first warehouse that shipped it originally and has it available.
async fn plan_reshipment(
    conn: &mut AnyConnection,
    caller: &Caller,
    claim: &ClaimView,
    shipped: &[(String, String, i64, String)],
    asked: Option<&str>,
) -> ApiResult<BTreeMap<String, Vec<ClaimLine>>> {
    let mut plan: BTreeMap<String, Vec<ClaimLine>> = BTreeMap::new();
    if let Some(warehouse_id) = asked {
        let region = claims::warehouse_region(conn, warehouse_id)
            .await?
            .ok_or_else(|| {
                ApiError::invalid("/warehouse_id", format!("unknown warehouse {warehouse_id}"))
            })?;
        let shipped_from_it = shipped.iter().any(|(wh, ..)| wh == warehouse_id);
        if !caller.is_hq() && region != claim.region && !shipped_from_it {
            return Err(ApiError::forbidden(format!(
                "a region admin of {} may not reship from {warehouse_id} in region {region}",
                claim.region
            )));
        }
        let mut lines = claim.lines.clone();
        lines.sort_by(|a, b| a.sku.cmp(&b.sku));
        plan.insert(warehouse_id.to_string(), lines);
        return Ok(plan);
    }
    for line in &claim.lines {
        let mut sources: Vec<&str> = Vec::new();
        for (wh, sku, ..) in shipped {
            if *sku == line.sku && !sources.contains(&wh.as_str()) {
                sources.push(wh);
            }
        }
        let mut seen = Vec::new();
        let mut chosen = None;
        for wh in &sources {
            let available = claims::available(conn, wh, &line.sku).await?;
            if available >= line.quantity as i64 {
                chosen = Some(wh.to_string());
                break;
            }
            seen.push(format!("{wh}: {available}"));
        }
        let Some(wh) = chosen else {
            return Err(ApiError::invalid(
                "/warehouse_id",
                format!(
                    "no warehouse that shipped {} has {} available ({}); name a warehouse_id",
                    line.sku,
                    line.quantity,
                    seen.join(", ")
                ),
            ));
        };
        plan.entry(wh).or_default().push(line.clone());
    }
    for lines in plan.values_mut() {
        lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    }
    Ok(plan)
}

/// Rejects an open claim; the note tells the dealer why.
pub async fn reject(
    state: &AppState,
    caller: &Caller,
    claim_id: &str,
    request: RejectClaim,
) -> ApiResult<ClaimView> {
    let note = checked_note(&request.note)?;
    if note.is_empty() {
        return Err(ApiError::invalid(
            "/note",
            "tell the dealer why the claim is rejected",
        ));
    }
    let mut conn = state.store.pool.acquire().await?;
    let claim = claims::get(&mut conn, claim_id)
        .await?
        .ok_or_else(|| ApiError::not_found("claim", claim_id))?;
    caller.require_admin_of(&claim.region, "decide claims")?;
    if claim.status != ClaimStatus::Open {
        return Err(already_decided(&claim, "reject"));
    }
    let at = now_ms();
    let actor = caller.actor();
    let decision = Decision {
        status: ClaimStatus::Rejected,
        resolution: None,
        refund_amount: None,
        note: &note,
        decided_by: &actor,
        decided_at: at,
    };
    drop(conn);
    let mut tx = state.store.begin_write().await?;
    if !claims::decide(&mut tx, claim_id, &decision).await? {
        drop(tx);
        return Err(decided_meanwhile(&mut *acquire(state).await?, claim_id, "reject").await);
    }
    let event = with_note(format!("claim {claim_id} rejected"), &note);
    orders::record_note(
        &mut tx,
        &claim.order_id,
        "claim_rejected",
        &actor,
        at,
        &event,
    )
    .await?;
    tx.commit().await?;
    load(&mut *acquire(state).await?, claim_id).await
}

/// One claim, for the order's parties.
pub async fn show(state: &AppState, caller: &Caller, claim_id: &str) -> ApiResult<ClaimView> {
    let mut conn = state.store.pool.acquire().await?;
    let claim = load(&mut conn, claim_id).await?;
    caller.require_party(&claim.dealer_id, &claim.region, "see this claim")?;
    Ok(claim)
}

/// The claims of one order, for the order's parties.
pub async fn for_order(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
) -> ApiResult<Vec<ClaimView>> {
    let mut conn = state.store.pool.acquire().await?;
    lifecycle::visible_order(&mut conn, caller, order_id).await?;
    Ok(claims::for_order(&mut conn, order_id).await?)
}

/// Claims the caller may see, narrowed by `filter`; true if more follow.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    mut filter: ClaimFilter,
) -> ApiResult<(Vec<ClaimView>, bool)> {
    match &caller.role {
        Role::HqAdmin => {}
        Role::RegionAdmin { region } => match &filter.region {
            Some(asked) if asked != region => {
                return Err(ApiError::forbidden(format!(
                    "a region admin of {region} may not list claims of region {asked}"
                )));
            }
            _ => filter.region = Some(region.clone()),
        },
        Role::Dealer { dealer_id, .. } => match &filter.dealer_id {
            Some(asked) if asked != dealer_id => {
                return Err(ApiError::forbidden(format!(
                    "dealer {dealer_id} may not list claims of dealer {asked}"
                )));
            }
            _ => filter.dealer_id = Some(dealer_id.clone()),
        },
    }
    let mut conn = state.store.pool.acquire().await?;
    let mut rows = claims::list(&mut conn, &filter).await?;
    let more = rows.len() > filter.limit as usize;
    rows.truncate(filter.limit as usize);
    Ok((rows, more))
}

fn checked_note(note: &str) -> ApiResult<String> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_LEN {
        return Err(ApiError::invalid(
            "/note",
            format!("at most {MAX_NOTE_LEN} characters"),
        ));
    }
    Ok(note.to_string())
}

fn with_note(event: String, note: &str) -> String {
    if note.is_empty() {
        event
    } else {
        format!("{event}; {note}")
    }
}

async fn load(conn: &mut AnyConnection, id: &str) -> ApiResult<ClaimView> {
    claims::view(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("claim", id))
}

/// The claim was decided between our read and our write.
async fn decided_meanwhile(conn: &mut AnyConnection, id: &str, action: &str) -> ApiError {
    match claims::get(conn, id).await {
        Ok(Some(now)) => already_decided(&now, action),
        Ok(None) => ApiError::not_found("claim", id),
        Err(err) => err.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(photos: &[&str], lines: &[(&str, i64)]) -> OpenClaim {
        OpenClaim {
            kind: ClaimKind::Damaged,
            description: "two cases crushed".into(),
            photos: photos.iter().map(|p| p.to_string()).collect(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| ClaimLineRequest {
                    sku: sku.to_string(),
                    quantity: *quantity,
                })
                .collect(),
        }
    }

    fn paths(problems: Vec<FieldProblem>) -> Vec<String> {
        problems.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_valid_claim_is_trimmed() {
        let valid = validate_open(&request(
            &[" photo://a/1.jpg ", "https://x.test/2.jpg"],
            &[("BJ-001", 2)],
        ))
        .unwrap();
        assert_eq!(valid.photos, ["photo://a/1.jpg", "https://x.test/2.jpg"]);
        assert_eq!(
            valid.lines,
            [ClaimLine {
                sku: "BJ-001".into(),
                quantity: 2
            }]
        );
    }

    #[test]
    fn every_problem_is_named() {
        let eleven: Vec<&str> = std::iter::repeat_n("photo://x", 11).collect();
        assert_eq!(
            paths(validate_open(&request(&eleven, &[("A", 1)])).unwrap_err()),
            ["/photos"]
        );
        assert_eq!(
            paths(
                validate_open(&request(&["ftp://x", "photo://"], &[("A", 0), ("A", 1)]))
                    .unwrap_err()
            ),
            [
                "/photos/0",
                "/photos/1",
                "/lines/0/quantity",
                "/lines/1/sku"
            ]
        );
        assert_eq!(
            paths(validate_open(&request(&[], &[])).unwrap_err()),
            ["/lines"]
        );
    }

    #[test]
    fn lines_are_checked_against_what_shipped_and_was_claimed() {
        let on_order = BTreeMap::from([("A".to_string(), 100), ("B".to_string(), 50)]);
        let shipped = BTreeMap::from([("A".to_string(), 5), ("B".to_string(), 3)]);
        let claimed = BTreeMap::from([("B".to_string(), 2)]);
        let lines = |a: u32, b: u32| {
            vec![
                ClaimLine {
                    sku: "A".into(),
                    quantity: a,
                },
                ClaimLine {
                    sku: "B".into(),
                    quantity: b,
                },
            ]
        };
        assert!(check_lines(&lines(5, 1), &on_order, &shipped, &claimed).is_empty());
        assert_eq!(
            paths(check_lines(&lines(6, 2), &on_order, &shipped, &claimed)),
            ["/lines/0/quantity", "/lines/1/quantity"]
        );
        let stranger = [ClaimLine {
            sku: "Z".into(),
            quantity: 1,
        }];
        assert_eq!(
            paths(check_lines(&stranger, &on_order, &shipped, &claimed)),
            ["/lines/0/sku"]
        );
    }
}
