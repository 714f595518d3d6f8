//! `/v1/inventory`: stock per warehouse and SKU with its alert flags, the
//! movements that explain every figure, and the three ways people change
//! stock by hand — production receipts, adjustments with a reason, and
//! stock counts. HQ sees and manages everything; a region admin the
//! warehouses of their region (not HQ's own warehouses standing there);
//! dealers see stock only through their orders.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::Params;
use super::openapi::{Forbidden, Invalid, JsonBody};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller, FieldProblem, Role};
use crate::service::alerts::{AlertSettings, days_of_cover};
use crate::service::transfers::may_manage;
use crate::store::catalogue::{self, WarehouseView};
use crate::store::inventory::{
    self, Movement, MovementFilter, MovementKind, MovementRow, StockFilter, StockRow,
};
use crate::store::now_ms;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(movements))
        .routes(routes!(receipt))
        .routes(routes!(adjustment))
        .routes(routes!(count))
}

/// Most lines one receipt or count may carry.
const MAX_LINES: usize = 500;
/// Largest quantity of one line, in cases.
const MAX_QUANTITY: i64 = 10_000_000;
/// Longest free text (reason, reference).
const MAX_TEXT: usize = 500;

/// The region a caller's read is scoped to: HQ may ask for any region or
/// none; a region admin gets their own (403 for another); dealers none.
pub(super) fn region_scope(
    caller: &Caller,
    asked: Option<String>,
    what: &str,
) -> ApiResult<Option<String>> {
    match (&caller.role, asked) {
        (Role::HqAdmin, asked) => Ok(asked),
        (Role::RegionAdmin { region }, Some(asked)) if asked != *region => {
            Err(ApiError::forbidden(format!(
                "a region admin of {region} may not see {what} of region {asked}"
            )))
        }
        (Role::RegionAdmin { region }, _) => Ok(Some(region.clone())),
        (Role::Dealer { .. }, _) => Err(ApiError::forbidden(format!(
            "dealers may not see {what}; ask your regional center"
        ))),
    }
}

/// A stock row with its derived figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryRow {
    #[serde(flatten)]
    pub stock: StockRow,
    pub available: i64,
    /// Available ÷ the row's baseline daily demand; null without demand.
    pub days_of_cover: Option<f64>,
    pub below_safety: bool,
    pub slow_moving: bool,
}

