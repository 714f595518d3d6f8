//! Payments over HTTP: pay an order (online, bank transfer, or charged to
//! the dealer's credit), pay down a dealer's credit balance, and read an
//! order's payments, a dealer's ledger and its credit position. Writes take
//! an optional `Idempotency-Key` header: a retry returns the first payment.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{Params, Path, created, idempotency_key};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::page;
use super::{ApiResult, AppState, Body, Caller};
use crate::service::payments::{self, OrderPayments, PaymentRequest, Recorded};
use crate::store::payments::{CreditView, PaymentView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pay_order, order_payments))
        .routes(routes!(pay_dealer, dealer_payments))
        .routes(routes!(credit))
}

fn answer(recorded: Recorded) -> Response {
    match recorded {
        Recorded::Created(payment) => created(payment, None, false),
        Recorded::Replayed(payment) => created(payment, None, true),
    }
}

/// Pay an order
///
/// Online, bank transfer, or charged to the dealer's credit (within its
/// credit limit); at most what is still due. Amounts in fen.
#[utoipa::path(
    post,
    path = "/orders/{id}/payments",
    tag = "payments",
    params(
        ("id" = String, Path, description = "Order id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
    description = "Optional (1–200 visible ASCII characters); a retry with the same key answers the first payment."),
    ),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "The payment as recorded (or as first recorded under this key).", body = PaymentView,
            headers(("idempotent-replayed" = String, description = "`true` when this answers a retry"))),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
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

/// Pay down a dealer's credit balance
///
/// Online or bank transfer; lowers its outstanding balance. Amounts in fen.
#[utoipa::path(
    post,
    path = "/dealers/{id}/payments",
    tag = "payments",
    params(
        ("id" = String, Path, description = "Dealer id, e.g. `D-GD-0001`"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
    description = "Optional (1–200 visible ASCII characters); a retry with the same key answers the first payment."),
    ),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "The payment as recorded (or as first recorded under this key).", body = PaymentView,
            headers(("idempotent-replayed" = String, description = "`true` when this answers a retry"))),
        JsonBody, Forbidden, NotFound,
    ),
)]
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

/// An order's payments
///
/// With its total, what is paid and what is due (fen).
#[utoipa::path(
    get,
    path = "/orders/{id}/payments",
    tag = "payments",
    params(
        ("id" = String, Path, description = "Order id"),
    ),
    responses(
        (status = 200, description = "The order's payments.", body = OrderPayments),
        Forbidden, NotFound,
    ),
)]
async fn order_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderPayments>> {
    Ok(Json(payments::order_payments(&state, &caller, &id).await?))
}

/// A dealer's credit position
///
/// Limit, outstanding balance and available credit (fen).
#[utoipa::path(
    get,
    path = "/dealers/{id}/credit",
    tag = "payments",
    params(
        ("id" = String, Path, description = "Dealer id, e.g. `D-GD-0001`"),
    ),
    responses(
        (status = 200, description = "The credit position.", body = CreditView),
        Forbidden, NotFound,
    ),
)]
async fn credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CreditView>> {
    Ok(Json(payments::credit(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    /// Payments per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A dealer's credit position and one page of its payments.
#[derive(Serialize, ToSchema)]
struct Ledger {
    credit: CreditView,
    /// Newest first.
    payments: Vec<PaymentView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// A dealer's ledger
///
/// Its credit position and its payments, newest first.
#[utoipa::path(
    get,
    path = "/dealers/{id}/payments",
    tag = "payments",
    params(
        ("id" = String, Path, description = "Dealer id, e.g. `D-GD-0001`"),
        LedgerQuery,
    ),
    responses(
        (status = 200, description = "One page of the ledger.", body = Ledger),
        Forbidden, NotFound, Invalid,
    ),
)]
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
