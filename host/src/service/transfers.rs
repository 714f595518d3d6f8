//! Moving stock between warehouses, within a region or across regions, as
//! movements: HQ approves (reserving at the source), the source ships
//! (on hand and reserved leave), the destination receives. Each step is one
//! transaction that opens with the conditional status change, so two hosts
//! or two clicks never apply it twice.
//!
//! Cost estimate (fen), when the planner gives none:
//! - within a region: ¥200 handling + ¥3 per case;
//! - across regions: ¥500 handling + ¥8 per case × the source's neighbour
//!   rank in the destination's preference list (1 = first neighbour; a
//!   region that is no neighbour counts as rank [`NON_NEIGHBOUR_RANK`]).

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::api::{ApiError, ApiResult, AppState, Caller, FieldProblem, Role};
use crate::config::BrandConfig;
use crate::domain::WarehouseLevel;
use crate::store::catalogue::{self, WarehouseView};
use crate::store::inventory::{self, Movement, MovementKind};
use crate::store::transfers::{
    self, NewTransfer, TransferAction, TransferLine, TransferStatus, TransferView,
};
use crate::store::{new_id, now_ms};

pub const INTRA_REGION_HANDLING: i64 = 20_000;
pub const INTRA_REGION_PER_CASE: i64 = 300;
pub const CROSS_REGION_HANDLING: i64 = 50_000;
pub const CROSS_REGION_PER_CASE_PER_RANK: i64 = 800;
/// The rank a region that is not a neighbour counts as: farther than any.
pub const NON_NEIGHBOUR_RANK: i64 = 10;
/// Most lines one transfer may carry.
pub const MAX_LINES: usize = 200;
/// Largest quantity of one line, in cases.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// The estimate for moving `cases` cases; `rank` is the source region's
/// neighbour rank seen from the destination (`None`: same region).
pub fn cost_estimate(cases: i64, rank: Option<i64>) -> i64 {
    match rank {
        None => INTRA_REGION_HANDLING + INTRA_REGION_PER_CASE * cases,
        Some(rank) => CROSS_REGION_HANDLING + CROSS_REGION_PER_CASE_PER_RANK * cases * rank.max(1),
    }
}

/// How far `from` is from `to`: `None` for the same region, else the rank of
/// `from` among `to`'s neighbours (or `to` among `from`'s), else
/// [`NON_NEIGHBOUR_RANK`].
pub fn neighbour_rank(brand: &BrandConfig, from: &str, to: &str) -> Option<i64> {
    if from == to {
        return None;
    }
    let rank_in = |region: &str, other: &str| {
        brand
            .regions
            .get(region)
            .and_then(|r| r.region.neighbours.iter().position(|n| n == other))
            .map(|i| i as i64 + 1)
    };
    Some(
        rank_in(to, from)
            .or_else(|| rank_in(from, to))
            .unwrap_or(NON_NEIGHBOUR_RANK),
    )
}

/// The route shown to people, e.g. `WH-GD-1 (gd) → WH-GX-1 (gx)`.
pub fn route(from: &WarehouseView, to: &WarehouseView) -> String {
    format!("{} ({}) → {} ({})", from.id, from.region, to.id, to.region)
}

/// The region whose admin manages a warehouse; HQ-level warehouses are HQ's
/// alone, whichever province they stand in.
pub fn managing_region(warehouse: &WarehouseView) -> Option<&str> {
    (warehouse.level != WarehouseLevel::Hq).then_some(warehouse.region.as_str())
}

/// May the caller act for this warehouse (HQ, or the admin of its region)?
pub fn may_manage(caller: &Caller, warehouse: &WarehouseView) -> bool {
    match &caller.role {
        Role::HqAdmin => true,
        Role::RegionAdmin { region } => managing_region(warehouse) == Some(region.as_str()),
        Role::Dealer { .. } => false,
    }
}

/// The body of `POST /v1/transfers`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTransfer {
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub lines: Vec<PlanLine>,
    #[serde(default)]
    pub route: Option<String>,
    /// Fen; estimated from the formula when absent.
    #[serde(default)]
    pub cost_estimate: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLine {
    pub sku: String,
    pub quantity: i64,
}

/// A transfer ready to write, with route and cost filled in.
#[allow(clippy::too_many_arguments)]
pub fn new_transfer(
    brand: &BrandConfig,
    from: &WarehouseView,
    to: &WarehouseView,
    lines: Vec<TransferLine>,
    status: TransferStatus,
    reason: String,
    actor: String,
    at: i64,
) -> NewTransfer {
    let cases = lines.iter().map(|l| l.quantity).sum();
    NewTransfer {
        id: new_id("TRF"),
        from_warehouse: from.id.clone(),
        to_warehouse: to.id.clone(),
        from_region: from.region.clone(),
        to_region: to.region.clone(),
        status,
        route: route(from, to),
        cost_estimate: cost_estimate(cases, neighbour_rank(brand, &from.region, &to.region)),
        reason,
        alert_id: None,
        created_by: actor,
        created_at: at,
        lines,
    }
}