pub fn inventory_row(settings: &AlertSettings, stock: StockRow) -> InventoryRow {
    let available = stock.available();
    let cover = days_of_cover(available, stock.daily_demand as f64);
    InventoryRow {
        available,
        days_of_cover: cover.map(|d| (d * 10.0).round() / 10.0),
        below_safety: settings.below_safety(available, stock.target),
        slow_moving: settings.slow_moving(available, cover),
        stock,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    warehouse_id: Option<String>,
    sku: Option<String>,
    /// `hq`, `region`, `dealer` or `store`.
    level: Option<String>,
}

/// A warehouse the caller may see or manage, or 422 (unknown) / 403.
async fn managed_warehouse(
    state: &AppState,
    caller: &Caller,
    id: &str,
    path: &str,
    verb: &str,
) -> ApiResult<WarehouseView> {
    let warehouse = catalogue::warehouse(&state.store, id)
        .await?
        .ok_or_else(|| ApiError::invalid(path, format!("unknown warehouse {id}")))?;
    if may_manage(caller, &warehouse) {
        return Ok(warehouse);
    }
    Err(ApiError::forbidden(match &caller.role {
        Role::Dealer { .. } => format!("dealers may not {verb} warehouse stock"),
        _ if warehouse.level == crate::domain::WarehouseLevel::Hq => {
            format!("only HQ may {verb} HQ warehouse {id}")
        }
        _ => format!(
            "only HQ or the admin of region {} may {verb} warehouse {id}",
            warehouse.region
        ),
    }))
}

fn known_sku(state: &AppState, sku: &str, path: &str) -> ApiResult<()> {
    if state.brand.catalogue.contains_key(sku) {
        Ok(())
    } else {
        Err(ApiError::invalid(path, format!("unknown SKU {sku}")))
    }
}

/// Stock
///
/// Per warehouse and SKU: on hand, reserved, available, target, days of
/// cover and alert flags. HQ everything, a region admin their region's
/// warehouses; dealers see stock only through their orders.
#[utoipa::path(
    get,
    path = "/inventory",
    tag = "inventory",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "The stock rows.", body = Vec<InventoryRow>),
        Forbidden, Invalid,
    ),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Vec<InventoryRow>>> {
    let region = region_scope(&caller, q.region, "stock")?;
    if let Some(id) = &q.warehouse_id {
        managed_warehouse(&state, &caller, id, "?warehouse_id", "see").await?;
    }
    if let Some(sku) = &q.sku {
        known_sku(&state, sku, "?sku")?;
    }
    let mut conn = state.store.pool.acquire().await?;
    let filter = StockFilter {
        region: region.as_deref(),
        warehouse_id: q.warehouse_id.as_deref(),
        sku: q.sku.as_deref(),
        level: q.level.as_deref(),
    };
    let rows = inventory::stock(&mut conn, &filter).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| inventory_row(&state.alerts, r))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MovementQuery {
    region: Option<String>,
    warehouse_id: Option<String>,
    sku: Option<String>,
    transfer_id: Option<String>,
    /// Movements per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of movements, newest first.
#[derive(Serialize, ToSchema)]
struct MovementPage {
    movements: Vec<MovementRow>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    next_cursor: Option<String>,
}

/// Stock movements
///
/// The append-only movements that explain every figure, newest first.
#[utoipa::path(
    get,
    path = "/inventory/movements",
    tag = "inventory",
    params(
        MovementQuery,
    ),
    responses(
        (status = 200, description = "One page of movements.", body = MovementPage),
        Forbidden, Invalid,
    ),
)]
async fn movements(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MovementQuery>,
) -> ApiResult<Json<MovementPage>> {
    let limit = page::limit(q.limit, 100, 1000)?;
    let region = region_scope(&caller, q.region, "stock movements")?;
    if let Some(id) = &q.warehouse_id {
        managed_warehouse(&state, &caller, id, "?warehouse_id", "see").await?;
    }
    let mut conn = state.store.pool.acquire().await?;
    let filter = MovementFilter {
        region: region.as_deref(),
        warehouse_id: q.warehouse_id.as_deref(),
        sku: q.sku.as_deref(),
        transfer_id: q.transfer_id.as_deref(),
        before: q.cursor.as_deref(),
        limit: i64::from(limit) + 1,
    };
    let mut movements = inventory::movements(&mut conn, &filter).await?;
    let next_cursor = page::cut(&mut movements, limit, |m| m.id.clone());
    Ok(Json(MovementPage {
        movements,
        next_cursor,
    }))
}

/// What a write answers: the touched stock rows as they now stand.
#[derive(Serialize, ToSchema)]
struct Changed {
    warehouse_id: String,
    stock: Vec<InventoryRow>,
}

async fn changed(
    state: &AppState,
    warehouse_id: &str,
    skus: &BTreeSet<String>,
) -> ApiResult<Json<Changed>> {
    let mut conn = state.store.pool.acquire().await?;
    let filter = StockFilter {
        warehouse_id: Some(warehouse_id),
        ..StockFilter::default()
    };
    let stock = inventory::stock(&mut conn, &filter)
        .await?
        .into_iter()
        .filter(|r| skus.contains(&r.sku))
        .map(|r| inventory_row(&state.alerts, r))
        .collect();
    Ok(Json(Changed {
        warehouse_id: warehouse_id.to_string(),
        stock,
    }))
}

