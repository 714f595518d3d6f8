//! After-sales claims over HTTP: open one on a delivered order, approve it
//! (refund to credit or reshipment) or reject it, and read claims scoped to
//! what the caller may see.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::Params;
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::claims::{self, ApproveClaim, OpenClaim, RejectClaim};
use crate::store::claims::{ClaimFilter, ClaimStatus, ClaimView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/claims", post(open).get(for_order))
        .route("/claims", get(list))
        .route("/claims/{id}", get(show))
        .route("/claims/{id}/approve", post(approve))
        .route("/claims/{id}/reject", post(reject))
}

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

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<ApproveClaim>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::approve(&state, &caller, &id, request).await?))
}

async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<RejectClaim>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::reject(&state, &caller, &id, request).await?))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimView>> {
    Ok(Json(claims::show(&state, &caller, &id).await?))
}

#[derive(Serialize)]
struct OrderClaims {
    order_id: String,
    claims: Vec<ClaimView>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    status: Option<ClaimStatus>,
    dealer_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Page {
    claims: Vec<ClaimView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

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
