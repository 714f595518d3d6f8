//! Payments over HTTP: pay an order (online, bank transfer, or charged to
//! the dealer's credit), pay down a dealer's credit balance, and read an
//! order's payments, a dealer's ledger and its credit position. Writes take
//! an optional `Idempotency-Key` header: a retry returns the first payment.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::{Params, created, idempotency_key};
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::payments::{self, OrderPayments, PaymentRequest, Recorded};
use crate::store::payments::{CreditView, PaymentView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/payments", post(pay_order).get(order_payments))
        .route(
            "/dealers/{id}/payments",
            post(pay_dealer).get(dealer_payments),
        )
        .route("/dealers/{id}/credit", get(credit))
}

fn answer(recorded: Recorded) -> Response {
    match recorded {
        Recorded::Created(payment) => created(payment, None, false),
        Recorded::Replayed(payment) => created(payment, None, true),
    }
}

async fn pay_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(request): Body<PaymentRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    Ok(answer(
        payments::pay_order(&state, &caller, &id, key.as_deref(), request).await?,
    ))
}

async fn pay_dealer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(request): Body<PaymentRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    Ok(answer(
        payments::pay_dealer(&state, &caller, &id, key.as_deref(), request).await?,
    ))
}

async fn order_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderPayments>> {
    Ok(Json(payments::order_payments(&state, &caller, &id).await?))
}

async fn credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CreditView>> {
    Ok(Json(payments::credit(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Ledger {
    credit: CreditView,
    /// Newest first.
    payments: Vec<PaymentView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

async fn dealer_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(query): Params<LedgerQuery>,
) -> ApiResult<Json<Ledger>> {
    let limit = page::limit(query.limit, 100, 500)?;
    let before = page::decode_time_cursor(query.cursor.as_deref())?;
    let (credit, payments, more) =
        payments::dealer_payments(&state, &caller, &id, before, limit).await?;
    let next_cursor = if more {
        payments.last().map(|p| page::time_cursor(p.at, &p.id))
    } else {
        None
    };
    Ok(Json(Ledger {
        credit,
        payments,
        next_cursor,
    }))
}