fn text(value: &str, path: &str, what: &str, problems: &mut Vec<FieldProblem>) {
    if value.trim().is_empty() {
        problems.push(FieldProblem::new(path, format!("{what} is required")));
    } else if value.len() > MAX_TEXT {
        problems.push(FieldProblem::new(path, format!("at most {MAX_TEXT} bytes")));
    }
}

/// Checks lines of `(sku, quantity)`: known SKUs, once each, quantity in
/// `min..=MAX_QUANTITY`.
fn check_lines<'a>(
    state: &AppState,
    lines: impl ExactSizeIterator<Item = (&'a str, i64)>,
    field: &str,
    min: i64,
    problems: &mut Vec<FieldProblem>,
) -> BTreeSet<String> {
    if lines.len() == 0 || lines.len() > MAX_LINES {
        problems.push(FieldProblem::new(
            "/lines",
            format!("between 1 and {MAX_LINES} lines"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, (sku, quantity)) in lines.enumerate() {
        if !state.brand.catalogue.contains_key(sku) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("unknown SKU {sku}"),
            ));
        } else if !seen.insert(sku.to_string()) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("{sku} appears twice"),
            ));
        }
        if quantity < min || quantity > MAX_QUANTITY {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/{field}"),
                format!("between {min} and {MAX_QUANTITY} cases"),
            ));
        }
    }
    seen
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Receipt {
    warehouse_id: String,
    lines: Vec<ReceiptLine>,
    /// The production batch or delivery note.
    reference: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReceiptLine {
    sku: String,
    quantity: i64,
}

/// Record a production receipt
///
/// Goods arriving from the factory.
#[utoipa::path(
    post,
    path = "/inventory/receipts",
    tag = "inventory",
    request_body = Receipt,
    responses(
        (status = 201, description = "The touched stock rows.", body = Changed),
        JsonBody, Forbidden,
    ),
)]
async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Body(r): Body<Receipt>,
) -> ApiResult<(StatusCode, Json<Changed>)> {
    let warehouse = managed_warehouse(
        &state,
        &caller,
        &r.warehouse_id,
        "/warehouse_id",
        "receive goods into",
    )
    .await?;
    let mut problems = Vec::new();
    let skus = check_lines(
        &state,
        r.lines.iter().map(|l| (l.sku.as_str(), l.quantity)),
        "quantity",
        1,
        &mut problems,
    );
    text(
        &r.reference,
        "/reference",
        "a reference (batch or delivery note)",
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let actor = caller.actor();
    let reason = format!("production receipt {}", r.reference.trim());
    let at = now_ms();
    let mut lines: Vec<&ReceiptLine> = r.lines.iter().collect();
    lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    let mut tx = state.store.begin_write().await?;
    for line in lines {
        let movement = Movement::new(
            &warehouse.id,
            &line.sku,
            MovementKind::Receipt,
            line.quantity,
            0,
            &reason,
            &actor,
            at,
        );
        if !inventory::apply(&mut tx, &movement).await? {
            return Err(ApiError::Internal(format!(
                "receipt into {} {} refused",
                warehouse.id, line.sku
            )));
        }
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        changed(&state, &warehouse.id, &skus).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    warehouse_id: String,
    sku: String,
    /// Cases added (positive) or removed (negative) from on hand.
    delta: i64,
    reason: String,
}

/// Adjust stock
///
/// On hand up or down, with a reason (breakage, found goods, …).
#[utoipa::path(
    post,
    path = "/inventory/adjustments",
    tag = "inventory",
    request_body = Adjustment,
    responses(
        (status = 201, description = "The touched stock row.", body = Changed),
        JsonBody, Forbidden,
    ),
)]
async fn adjustment(
    State(state): State<AppState>,
    caller: Caller,
    Body(a): Body<Adjustment>,
) -> ApiResult<(StatusCode, Json<Changed>)> {
    let warehouse = managed_warehouse(
        &state,
        &caller,
        &a.warehouse_id,
        "/warehouse_id",
        "adjust stock of",
    )
    .await?;
    let mut problems = Vec::new();
    if !state.brand.catalogue.contains_key(&a.sku) {
        problems.push(FieldProblem::new("/sku", format!("unknown SKU {}", a.sku)));
    }
    if a.delta == 0 || a.delta.abs() > MAX_QUANTITY {
        problems.push(FieldProblem::new(
            "/delta",
            format!("a non-zero number of cases, at most {MAX_QUANTITY} either way"),
        ));
    }
    text(&a.reason, "/reason", "a reason", &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let actor = caller.actor();
    let reason = a.reason.trim();
    let mut tx = state.store.begin_write().await?;
    let movement = Movement::new(
        &warehouse.id,
        &a.sku,
        MovementKind::Adjustment,
        a.delta,
        0,
        reason,
        &actor,
        now_ms(),
    );
    if !inventory::apply(&mut tx, &movement).await? {
        return Err(
            match inventory::level_of(&mut tx, &warehouse.id, &a.sku).await? {
                None => ApiError::invalid(
                    "/sku",
                    format!("{} holds no {}; nothing to take away", warehouse.id, a.sku),
                ),
                Some((on_hand, reserved)) => ApiError::invalid(
                    "/delta",
                    format!(
                        "{} of {} would leave {} on hand, below the {reserved} reserved (on hand {on_hand}, available {}); \
                     release or ship reserved stock first",
                        a.delta,
                        a.sku,
                        on_hand + a.delta,
                        on_hand - reserved
                    ),
                ),
            },
        );
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        changed(&state, &warehouse.id, &BTreeSet::from([a.sku])).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Count {
    warehouse_id: String,
    lines: Vec<CountLine>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CountLine {
    sku: String,
    counted: i64,
}

/// Record a stock count
///
/// On hand becomes the counted figure, the difference a `count` movement
/// (a zero one when the count matched, as a record).
#[utoipa::path(
    post,
    path = "/inventory/counts",
    tag = "inventory",
    request_body = Count,
    responses(
        (status = 201, description = "The touched stock rows.", body = Changed),
        JsonBody, Forbidden,
    ),
)]
async fn count(
    State(state): State<AppState>,
    caller: Caller,
    Body(c): Body<Count>,
) -> ApiResult<(StatusCode, Json<Changed>)> {
    let warehouse = managed_warehouse(
        &state,
        &caller,
        &c.warehouse_id,
        "/warehouse_id",
        "count stock of",
    )
    .await?;
    let mut problems = Vec::new();
    let skus = check_lines(
        &state,
        c.lines.iter().map(|l| (l.sku.as_str(), l.counted)),
        "counted",
        0,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let actor = caller.actor();
    let at = now_ms();
    let mut lines: Vec<(usize, &CountLine)> = c.lines.iter().enumerate().collect();
    lines.sort_by(|a, b| a.1.sku.cmp(&b.1.sku));
    let mut tx = state.store.begin_write().await?;
    let mut problems = Vec::new();
    for (i, line) in lines {
        // Lock the row before reading it: the difference must be taken
        // from the figure the movement lands on.
        let (on_hand, reserved) =
            match inventory::lock_row(&mut tx, &warehouse.id, &line.sku).await? {
                Some(level) => level,
                None if line.counted == 0 => continue,
                None => (0, 0),
            };
        if line.counted < reserved {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/counted"),
                format!(
                    "{} {} counted {} is below the {reserved} reserved; release or ship reserved stock, then count again",
                    warehouse.id, line.sku, line.counted
                ),
            ));
            continue;
        }
        let reason = format!("stock count: {on_hand} on record, {} counted", line.counted);
        let movement = Movement::new(
            &warehouse.id,
            &line.sku,
            MovementKind::Count,
            line.counted - on_hand,
            0,
            &reason,
            &actor,
            at,
        );
        if !inventory::apply(&mut tx, &movement).await? {
            return Err(ApiError::Internal(format!(
                "count of {} {} refused",
                warehouse.id, line.sku
            )));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        changed(&state, &warehouse.id, &skus).await?,
    ))
}
