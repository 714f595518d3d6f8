//! `/v1/orders`: place (idempotent), list with cursor pagination, read with
//! timeline and decision trace, and move through the lifecycle.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::{OptionalBody, Params, created, idempotency_key};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller, Role};
use crate::domain::{OrderAction, OrderStatus};
use crate::service::lifecycle::{self, Note, ShipRequest, TrackingEvent};
use crate::service::placement::{self, PlaceOrder, Placed};
use crate::store::orders::{self, OrderFilter, OrderHeader};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(place).get(list))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/decision", get(decision))
        .route("/orders/{id}/approve", post(approve))
        .route("/orders/{id}/reject", post(reject))
        .route("/orders/{id}/allocate", post(allocate))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/receipt", post(confirm_receipt))
        .route("/orders/{id}/complete", post(complete))
        .route("/orders/{id}/shipments", post(ship))
        .route("/orders/{id}/shipments/{shipment}/events", post(track))
}

async fn place(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(request): Body<PlaceOrder>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?.ok_or_else(|| ApiError::BadRequest {
        detail: "an order needs an Idempotency-Key header (any unique string, reused on retry)"
            .into(),
        path: Some("Idempotency-Key".into()),
    })?;
    let (order, replayed) = match placement::place(&state, &caller, &key, request).await? {
        Placed::Created(order) => (order, false),
        Placed::Replayed(order) => (order, true),
    };
    let location = format!("/v1/orders/{}", order.header.id);
    Ok(created(order, Some(location), replayed))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    dealer_id: Option<String>,
    region: Option<String>,
    status: Option<OrderStatus>,
    /// Placed at or after (ms since the epoch).
    from: Option<i64>,
    /// Placed before (ms since the epoch).
    to: Option<i64>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Page {
    orders: Vec<OrderHeader>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Page>> {
    let limit = page::limit(query.limit, 50, 500)?;
    let mut filter = OrderFilter {
        dealer_id: query.dealer_id,
        region: query.region,
        status: query.status,
        placed_from: query.from,
        placed_to: query.to,
        after: page::decode_time_cursor(query.cursor.as_deref())?,
        limit,
    };
    // Scope the query to what the caller may see.
    match &caller.role {
        Role::HqAdmin => {}
        Role::RegionAdmin { region } => match &filter.region {
            Some(asked) if asked != region => {
                return Err(ApiError::forbidden(format!(
                    "a region admin of {region} may not list orders of region {asked}"
                )));
            }
            _ => filter.region = Some(region.clone()),
        },
        Role::Dealer { dealer_id, .. } => match &filter.dealer_id {
            Some(asked) if asked != dealer_id => {
                return Err(ApiError::forbidden(format!(
                    "dealer {dealer_id} may not list orders of dealer {asked}"
                )));
            }
            _ => filter.dealer_id = Some(dealer_id.clone()),
        },
    }
    let mut conn = state.store.pool.acquire().await?;
    let mut orders = orders::list(&mut conn, &filter).await?;
    let next_cursor = page::cut(&mut orders, limit, |o| {
        page::time_cursor(o.placed_at, &o.id)
    });
    Ok(Json(Page {
        orders,
        next_cursor,
    }))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<orders::OrderView>> {
    let mut conn = state.store.pool.acquire().await?;
    lifecycle::visible_order(&mut conn, &caller, &id).await?;
    let view = orders::view(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", id))?;
    Ok(Json(view))
}

/// The decision that placed the order, with its trace and the exact input
/// the plugins saw.
async fn decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut conn = state.store.pool.acquire().await?;
    lifecycle::visible_order(&mut conn, &caller, &id).await?;
    let (decision, context) = orders::decision(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", id))?;
    Ok(Json(
        serde_json::json!({ "decision": decision, "input": context }),
    ))
}

async fn step(
    state: AppState,
    caller: Caller,
    id: String,
    action: OrderAction,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    let note = note.0.map(|n| n.note).unwrap_or_default();
    Ok(Json(
        lifecycle::transition(&state, &caller, &id, action, &note).await?,
    ))
}

async fn approve(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::Approve, note).await
}
async fn reject(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::Reject, note).await
}
async fn allocate(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::Allocate, note).await
}
async fn cancel(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::Cancel, note).await
}
async fn confirm_receipt(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::ConfirmReceipt, note).await
}
async fn complete(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    note: OptionalBody<Note>,
) -> ApiResult<Json<orders::OrderView>> {
    step(s, c, id, OrderAction::Complete, note).await
}

async fn ship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<ShipRequest>,
) -> ApiResult<(StatusCode, Json<orders::OrderView>)> {
    Ok((
        StatusCode::CREATED,
        Json(lifecycle::ship(&state, &caller, &id, request).await?),
    ))
}

async fn track(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, shipment)): Path<(String, String)>,
    Body(event): Body<TrackingEvent>,
) -> ApiResult<(StatusCode, Json<orders::OrderView>)> {
    Ok((
        StatusCode::CREATED,
        Json(lifecycle::track(&state, &caller, &id, &shipment, event).await?),
    ))
}
