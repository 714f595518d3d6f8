//! `/v1/orders`: place (idempotent), list with cursor pagination, read with
//! timeline and decision trace, and move through the lifecycle.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{OptionalBody, Params, Path, created, idempotency_key};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound, Unavailable};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller, Role};
use crate::domain::{OrderAction, OrderStatus};
use crate::service::lifecycle::{self, Note, ShipRequest, TrackingEvent};
use crate::service::placement::{self, PlaceOrder, Placed};
use crate::store::orders::{self, OrderFilter, OrderHeader, OrderView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place, list))
        .routes(routes!(show))
        .routes(routes!(decision))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(allocate))
        .routes(routes!(cancel))
        .routes(routes!(confirm_receipt))
        .routes(routes!(complete))
        .routes(routes!(ship))
        .routes(routes!(track))
}

/// Place an order
///
/// Runs the region's plugins once (anti-diversion, pricing, promotions,
/// sourcing), then stores the order and reserves its stock in one
/// transaction. An order the policy allows is `approved`; one it holds is
/// `pending_review` with reasons; one it rejects is a 422 with the reasons
/// in `context`, and is not stored. A retry with the same
/// `Idempotency-Key` answers the first order (`idempotent-replayed:
/// true`); the same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    params(
        ("Idempotency-Key" = String, Header, min_length = 1, max_length = 200,
            description = "Any unique string (1–200 visible ASCII characters), reused on retry."),
    ),
    request_body = PlaceOrder,
    responses(
        (status = 201, description = "The order as placed, or as first placed under this key.", body = orders::OrderView,
            headers(
                ("location" = String, description = "`/v1/orders/<id>`"),
                ("idempotent-replayed" = String, description = "`true` when this answers a retry"),
            )),
        JsonBody, Forbidden, Unavailable,
    ),
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this dealer's orders (a dealer sees only its own anyway).
    dealer_id: Option<String>,
    /// Only this region's orders (a region admin sees only their own).
    region: Option<String>,
    #[param(inline)]
    status: Option<OrderStatus>,
    /// Placed at or after (ms since the epoch).
    from: Option<i64>,
    /// Placed before (ms since the epoch).
    to: Option<i64>,
    /// Orders per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of orders, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderPage)]
struct Page {
    orders: Vec<OrderHeader>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// List orders
///
/// Newest first, scoped to what the caller may see: HQ everything, a
/// region admin their region, a dealer its own orders.
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of orders.", body = Page),
        Forbidden, Invalid,
    ),
)]
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

/// Read an order
///
/// Its lines, reservations, backorders, shipments with tracking, timeline,
/// and the actions its status allows now.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order.", body = orders::OrderView),
        Forbidden, NotFound,
    ),
)]
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

/// The decision as stored, and the exact input the plugins saw.
#[derive(Serialize, ToSchema)]
struct DecisionRecord {
    /// Status, reasons, priced lines, promotions, allocations and the trace
    /// of every plugin call (plugin identity, outcome, fuel, time).
    decision: serde_json::Value,
    /// The order context the pipeline evaluated: order, dealer, catalogue
    /// and stock as they were.
    input: serde_json::Value,
}

/// Read the decision that placed an order
///
/// The plugins' trace, and the exact input they saw, as stored when the
/// order was placed.
#[utoipa::path(
    get,
    path = "/orders/{id}/decision",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The decision and its input.", body = DecisionRecord),
        Forbidden, NotFound,
    ),
)]
async fn decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DecisionRecord>> {
    let mut conn = state.store.pool.acquire().await?;
    lifecycle::visible_order(&mut conn, &caller, &id).await?;
    let (decision, context) = orders::decision(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", id))?;
    Ok(Json(DecisionRecord {
        decision,
        input: context,
    }))
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

transitions! {
    "orders", "Order id", OrderView, OrderAction, "An optional note for the timeline.";
    approve => Approve, "/orders/{id}/approve",
        "Approve an order held for review",
        "`pending_review` → `approved`; HQ or the region's admin.";
    reject => Reject, "/orders/{id}/reject",
        "Reject an order held for review",
        "`pending_review` → `rejected`; releases its reservations.";
    allocate => Allocate, "/orders/{id}/allocate",
        "Allocate an approved order",
        "`approved` → `allocated`: its reserved stock is committed to it.";
    cancel => Cancel, "/orders/{id}/cancel",
        "Cancel an order",
        "Before shipping; releases its reservations.";
    confirm_receipt => ConfirmReceipt, "/orders/{id}/receipt",
        "Confirm receipt of a delivered order",
        "`in_transit` → `delivered`; the dealer (or its center).";
    complete => Complete, "/orders/{id}/complete",
        "Complete a delivered order",
        "`delivered` → `completed`.";
}

/// Ship from one warehouse
///
/// One shipment per source warehouse (partial shipments allowed): by
/// default everything still reserved there.
#[utoipa::path(
    post,
    path = "/orders/{id}/shipments",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    request_body = ShipRequest,
    responses(
        (status = 201, description = "The order with its new shipment.", body = orders::OrderView),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
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

/// Record a carrier tracking event
///
/// The first one moves a shipped order `in_transit`.
#[utoipa::path(
    post,
    path = "/orders/{id}/shipments/{shipment}/events",
    tag = "orders",
    params(
        ("id" = String, Path, description = "Order id"),
        ("shipment" = String, Path, description = "Shipment id"),
    ),
    request_body = TrackingEvent,
    responses(
        (status = 201, description = "The order with the event in its shipment's tracking.", body = orders::OrderView),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
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
