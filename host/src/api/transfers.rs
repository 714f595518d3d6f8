//! `/v1/transfers`: plan a transfer between two warehouses, list and read
//! transfers, and move one through approve → ship → receive (or cancel).
//! HQ sees all; a region admin the transfers into or out of their region.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::inventory::region_scope;
use super::json::OptionalBody;
use super::json::Params;
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::lifecycle::Note;
use crate::service::transfers::{self, PlanTransfer};
use crate::store::transfers::{
    self as store, TransferAction, TransferFilter, TransferStatus, TransferView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/transfers", post(plan).get(list))
        .route("/transfers/{id}", get(show))
        .route("/transfers/{id}/approve", post(approve))
        .route("/transfers/{id}/ship", post(ship))
        .route("/transfers/{id}/receive", post(receive))
        .route("/transfers/{id}/cancel", post(cancel))
}

async fn plan(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<PlanTransfer>,
) -> ApiResult<(StatusCode, [(&'static str, String); 1], Json<TransferView>)> {
    let transfer = transfers::plan(&state, &caller, request).await?;
    Ok((
        StatusCode::CREATED,
        [("location", format!("/v1/transfers/{}", transfer.id))],
        Json(transfer),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<TransferStatus>,
    region: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Page {
    transfers: Vec<TransferView>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Page>> {
    let limit = page::limit(q.limit, 50, 500)?;
    let region = region_scope(&caller, q.region, "transfers")?;
    let mut conn = state.store.pool.acquire().await?;
    let filter = TransferFilter {
        status: q.status,
        region: region.as_deref(),
        before: q.cursor.as_deref(),
        limit: i64::from(limit) + 1,
    };
    let mut transfers = store::list(&mut conn, &filter).await?;
    let next_cursor = page::cut(&mut transfers, limit, |t| t.id.clone());
    Ok(Json(Page {
        transfers,
        next_cursor,
    }))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TransferView>> {
    Ok(Json(transfers::show(&state, &caller, &id).await?))
}

async fn step(
    state: AppState,
    caller: Caller,
    id: String,
    action: TransferAction,
    note: OptionalBody<Note>,
) -> ApiResult<Json<TransferView>> {
    let note = note.0.map(|n| n.note).unwrap_or_default();
    Ok(Json(
        transfers::act(&state, &caller, &id, action, &note).await?,
    ))
}

async fn approve(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<TransferView>> {
    step(s, c, id, TransferAction::Approve, note).await
}
async fn ship(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<TransferView>> {
    step(s, c, id, TransferAction::Ship, note).await
}
async fn receive(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<TransferView>> {
    step(s, c, id, TransferAction::Receive, note).await
}
async fn cancel(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<TransferView>> {
    step(s, c, id, TransferAction::Cancel, note).await
}
