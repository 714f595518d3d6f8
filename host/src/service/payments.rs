//! Recording payments: against an order (online, bank transfer, or charged
//! to the dealer's credit account) and on the credit balance itself.
//!
//! Each payment is one write transaction: the ledger row (deduplicated by
//! the idempotency key's unique index), then conditional updates that
//! re-check the order's amount due and the credit limit in the database.
//! The checks made before the transaction, on a connection of their own,
//! only give better errors and keep SQLite's write lock short; the
//! conditional updates are what keep concurrent payments, on one host or
//! several, from overpaying or overdrawing.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::api::{ApiError, ApiResult, AppState, Caller};
use crate::domain::Fen;
use crate::service::lifecycle;
use crate::store::orders::{self, OrderHeader};
use crate::store::payments::{self, CreditView, NewPayment, PaymentMethod, PaymentView, UNPAYABLE};
use crate::store::{new_id, now_ms};

/// Longest payment reference (bank transaction number, gateway id) kept.
pub const MAX_REFERENCE_LEN: usize = 200;

/// The body of `POST /v1/orders/{id}/payments` and `POST /v1/dealers/{id}/payments`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub method: PaymentMethod,
    /// Fen; signed so a negative amount gets a clear 422.
    #[schema(minimum = 1)]
    pub amount: i64,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

/// How recording a payment ended.
pub enum Recorded {
    Created(PaymentView),
    /// The idempotency key was used before for this same payment: that one.
    Replayed(PaymentView),
}

/// An order's payments with its totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderPayments {
    pub order_id: String,
    pub dealer_id: String,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub total: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub paid: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub due: Fen,
    pub payments: Vec<PaymentView>,
}

fn validate(request: &PaymentRequest, allowed: &[PaymentMethod]) -> ApiResult<String> {
    if !allowed.contains(&request.method) {
        let names: Vec<_> = allowed.iter().map(|m| m.name()).collect();
        return Err(ApiError::invalid(
            "/method",
            format!(
                "{} is not accepted here; use one of {}",
                request.method.name(),
                names.join(", ")
            ),
        ));
    }
    if request.amount <= 0 {
        return Err(ApiError::invalid(
            "/amount",
            "must be a positive amount in fen",
        ));
    }
    let reference = request
        .reference
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_string();
    if reference.chars().count() > MAX_REFERENCE_LEN {
        return Err(ApiError::invalid(
            "/reference",
            format!("at most {MAX_REFERENCE_LEN} characters"),
        ));
    }
    Ok(reference)
}

/// A replay must be the same payment; a key reused for another one is refused.
fn replay(
    existing: PaymentView,
    order_id: Option<&str>,
    request: &PaymentRequest,
) -> ApiResult<Recorded> {
    if existing.order_id.as_deref() != order_id
        || existing.method != request.method
        || existing.amount != request.amount
    {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!(
                "this key already recorded payment {} with a different request",
                existing.id
            ),
        ));
    }
    Ok(Recorded::Replayed(existing))
}

/// Begins the write transaction with `payment` in it, or, if another request
/// took its idempotency key meanwhile, answers with that first payment.
async fn begin_with(
    state: &AppState,
    payment: &NewPayment<'_>,
    request: &PaymentRequest,
) -> ApiResult<Result<sqlx::Transaction<'static, sqlx::Any>, Recorded>> {
    let mut tx = state.store.begin_write().await?;
    if payments::insert(&mut tx, payment).await? {
        return Ok(Ok(tx));
    }
    drop(tx);
    let mut conn = state.store.pool.acquire().await?;
    let existing = payments::by_key(
        &mut conn,
        payment.dealer_id,
        payment.idempotency_key.unwrap_or_default(),
    )
    .await?
    .ok_or_else(|| ApiError::Internal("idempotent payment vanished".into()))?;
    replay(existing, payment.order_id, request).map(Err)
}

fn not_payable(order: &OrderHeader) -> ApiError {
    ApiError::conflict(
        format!(
            "order {} is {}; it takes no payments",
            order.id,
            order.status.name()
        ),
        order
            .status
            .allowed()
            .iter()
            .map(|a| a.name().to_string())
            .collect(),
    )
}

fn over_due(order: &OrderHeader, amount: Fen) -> ApiError {
    ApiError::invalid(
        "/amount",
        format!(
            "{amount} exceeds what order {} still owes: {} (total {}, paid {})",
            order.id,
            order.total - order.paid,
            order.total,
            order.paid
        ),
    )
}

fn over_limit(credit: &CreditView, amount: Fen) -> ApiError {
    ApiError::invalid(
        "/amount",
        format!(
            "charging {amount} to credit would pass dealer {}'s credit limit: {} available (limit {}, outstanding {})",
            credit.dealer_id,
            credit.available_credit,
            credit.credit_limit,
            credit.outstanding_balance
        ),
    )
}

