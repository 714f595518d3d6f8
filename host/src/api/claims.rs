//! After-sales claims over HTTP: open one on a delivered order, approve it
//! (refund to credit or reshipment) or reject it, and read claims scoped to
//! what the caller may see.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{Params, Path};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::claims::{self, ApproveClaim, OpenClaim, RejectClaim};
use crate::store::claims::{ClaimFilter, ClaimStatus, ClaimView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open, for_order))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

/// Open a claim on a delivered order
///
/// Damaged, missing or wrong goods, with the lines claimed and photo
/// references; the dealer, its center or HQ.
#[utoipa::path(
    post,
    path = "/orders/{id}/claims",
    tag = "claims",
    params(
        ("id" = String, Path, description = "Order id"),
    ),
    request_body = OpenClaim,
    responses(
        (status = 201, description = "The claim, open.", body = ClaimView,
            headers(("location" = String, description = "`/v1/claims/<id>`"))),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<OpenClaim>,
) -> ApiResult<(StatusCode, [(&'static str, String); 1], Json<ClaimView>)> {
    let claim = claims::open(&state, &caller, &id, request).await?;
    Ok((
        StatusCode::CREATED,
        [("location", format!("/v1/claims/{}", claim.id))],
        Json(claim),
    ))
}

/// Approve a claim
///
/// Made good by a refund to the dealer's credit (fen) or by a reshipment;
/// HQ or the region's admin.
#[utoipa::path(
    post,
    path = "/claims/{id}/approve",
    tag = "claims",
    params(
        ("id" = String, Path, description = "Claim id"),
    ),
    request_body = ApproveClaim,
    responses(
        (status = 200, description = "The claim, approved.", body = ClaimView),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<ApproveClaim>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::approve(&state, &caller, &id, request).await?))
}

/// Reject a claim
///
/// With a note saying why; HQ or the region's admin.
#[utoipa::path(
    post,
    path = "/claims/{id}/reject",
    tag = "claims",
    params(
        ("id" = String, Path, description = "Claim id"),
    ),
    request_body = RejectClaim,
    responses(
        (status = 200, description = "The claim, rejected.", body = ClaimView),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<RejectClaim>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::reject(&state, &caller, &id, request).await?))
}

/// Read a claim
///
/// With the reshipments that resolved it.
#[utoipa::path(
    get,
    path = "/claims/{id}",
    tag = "claims",
    params(
        ("id" = String, Path, description = "Claim id"),
    ),
    responses(
        (status = 200, description = "The claim.", body = ClaimView),
        Forbidden, NotFound,
    ),
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::show(&state, &caller, &id).await?))
}

/// An order's claims.
#[derive(Serialize, ToSchema)]
struct OrderClaims {
    order_id: String,
    claims: Vec<ClaimView>,
}

/// An order's claims
#[utoipa::path(
    get,
    path = "/orders/{id}/claims",
    tag = "claims",
    params(
        ("id" = String, Path, description = "Order id"),
    ),
    responses(
        (status = 200, description = "The order's claims.", body = OrderClaims),
        Forbidden, NotFound,
    ),
)]
async fn for_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderClaims>> {
    let claims = claims::for_order(&state, &caller, &id).await?;
    Ok(Json(OrderClaims {
        order_id: id,
        claims,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    #[param(inline)]
    status: Option<ClaimStatus>,
    dealer_id: Option<String>,
    /// Claims per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of claims, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = ClaimPage)]
struct Page {
    claims: Vec<ClaimView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// List claims
///
/// Newest first, scoped to what the caller may see.
#[utoipa::path(
    get,
    path = "/claims",
    tag = "claims",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "One page of claims.", body = Page),
        Forbidden, Invalid,
    ),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Page>> {
    let limit = page::limit(query.limit, 50, 500)?;
    let after = page::decode_time_cursor(query.cursor.as_deref())?;
    let filter = ClaimFilter {
        region: query.region,
        status: query.status,
        dealer_id: query.dealer_id,
        after,
        limit,
    };
    let (claims, more) = claims::list(&state, &caller, filter).await?;
    let next_cursor = if more {
        claims.last().map(|c| page::time_cursor(c.opened_at, &c.id))
    } else {
        None
    };
    Ok(Json(Page {
        claims,
        next_cursor,
    }))
}
