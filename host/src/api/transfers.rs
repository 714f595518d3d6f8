//! `/v1/transfers`: plan a transfer between two warehouses, list and read
//! transfers, and move one through approve → ship → receive (or cancel).
//! HQ sees all; a region admin the transfers into or out of their region.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::inventory::region_scope;
use super::json::OptionalBody;
use super::json::{Params, Path};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::lifecycle::Note;
use crate::service::transfers::{self, PlanTransfer};
use crate::store::transfers::{
    self as store, TransferAction, TransferFilter, TransferStatus, TransferView,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plan, list))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(ship))
        .routes(routes!(receive))
        .routes(routes!(cancel))
}

/// Plan a transfer
///
/// Between two warehouses, for HQ to approve. HQ, or the admin of the
/// region managing the source warehouse.
#[utoipa::path(
    post,
    path = "/transfers",
    tag = "transfers",
    request_body = PlanTransfer,
    responses(
        (status = 201, description = "The transfer, planned.", body = TransferView,
            headers(("location" = String, description = "`/v1/transfers/<id>`"))),
        JsonBody, Forbidden,
    ),
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[param(inline)]
    status: Option<TransferStatus>,
    region: Option<String>,
    /// Transfers per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of transfers, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = TransferPage)]
struct Page {
    transfers: Vec<TransferView>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    next_cursor: Option<String>,
}

/// List transfers
///
/// Newest first; a region admin sees those into or out of their region.
#[utoipa::path(
    get,
    path = "/transfers",
    tag = "transfers",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "One page of transfers.", body = Page),
        Forbidden, Invalid,
    ),
)]
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

/// Read a transfer
///
/// With its history.
#[utoipa::path(
    get,
    path = "/transfers/{id}",
    tag = "transfers",
    params(
        ("id" = String, Path, description = "Transfer id"),
    ),
    responses(
        (status = 200, description = "The transfer.", body = TransferView),
        Forbidden, NotFound,
    ),
)]
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

transitions! {
    "transfers", "Transfer id", TransferView, TransferAction, "An optional note for the history.";
    approve => Approve, "/transfers/{id}/approve",
        "Approve a transfer",
        "HQ only; reserves the quantities at the source.";
    ship => Ship, "/transfers/{id}/ship",
        "Ship a transfer",
        "The goods leave the source, as movements.";
    receive => Receive, "/transfers/{id}/receive",
        "Receive a transfer",
        "The goods arrive at the destination, as movements.";
    cancel => Cancel, "/transfers/{id}/cancel",
        "Cancel a transfer",
        "Before it ships; releases what approval reserved.";
}
