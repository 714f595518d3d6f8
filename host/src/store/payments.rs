//! Payments: money a dealer pays against an order or its credit balance, and
//! the refunds that approved claims credit back. The ledger is append-only;
//! balances move only through conditional updates that re-check their limit
//! in the database, so two hosts sharing PostgreSQL can neither overpay an
//! order nor overdraw a credit line between them.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{StoreResult, decode_enum, encode_enum};
use crate::domain::{Fen, OrderStatus, TimestampMs};

/// How money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Online,
    BankTransfer,
    /// Charged to the dealer's credit account (raises its outstanding balance).
    Credit,
    /// An approved claim credited back to the dealer's account.
    RefundCredit,
}

impl PaymentMethod {
    pub fn name(self) -> &'static str {
        match self {
            PaymentMethod::Online => "online",
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Credit => "credit",
            PaymentMethod::RefundCredit => "refund_credit",
        }
    }
}

/// Statuses whose orders take no more payments.
pub const UNPAYABLE: [OrderStatus; 2] = [OrderStatus::Cancelled, OrderStatus::Rejected];

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub dealer_id: String,
    /// The order paid for; absent for payments on the credit balance.
    pub order_id: Option<String>,
    /// The claim a `refund_credit` entry settles.
    pub claim_id: Option<String>,
    pub method: PaymentMethod,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub amount: Fen,
    pub reference: String,
    pub recorded_by: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub at: TimestampMs,
}

/// A ledger entry to write.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    pub id: &'a str,
    pub dealer_id: &'a str,
    pub order_id: Option<&'a str>,
    pub claim_id: Option<&'a str>,
    pub method: PaymentMethod,
    pub amount: Fen,
    pub reference: &'a str,
    pub recorded_by: &'a str,
    pub at: TimestampMs,
    pub idempotency_key: Option<&'a str>,
}

const COLUMNS: &str =
    "id, dealer_id, order_id, claim_id, method, amount, reference, recorded_by, at";

fn from_row(row: &AnyRow) -> StoreResult<PaymentView> {
    let method: String = row.try_get(4)?;
    Ok(PaymentView {
        id: row.try_get(0)?,
        dealer_id: row.try_get(1)?,
        order_id: row.try_get(2)?,
        claim_id: row.try_get(3)?,
        method: decode_enum("payment method", &method)?,
        amount: row.try_get(5)?,
        reference: row.try_get(6)?,
        recorded_by: row.try_get(7)?,
        at: row.try_get(8)?,
    })
}

/// Writes the entry; false (and nothing written) if the dealer already used
/// its idempotency key. The unique index decides, not a lookup, so two
/// hosts retrying the same request record it once.
pub async fn insert(conn: &mut AnyConnection, payment: &NewPayment<'_>) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO payments (id, dealer_id, order_id, claim_id, method, amount, reference, recorded_by, at, idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (dealer_id, idempotency_key) DO NOTHING",
    )
    .bind(payment.id)
    .bind(payment.dealer_id)
    .bind(payment.order_id)
    .bind(payment.claim_id)
    .bind(encode_enum(&payment.method))
    .bind(payment.amount)
    .bind(payment.reference)
    .bind(payment.recorded_by)
    .bind(payment.at)
    .bind(payment.idempotency_key)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The payment a dealer recorded under an idempotency key, if any.