async fn credit_of(conn: &mut AnyConnection, dealer_id: &str) -> ApiResult<CreditView> {
    payments::credit(conn, dealer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("dealer", dealer_id))
}

/// Pays (part of) an order.
pub async fn pay_order(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
    key: Option<&str>,
    request: PaymentRequest,
) -> ApiResult<Recorded> {
    let reference = validate(
        &request,
        &[
            PaymentMethod::Online,
            PaymentMethod::BankTransfer,
            PaymentMethod::Credit,
        ],
    )?;
    let mut conn = state.store.pool.acquire().await?;
    // The parties of an order (the dealer, its region admin, HQ) may pay it.
    let order = lifecycle::visible_order(&mut conn, caller, order_id).await?;
    if let Some(key) = key
        && let Some(existing) = payments::by_key(&mut conn, &order.dealer_id, key).await?
    {
        return replay(existing, Some(order_id), &request);
    }
    if UNPAYABLE.contains(&order.status) {
        return Err(not_payable(&order));
    }
    if request.amount > order.total - order.paid {
        return Err(over_due(&order, request.amount));
    }
    if request.method == PaymentMethod::Credit {
        let credit = credit_of(&mut conn, &order.dealer_id).await?;
        if request.amount > credit.available_credit {
            return Err(over_limit(&credit, request.amount));
        }
    }

    let at = now_ms();
    let actor = caller.actor();
    let payment = NewPayment {
        id: &new_id("PAY"),
        dealer_id: &order.dealer_id,
        order_id: Some(order_id),
        claim_id: None,
        method: request.method,
        amount: request.amount,
        reference: &reference,
        recorded_by: &actor,
        at,
        idempotency_key: key,
    };
    // One connection at a time per request, so a busy pool cannot deadlock.
    drop(conn);
    let mut tx = match begin_with(state, &payment, &request).await? {
        Ok(tx) => tx,
        Err(first) => return Ok(first),
    };
    if !payments::add_to_order(&mut tx, order_id, request.amount, at).await? {
        drop(tx);
        let mut conn = state.store.pool.acquire().await?;
        let now = orders::header(&mut conn, order_id)
            .await?
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        return Err(if UNPAYABLE.contains(&now.status) {
            not_payable(&now)
        } else {
            over_due(&now, request.amount)
        });
    }
    if request.method == PaymentMethod::Credit
        && !payments::charge_credit(&mut tx, &order.dealer_id, request.amount).await?
    {
        drop(tx);
        let mut conn = state.store.pool.acquire().await?;
        return Err(over_limit(
            &credit_of(&mut conn, &order.dealer_id).await?,
            request.amount,
        ));
    }
    let mut note = format!(
        "{} payment {} of {} fen",
        request.method.name(),
        payment.id,
        request.amount
    );
    if !reference.is_empty() {
        note.push_str(&format!(" (ref {reference})"));
    }
    orders::record_note(&mut tx, order_id, "payment", &actor, at, &note).await?;
    let view = stored(&payment);
    tx.commit().await?;
    Ok(Recorded::Created(view))
}

/// Pays down the dealer's credit balance.
pub async fn pay_dealer(
    state: &AppState,
    caller: &Caller,
    dealer_id: &str,
    key: Option<&str>,
    request: PaymentRequest,
) -> ApiResult<Recorded> {
    let reference = validate(
        &request,
        &[PaymentMethod::Online, PaymentMethod::BankTransfer],
    )?;
    let mut conn = state.store.pool.acquire().await?;
    let credit = credit_of(&mut conn, dealer_id).await?;
    caller.require_party(dealer_id, &credit.region, "pay this dealer's balance")?;
    if let Some(key) = key
        && let Some(existing) = payments::by_key(&mut conn, dealer_id, key).await?
    {
        return replay(existing, None, &request);
    }
    let over_balance = |credit: &CreditView| {
        ApiError::invalid(
            "/amount",
            format!(
                "{} exceeds dealer {}'s outstanding balance of {}; a balance never goes below zero by payment",
                request.amount, credit.dealer_id, credit.outstanding_balance
            ),
        )
    };
    if request.amount > credit.outstanding_balance {
        return Err(over_balance(&credit));
    }
    let at = now_ms();
    let actor = caller.actor();
    let payment = NewPayment {
        id: &new_id("PAY"),
        dealer_id,
        order_id: None,
        claim_id: None,
        method: request.method,
        amount: request.amount,
        reference: &reference,
        recorded_by: &actor,
        at,
        idempotency_key: key,
    };
    drop(conn);
    let mut tx = match begin_with(state, &payment, &request).await? {
        Ok(tx) => tx,
        Err(first) => return Ok(first),
    };
    if !payments::pay_down(&mut tx, dealer_id, request.amount).await? {
        drop(tx);
        let mut conn = state.store.pool.acquire().await?;
        return Err(over_balance(&credit_of(&mut conn, dealer_id).await?));
    }
    let view = stored(&payment);
    tx.commit().await?;
    Ok(Recorded::Created(view))
}