async fn warehouse(state: &AppState, id: &str, path: &str) -> ApiResult<WarehouseView> {
    catalogue::warehouse(&state.store, id)
        .await?
        .ok_or_else(|| ApiError::invalid(path, format!("unknown warehouse {id}")))
}

/// Plans a transfer (status `planned`), awaiting HQ's approval.
pub async fn plan(
    state: &AppState,
    caller: &Caller,
    request: PlanTransfer,
) -> ApiResult<TransferView> {
    if let Role::Dealer { .. } = caller.role {
        return Err(ApiError::forbidden(
            "dealers may not plan transfers; ask your regional center",
        ));
    }
    let from = warehouse(state, &request.from_warehouse, "/from_warehouse").await?;
    let to = warehouse(state, &request.to_warehouse, "/to_warehouse").await?;
    if !may_manage(caller, &from) && !may_manage(caller, &to) {
        return Err(ApiError::forbidden(format!(
            "only HQ or an admin of the source or destination region may plan a transfer from {} to {}",
            from.id, to.id
        )));
    }
    let mut problems = Vec::new();
    if from.id == to.id {
        problems.push(FieldProblem::new(
            "/to_warehouse",
            "source and destination are the same warehouse",
        ));
    }
    if request.reason.trim().is_empty() {
        problems.push(FieldProblem::new("/reason", "say why the stock moves"));
    }
    if request.cost_estimate.is_some_and(|c| c < 0) {
        problems.push(FieldProblem::new("/cost_estimate", "must not be negative"));
    }
    if request
        .route
        .as_deref()
        .is_some_and(|r| r.trim().is_empty())
    {
        problems.push(FieldProblem::new(
            "/route",
            "leave it out to have one made, or describe the route",
        ));
    }
    if request.lines.is_empty() || request.lines.len() > MAX_LINES {
        problems.push(FieldProblem::new(
            "/lines",
            format!("between 1 and {MAX_LINES} lines"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut conn = state.store.pool.acquire().await?;
    for (i, line) in request.lines.iter().enumerate() {
        match state.brand.catalogue.get(&line.sku) {
            None => problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("unknown SKU {}", line.sku),
            )),
            Some(product) => {
                let allowed = &product.restricted_to_regions;
                if !allowed.is_empty() && !allowed.contains(&to.region) {
                    problems.push(FieldProblem::new(
                        format!("/lines/{i}/sku"),
                        format!(
                            "{} is reserved for regions {}; it may not move to {}",
                            line.sku,
                            allowed.join(", "),
                            to.region
                        ),
                    ));
                } else if inventory::level_of(&mut conn, &from.id, &line.sku)
                    .await?
                    .is_none()
                {
                    problems.push(FieldProblem::new(
                        format!("/lines/{i}/sku"),
                        format!("{} holds no {}", from.id, line.sku),
                    ));
                }
            }
        }
        if !seen.insert(line.sku.as_str()) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("{} appears twice", line.sku),
            ));
        }
        if line.quantity <= 0 || line.quantity > MAX_QUANTITY {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/quantity"),
                format!("between 1 and {MAX_QUANTITY} cases"),
            ));
        }
    }
    drop(conn);
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let mut lines: Vec<TransferLine> = request
        .lines
        .into_iter()
        .map(|l| TransferLine {
            sku: l.sku,
            quantity: l.quantity,
        })
        .collect();
    lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    let mut transfer = new_transfer(
        &state.brand,
        &from,
        &to,
        lines,
        TransferStatus::Planned,
        request.reason.trim().to_string(),
        caller.actor(),
        now_ms(),
    );
    if let Some(route) = request.route {
        transfer.route = route.trim().to_string();
    }
    if let Some(cost) = request.cost_estimate {
        transfer.cost_estimate = cost;
    }
    let mut tx = state.store.begin_write().await?;
    transfers::insert(&mut tx, &transfer).await?;
    tx.commit().await?;
    show(state, caller, &transfer.id).await
}

/// May the caller see this transfer (HQ, or an admin of either end)?
fn check_visible(caller: &Caller, t: &TransferView) -> ApiResult<()> {
    match &caller.role {
        Role::HqAdmin => Ok(()),
        Role::RegionAdmin { region } if *region == t.from_region || *region == t.to_region => {
            Ok(())
        }
        Role::RegionAdmin { region } => Err(ApiError::forbidden(format!(
            "a region admin of {region} may not see transfer {} ({} → {})",
            t.id, t.from_region, t.to_region
        ))),
        Role::Dealer { .. } => Err(ApiError::forbidden("dealers may not see transfers")),
    }
}

pub async fn show(state: &AppState, caller: &Caller, id: &str) -> ApiResult<TransferView> {
    let mut conn = state.store.pool.acquire().await?;
    let transfer = transfers::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("transfer", id))?;
    check_visible(caller, &transfer)?;
    Ok(transfer)
}