pub async fn by_key(
    conn: &mut AnyConnection,
    dealer_id: &str,
    key: &str,
) -> StoreResult<Option<PaymentView>> {
    let sql =
        format!("SELECT {COLUMNS} FROM payments WHERE dealer_id = $1 AND idempotency_key = $2");
    let row = sqlx::query(&sql)
        .bind(dealer_id)
        .bind(key)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every entry that names the order, oldest first.
pub async fn for_order(conn: &mut AnyConnection, order_id: &str) -> StoreResult<Vec<PaymentView>> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE order_id = $1 ORDER BY at, id");
    let rows = sqlx::query(&sql).bind(order_id).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// A dealer's ledger newest first, `limit + 1` rows so the caller knows if
/// more follow; `before` continues after a `(at, id)` it gave out.
pub async fn for_dealer(
    conn: &mut AnyConnection,
    dealer_id: &str,
    before: Option<(TimestampMs, &str)>,
    limit: u32,
) -> StoreResult<Vec<PaymentView>> {
    let rows = match before {
        Some((at, id)) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM payments WHERE dealer_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
                 ORDER BY at DESC, id DESC LIMIT {}",
                limit + 1
            );
            sqlx::query(&sql)
                .bind(dealer_id)
                .bind(at)
                .bind(id)
                .fetch_all(conn)
                .await?
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM payments WHERE dealer_id = $1 ORDER BY at DESC, id DESC LIMIT {}",
                limit + 1
            );
            sqlx::query(&sql).bind(dealer_id).fetch_all(conn).await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// `orders.paid += amount` if the order still takes payments and the sum
/// stays within its total; false and nothing changed otherwise.
pub async fn add_to_order(
    conn: &mut AnyConnection,
    order_id: &str,
    amount: Fen,
    at: TimestampMs,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE orders SET paid = paid + $1, updated_at = $2, version = version + 1 \
         WHERE id = $3 AND paid + $1 <= total AND status <> $4 AND status <> $5",
    )
    .bind(amount)
    .bind(at)
    .bind(order_id)
    .bind(UNPAYABLE[0].name())
    .bind(UNPAYABLE[1].name())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Charges the dealer's credit account if it stays within the credit limit.
pub async fn charge_credit(
    conn: &mut AnyConnection,
    dealer_id: &str,
    amount: Fen,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE dealers SET outstanding_balance = outstanding_balance + $1 \
         WHERE id = $2 AND outstanding_balance + $1 <= credit_limit",
    )
    .bind(amount)
    .bind(dealer_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Pays the dealer's balance down by `amount` if it stays at or above zero.
pub async fn pay_down(conn: &mut AnyConnection, dealer_id: &str, amount: Fen) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE dealers SET outstanding_balance = outstanding_balance - $1 \
         WHERE id = $2 AND outstanding_balance - $1 >= 0",
    )
    .bind(amount)
    .bind(dealer_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Credits `amount` to the dealer's account. Unlike [`pay_down`] the
/// balance may go negative: money the brand owes the dealer.
pub async fn credit_back(
    conn: &mut AnyConnection,
    dealer_id: &str,
    amount: Fen,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE dealers SET outstanding_balance = outstanding_balance - $1 WHERE id = $2",
    )
    .bind(amount)
    .bind(dealer_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// A dealer's credit position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CreditView {
    pub dealer_id: String,
    pub region: String,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub credit_limit: Fen,
    /// What the dealer owes; negative when the brand owes the dealer.
    #[schema(value_type = i64)]
    pub outstanding_balance: Fen,
    /// What the dealer may still charge: limit − outstanding.
    #[schema(value_type = i64)]
    pub available_credit: Fen,
}

pub async fn credit(conn: &mut AnyConnection, dealer_id: &str) -> StoreResult<Option<CreditView>> {
    let row: Option<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, region, credit_limit, outstanding_balance FROM dealers WHERE id = $1",
    )
    .bind(dealer_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(dealer_id, region, credit_limit, outstanding_balance)| CreditView {
            dealer_id,
            region,
            credit_limit,
            outstanding_balance,
            available_credit: credit_limit.saturating_sub(outstanding_balance),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_match_their_stored_form() {
        for method in [
            PaymentMethod::Online,
            PaymentMethod::BankTransfer,
            PaymentMethod::Credit,
            PaymentMethod::RefundCredit,
        ] {
            assert_eq!(encode_enum(&method), method.name());
        }
    }
}