/// An order's payments, for the parties of the order.
pub async fn order_payments(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
) -> ApiResult<OrderPayments> {
    let mut conn = state.store.pool.acquire().await?;
    let order = lifecycle::visible_order(&mut conn, caller, order_id).await?;
    let payments = payments::for_order(&mut conn, order_id).await?;
    Ok(OrderPayments {
        order_id: order.id,
        dealer_id: order.dealer_id,
        total: order.total,
        paid: order.paid,
        due: order.total - order.paid,
        payments,
    })
}

/// The dealer's credit position, for the dealer, its region admin and HQ.
pub async fn credit(state: &AppState, caller: &Caller, dealer_id: &str) -> ApiResult<CreditView> {
    let mut conn = state.store.pool.acquire().await?;
    let credit = credit_of(&mut conn, dealer_id).await?;
    caller.require_party(dealer_id, &credit.region, "see this dealer's credit")?;
    Ok(credit)
}

/// One page of a dealer's ledger, newest first.
pub async fn dealer_payments(
    state: &AppState,
    caller: &Caller,
    dealer_id: &str,
    before: Option<(i64, String)>,
    limit: u32,
) -> ApiResult<(CreditView, Vec<PaymentView>, bool)> {
    let mut conn = state.store.pool.acquire().await?;
    let credit = credit_of(&mut conn, dealer_id).await?;
    caller.require_party(dealer_id, &credit.region, "see this dealer's payments")?;
    let mut rows = payments::for_dealer(
        &mut conn,
        dealer_id,
        before.as_ref().map(|(at, id)| (*at, id.as_str())),
        limit,
    )
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((credit, rows, more))
}

fn stored(payment: &NewPayment<'_>) -> PaymentView {
    PaymentView {
        id: payment.id.to_string(),
        dealer_id: payment.dealer_id.to_string(),
        order_id: payment.order_id.map(str::to_string),
        claim_id: payment.claim_id.map(str::to_string),
        method: payment.method,
        amount: payment.amount,
        reference: payment.reference.to_string(),
        recorded_by: payment.recorded_by.to_string(),
        at: payment.at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: PaymentMethod, amount: i64, reference: Option<&str>) -> PaymentRequest {
        PaymentRequest {
            method,
            amount,
            reference: reference.map(str::to_string),
        }
    }

    fn path_of(err: ApiError) -> String {
        match err {
            ApiError::Unprocessable { problems, .. } => problems[0].path.clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_field() {
        let order_methods = [
            PaymentMethod::Online,
            PaymentMethod::BankTransfer,
            PaymentMethod::Credit,
        ];
        assert_eq!(
            path_of(
                validate(&request(PaymentMethod::Online, 0, None), &order_methods).unwrap_err()
            ),
            "/amount"
        );
        assert_eq!(
            path_of(
                validate(&request(PaymentMethod::Online, -5, None), &order_methods).unwrap_err()
            ),
            "/amount"
        );
        assert_eq!(
            path_of(
                validate(
                    &request(PaymentMethod::RefundCredit, 5, None),
                    &order_methods
                )
                .unwrap_err()
            ),
            "/method"
        );
        let long = "x".repeat(MAX_REFERENCE_LEN + 1);
        assert_eq!(
            path_of(
                validate(
                    &request(PaymentMethod::Online, 5, Some(&long)),
                    &order_methods
                )
                .unwrap_err()
            ),
            "/reference"
        );
        assert_eq!(
            validate(
                &request(PaymentMethod::Credit, 5, Some("  TX-1 ")),
                &order_methods
            )
            .unwrap(),
            "TX-1"
        );
    }

    #[test]
    fn a_key_reused_for_another_payment_is_refused() {
        let existing = PaymentView {
            id: "PAY-1".into(),
            dealer_id: "D-1".into(),
            order_id: Some("ORD-1".into()),
            claim_id: None,
            method: PaymentMethod::Online,
            amount: 100,
            reference: String::new(),
            recorded_by: "x".into(),
            at: 0,
        };
        assert!(matches!(
            replay(
                existing.clone(),
                Some("ORD-1"),
                &request(PaymentMethod::Online, 100, None)
            ),
            Ok(Recorded::Replayed(_))
        ));
        assert_eq!(
            path_of(
                replay(
                    existing.clone(),
                    Some("ORD-1"),
                    &request(PaymentMethod::Online, 99, None)
                )
                .err()
                .unwrap()
            ),
            "Idempotency-Key"
        );
        assert_eq!(
            path_of(
                replay(
                    existing,
                    Some("ORD-2"),
                    &request(PaymentMethod::Online, 100, None)
                )
                .err()
                .unwrap()
            ),
            "Idempotency-Key"
        );
    }
}