/// Who may take each action: HQ approves; the source ships; the
/// destination receives; either end (or HQ) cancels.
async fn check_permission(
    state: &AppState,
    caller: &Caller,
    t: &TransferView,
    action: TransferAction,
) -> ApiResult<()> {
    let verb = action.name();
    let from = warehouse(state, &t.from_warehouse, "/from_warehouse").await?;
    let to = warehouse(state, &t.to_warehouse, "/to_warehouse").await?;
    let allowed = match action {
        TransferAction::Approve => return caller.require_hq("approve transfers"),
        TransferAction::Ship => may_manage(caller, &from),
        TransferAction::Receive => may_manage(caller, &to),
        TransferAction::Cancel => may_manage(caller, &from) || may_manage(caller, &to),
    };
    if allowed {
        Ok(())
    } else {
        let whose = match action {
            TransferAction::Ship => format!("the source warehouse {}", from.id),
            TransferAction::Receive => format!("the destination warehouse {}", to.id),
            _ => format!("{} or {}", from.id, to.id),
        };
        Err(ApiError::forbidden(format!(
            "only HQ or the admin of {whose} may {verb} transfer {}",
            t.id
        )))
    }
}

fn conflict(t: &TransferView, action: TransferAction) -> ApiError {
    ApiError::conflict(
        format!(
            "transfer {} is {}; it cannot {}",
            t.id,
            t.status.name(),
            action.name()
        ),
        t.status
            .allowed()
            .iter()
            .map(|a| a.name().to_string())
            .collect(),
    )
}

/// Approve, ship, receive or cancel, moving the stock the step implies.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: TransferAction,
    note: &str,
) -> ApiResult<TransferView> {
    let current = show(state, caller, id).await?;
    check_permission(state, caller, &current, action).await?;
    let next = current
        .status
        .after(action)
        .map_err(|_| conflict(&current, action))?;
    let at = now_ms();
    let actor = caller.actor();
    let mut tx = state.store.begin_write().await?;
    // The status change comes first: it is the guard, and it takes the
    // write lock before anything is read.
    if !transfers::set_status(&mut tx, id, current.status, next, &actor, at).await? {
        drop(tx);
        let now = show(state, caller, id).await?;
        return Err(conflict(&now, action));
    }
    let reason = format!("transfer {id} {}", next.name());
    for (i, line) in current.lines.iter().enumerate() {
        let q = line.quantity;
        let (warehouse, kind, on_hand, reserved) = match (action, current.status) {
            (TransferAction::Approve, _) => {
                (&current.from_warehouse, MovementKind::Reservation, 0, q)
            }
            (TransferAction::Ship, _) => {
                (&current.from_warehouse, MovementKind::TransferOut, -q, -q)
            }
            (TransferAction::Receive, _) => (&current.to_warehouse, MovementKind::TransferIn, q, 0),
            (TransferAction::Cancel, TransferStatus::Approved) => {
                (&current.from_warehouse, MovementKind::Release, 0, -q)
            }
            // Nothing was reserved before approval: nothing to release.
            (TransferAction::Cancel, _) => continue,
        };
        let movement = Movement {
            transfer_id: Some(id),
            ..Movement::new(
                warehouse, &line.sku, kind, on_hand, reserved, &reason, &actor, at,
            )
        };
        if !inventory::apply(&mut tx, &movement).await? {
            let (on_hand, reserved) = inventory::level_of(&mut tx, warehouse, &line.sku)
                .await?
                .unwrap_or((0, 0));
            return Err(match action {
                TransferAction::Approve => ApiError::invalid(
                    format!("/lines/{i}/quantity"),
                    format!(
                        "{warehouse} has {} of {} available (on hand {on_hand}, reserved {reserved}); the transfer needs {q}",
                        on_hand - reserved,
                        line.sku
                    ),
                ),
                _ => ApiError::Internal(format!(
                    "transfer {id} {}: {warehouse} {} refused the movement (on hand {on_hand}, reserved {reserved})",
                    action.name(),
                    line.sku
                )),
            });
        }
    }
    transfers::record_event(
        &mut tx,
        id,
        Some(current.status),
        next,
        action.name(),
        &actor,
        at,
        note,
    )
    .await?;
    tx.commit().await?;
    show(state, caller, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intra_region_costs_handling_plus_per_case() {
        assert_eq!(cost_estimate(100, None), 20_000 + 300 * 100);
    }

    #[test]
    fn cross_region_cost_grows_with_rank() {
        assert_eq!(cost_estimate(100, Some(1)), 50_000 + 800 * 100);
        assert_eq!(cost_estimate(100, Some(3)), 50_000 + 800 * 100 * 3);
        assert!(cost_estimate(10, Some(NON_NEIGHBOUR_RANK)) > cost_estimate(10, Some(6)));
        // A bad rank never makes a transfer cheaper than a first neighbour's.
        assert_eq!(cost_estimate(10, Some(0)), cost_estimate(10, Some(1)));
    }
}
