//! Payments and after-sales claims over real HTTP, on SQLite and on
//! PostgreSQL: order payments within the credit limit and never beyond the
//! total (also under concurrency), idempotent retries, credit-balance
//! pay-downs, and claims on delivered orders approved with a refund to
//! credit or a reshipment from stock, or rejected. Each test runs its own
//! `chanhost serve` on its own database seeded from the example data set;
//! every test that places orders ends with the ledger check.

mod common;

use common::server::*;
use serde_json::{Value, json};
use sqlx::{AnyPool, Row};

const DEALER_ID: &str = "D-GD-0001";
const OTHER_DEALER: &str = "demo-dealer-d-sh-0001";
const OTHER_REGION: &str = "demo-region-sh";

/// A POST under an Idempotency-Key (payments take one optionally).
async fn post_keyed(api: &Api, token: &str, path: &str, key: &str, body: &Value) -> Reply {
    api.send(
        api.client()
            .post(api.url(path))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

/// Places an order for D-GD-0001 (approving it if it was held); the order.
async fn placed(api: &Api, lines: Value) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    let order = api
        .place(GD_DEALER, &key, json!({ "lines": lines }))
        .await
        .expect(201);
    let id = id(&order);
    if order["status"] == "pending_review" {
        api.act(GD_ADMIN, &id, "approve").await.expect(200);
    }
    api.order(&id).await
}

/// Places, allocates, ships and receives an order: it ends delivered.
async fn delivered(api: &Api, lines: Value) -> Value {
    let order = placed(api, lines).await;
    let id = id(&order);
    api.post(GD_ADMIN, &format!("/v1/orders/{id}/allocate"), json!({}))
        .await
        .expect(200);
    let mut warehouses: Vec<String> = order["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["warehouse_id"].as_str().unwrap().to_string())
        .collect();
    warehouses.dedup();
    for (i, warehouse) in warehouses.iter().enumerate() {
        let ship = json!({ "warehouse_id": warehouse, "carrier": "SF Express", "tracking_no": format!("SF{i}") });
        api.post(GD_ADMIN, &format!("/v1/orders/{id}/shipments"), ship)
            .await
            .expect(201);
    }
    let body = api
        .post(GD_DEALER, &format!("/v1/orders/{id}/receipt"), json!({}))
        .await
        .expect(200);
    assert_eq!(body["status"], "delivered");
    body
}

/// `(credit_limit, outstanding_balance)` of D-GD-0001, over the API.
async fn credit(api: &Api) -> (i64, i64) {
    let credit = api
        .get(GD_DEALER, &format!("/v1/dealers/{DEALER_ID}/credit"))
        .await
        .expect(200);
    let (limit, outstanding) = (
        credit["credit_limit"].as_i64().unwrap(),
        credit["outstanding_balance"].as_i64().unwrap(),
    );
    assert_eq!(
        credit["available_credit"].as_i64().unwrap(),
        limit - outstanding
    );
    (limit, outstanding)
}

/// Test set-up straight in the database.
async fn set_outstanding(pool: &AnyPool, amount: i64) {
    sqlx::query("UPDATE dealers SET outstanding_balance = $1 WHERE id = $2")
        .bind(amount)
        .bind(DEALER_ID)
        .execute(pool)
        .await
        .expect("set the outstanding balance");
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn actions(order: &Value) -> Vec<&str> {
    order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// The one line of a one-SKU order: `(sku, quantity, unit price)`.
fn the_line(order: &Value) -> (String, i64, i64) {
    let line = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["free"] == false)
        .unwrap();
    (
        line["sku"].as_str().unwrap().to_string(),
        line["quantity"].as_i64().unwrap(),
        line["unit_price"].as_i64().unwrap(),
    )
}

// ---------------------------------------------------------------------------

async fn credit_payments_stay_within_the_credit_limit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let order = placed(&server, json!([{ "sku": "BJ-002", "quantity": 5 }])).await;
    let order_id = id(&order);
    let path = format!("/v1/orders/{order_id}/payments");
    let total = order["total"].as_i64().unwrap();
    let (limit, outstanding) = credit(&server).await;

    let half = total / 2;
    let payment = server
        .post(
            GD_DEALER,
            &path,
            json!({ "method": "credit", "amount": half, "reference": "PO-7" }),
        )
        .await
        .expect(201);
    assert_eq!(payment["method"], "credit");
    assert_eq!(payment["order_id"], order_id.as_str());
    assert_eq!(credit(&server).await, (limit, outstanding + half));

    // Just past the limit: refused, nothing moves.
    set_outstanding(&pool, limit - 100).await;
    let problem = server
        .post(
            GD_DEALER,
            &path,
            json!({ "method": "credit", "amount": 101 }),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/amount"], "{problem}");
    assert_eq!(credit(&server).await, (limit, limit - 100));

    // Exactly up to the limit: accepted.
    server
        .post(
            GD_ADMIN,
            &path,
            json!({ "method": "credit", "amount": 100 }),
        )
        .await
        .expect(201);
    assert_eq!(credit(&server).await, (limit, limit));

    let summary = server.get(GD_DEALER, &path).await.expect(200);
    assert_eq!(summary["paid"].as_i64().unwrap(), half + 100);
    assert_eq!(summary["due"].as_i64().unwrap(), total - half - 100);
    assert_eq!(summary["payments"].as_array().unwrap().len(), 2);

    // The timeline tells of each payment without moving the order.
    let order = server.order(&order_id).await;
    assert_eq!(order["paid"].as_i64().unwrap(), half + 100);
    let payments: Vec<_> = order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "payment")
        .collect();
    assert_eq!(payments.len(), 2);
    assert!(
        payments
            .iter()
            .all(|e| e["from_status"] == order["status"] && e["to_status"] == order["status"])
    );
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn credit_payments_stay_within_the_credit_limit_sqlite() {
    credit_payments_stay_within_the_credit_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn credit_payments_stay_within_the_credit_limit_postgres() {
    credit_payments_stay_within_the_credit_limit(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn payments_cannot_overpay_or_pay_cancelled_orders(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = placed(&server, json!([{ "sku": "BJ-002", "quantity": 3 }])).await;
    let order_id = id(&order);
    let total = order["total"].as_i64().unwrap();
    let path = format!("/v1/orders/{order_id}/payments");

    for (body, field) in [
        (
            json!({ "method": "online", "amount": total + 1 }),
            "/amount",
        ),
        (json!({ "method": "online", "amount": 0 }), "/amount"),
        (json!({ "method": "online", "amount": -5 }), "/amount"),
        (json!({ "method": "refund_credit", "amount": 5 }), "/method"),
        (json!({ "method": "cheque", "amount": 5 }), "/method"),
    ] {
        let reply = server.post(GD_DEALER, &path, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        let problem = reply.problem(422);
        assert_eq!(error_paths(&problem), [field], "{body}: {problem}");
    }
    server
        .post(
            GD_DEALER,
            &path,
            json!({ "method": "bank_transfer", "amount": total - 1 }),
        )
        .await
        .expect(201);
    let problem = server
        .post(HQ, &path, json!({ "method": "online", "amount": 2 }))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/amount"], "{problem}");
    server
        .post(HQ, &path, json!({ "method": "online", "amount": 1 }))
        .await
        .expect(201);
    assert_eq!(
        server.order(&order_id).await["paid"].as_i64().unwrap(),
        total
    );

    // Other parties may not pay; cancelled orders take nothing.
    server
        .post(
            OTHER_DEALER,
            &path,
            json!({ "method": "online", "amount": 1 }),
        )
        .await
        .problem(403);
    let cancelled = id(&placed(&server, json!([{ "sku": "BJ-002", "quantity": 1 }])).await);
    server
        .post(
            GD_DEALER,
            &format!("/v1/orders/{cancelled}/cancel"),
            json!({}),
        )
        .await
        .expect(200);
    server
        .post(
            GD_DEALER,
            &format!("/v1/orders/{cancelled}/payments"),
            json!({ "method": "online", "amount": 1 }),
        )
        .await
        .problem(409);
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn payments_cannot_overpay_or_pay_cancelled_orders_sqlite() {
    payments_cannot_overpay_or_pay_cancelled_orders(Backend::Sqlite).await;
}

#[tokio::test]
async fn payments_cannot_overpay_or_pay_cancelled_orders_postgres() {
    payments_cannot_overpay_or_pay_cancelled_orders(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn concurrent_payments_never_overpay(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = placed(&server, json!([{ "sku": "BJ-002", "quantity": 10 }])).await;
    let order_id = id(&order);
    let total = order["total"].as_i64().unwrap();
    let path = format!("/v1/orders/{order_id}/payments");
    let (tenth, odd) = (total / 10, total % 10);
    if odd > 0 {
        server
            .post(
                GD_DEALER,
                &path,
                json!({ "method": "online", "amount": odd }),
            )
            .await
            .expect(201);
    }
    let (_, outstanding) = credit(&server).await;

    let outcomes = join_all((0..16).map(|i| {
        let (api, path) = (server.api.clone(), path.clone());
        let method = if i % 2 == 0 { "credit" } else { "online" };
        async move {
            let body = json!({ "method": method, "amount": tenth });
            (method, api.post(GD_DEALER, &path, body).await)
        }
    }))
    .await;
    let mut accepted = Vec::new();
    for (method, reply) in outcomes {
        match reply.status {
            201 => accepted.push(method),
            422 => {}
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert_eq!(accepted.len(), 10, "exactly ten tenths fit");
    let order = server.order(&order_id).await;
    assert_eq!(order["paid"].as_i64().unwrap(), total);
    let on_credit = accepted.iter().filter(|m| **m == "credit").count() as i64;
    assert_eq!(
        credit(&server).await.1,
        outstanding + on_credit * tenth,
        "credit charged once per accepted credit payment"
    );
    let summary = server.get(HQ, &path).await.expect(200);
    assert_eq!(summary["due"].as_i64().unwrap(), 0);
    let recorded: i64 = summary["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(recorded, total);
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn concurrent_payments_never_overpay_sqlite() {
    concurrent_payments_never_overpay(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_payments_never_overpay_postgres() {
    concurrent_payments_never_overpay(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn a_repeated_idempotency_key_returns_the_first_payment(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order_id = id(&placed(&server, json!([{ "sku": "BJ-002", "quantity": 2 }])).await);
    let path = format!("/v1/orders/{order_id}/payments");
    let body = json!({ "method": "online", "amount": 1000 });
    let first = post_keyed(&server, GD_DEALER, &path, "pay-1", &body)
        .await
        .expect(201);
    let again = post_keyed(&server, GD_DEALER, &path, "pay-1", &body)
        .await
        .expect(201);
    assert_eq!(again, first);
    assert_eq!(
        server.order(&order_id).await["paid"].as_i64().unwrap(),
        1000
    );
    let other = json!({ "method": "online", "amount": 999 });
    let problem = post_keyed(&server, GD_DEALER, &path, "pay-1", &other)
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["Idempotency-Key"], "{problem}");
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_payment_sqlite() {
    a_repeated_idempotency_key_returns_the_first_payment(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_payment_postgres() {
    a_repeated_idempotency_key_returns_the_first_payment(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn a_dealer_pays_down_its_balance_but_never_below_zero(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (limit, outstanding) = credit(&server).await;
    let path = format!("/v1/dealers/{DEALER_ID}/payments");
    let payment = server
        .post(
            GD_DEALER,
            &path,
            json!({ "method": "bank_transfer", "amount": 3_000_000, "reference": "ICBC 0042" }),
        )
        .await
        .expect(201);
    assert_eq!(payment["order_id"], Value::Null);
    assert_eq!(credit(&server).await, (limit, outstanding - 3_000_000));

    let rest = outstanding - 3_000_000;
    let problem = server
        .post(
            GD_DEALER,
            &path,
            json!({ "method": "online", "amount": rest + 1 }),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/amount"], "{problem}");
    let problem = server
        .post(GD_DEALER, &path, json!({ "method": "credit", "amount": 1 }))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/method"], "{problem}");
    server
        .post(
            GD_ADMIN,
            &path,
            json!({ "method": "online", "amount": rest }),
        )
        .await
        .expect(201);
    assert_eq!(credit(&server).await, (limit, 0));

    let ledger = server
        .get(GD_DEALER, &format!("{path}?limit=1"))
        .await
        .expect(200);
    assert_eq!(
        ledger["payments"][0]["amount"].as_i64().unwrap(),
        rest,
        "newest first"
    );
    let cursor = ledger["next_cursor"].as_str().unwrap();
    let older = server
        .get(GD_DEALER, &format!("{path}?limit=1&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(older["payments"][0]["amount"].as_i64().unwrap(), 3_000_000);
    assert_eq!(older["next_cursor"], Value::Null);
    let problem = server
        .get(GD_DEALER, &format!("{path}?limit=0"))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["?limit"], "{problem}");

    for token in [OTHER_DEALER, OTHER_REGION] {
        server
            .get(token, &format!("/v1/dealers/{DEALER_ID}/credit"))
            .await
            .problem(403);
        server.get(token, &path).await.problem(403);
        server
            .post(token, &path, json!({ "method": "online", "amount": 1 }))
            .await
            .problem(403);
    }
    server
        .get(HQ, &format!("/v1/dealers/{DEALER_ID}/credit"))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_dealer_pays_down_its_balance_but_never_below_zero_sqlite() {
    a_dealer_pays_down_its_balance_but_never_below_zero(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_dealer_pays_down_its_balance_but_never_below_zero_postgres() {
    a_dealer_pays_down_its_balance_but_never_below_zero(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn claims_need_a_delivered_order_and_cannot_exceed_what_shipped(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let undelivered = id(&placed(&server, json!([{ "sku": "BJ-002", "quantity": 2 }])).await);
    let claim = json!({ "kind": "damaged", "description": "crushed", "photos": ["photo://c/1.jpg"], "lines": [{ "sku": "BJ-002", "quantity": 1 }] });
    let problem = server
        .post(
            GD_DEALER,
            &format!("/v1/orders/{undelivered}/claims"),
            claim,
        )
        .await
        .problem(409);
    assert_eq!(problem["allowed"], json!(["delivered", "completed"]));

    let order = delivered(&server, json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let path = format!("/v1/orders/{}/claims", id(&order));
    let eleven: Vec<String> = (0..11).map(|i| format!("photo://c/{i}.jpg")).collect();
    for (lines, photos, field) in [
        (
            json!([{ "sku": "BJ-002", "quantity": 5 }]),
            json!([]),
            "/lines/0/quantity",
        ),
        (
            json!([{ "sku": "BJ-001", "quantity": 1 }]),
            json!([]),
            "/lines/0/sku",
        ),
        (
            json!([{ "sku": "BJ-002", "quantity": 1 }]),
            json!(eleven),
            "/photos",
        ),
        (
            json!([{ "sku": "BJ-002", "quantity": 1 }]),
            json!(["not a reference"]),
            "/photos/0",
        ),
    ] {
        let body =
            json!({ "kind": "missing", "description": "short", "photos": photos, "lines": lines });
        let problem = server.post(GD_DEALER, &path, body).await.problem(422);
        assert_eq!(error_paths(&problem), [field], "{problem}");
    }
    let body = json!({ "kind": "missing", "description": "short by three", "lines": [{ "sku": "BJ-002", "quantity": 3 }] });
    let claim = server.post(GD_DEALER, &path, body).await.expect(201);
    assert_eq!(claim["status"], "open");
    assert_eq!(claim["allowed_actions"], json!(["approve", "reject"]));
    // What earlier claims cover cannot be claimed again.
    let body = json!({ "kind": "damaged", "description": "and two broken", "lines": [{ "sku": "BJ-002", "quantity": 2 }] });
    let problem = server.post(GD_DEALER, &path, body).await.problem(422);
    assert_eq!(error_paths(&problem), ["/lines/0/quantity"], "{problem}");
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn claims_need_a_delivered_order_and_cannot_exceed_what_shipped_sqlite() {
    claims_need_a_delivered_order_and_cannot_exceed_what_shipped(Backend::Sqlite).await;
}

#[tokio::test]
async fn claims_need_a_delivered_order_and_cannot_exceed_what_shipped_postgres() {
    claims_need_a_delivered_order_and_cannot_exceed_what_shipped(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn a_refund_credits_the_dealer_exactly_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let order = delivered(&server, json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let order_id = id(&order);
    let (sku, _, unit_price) = the_line(&order);
    let body = json!({ "kind": "damaged", "description": "two cases crushed", "photos": ["photo://claims/1.jpg", "https://img.test/2.jpg"], "lines": [{ "sku": sku, "quantity": 2 }] });
    let claim = server
        .post(GD_DEALER, &format!("/v1/orders/{order_id}/claims"), body)
        .await
        .expect(201);
    let claim_id = id(&claim);
    let approve = format!("/v1/claims/{claim_id}/approve");
    let (limit, outstanding) = credit(&server).await;

    let approved = server
        .post(
            GD_ADMIN,
            &approve,
            json!({ "resolution": "refund_credit", "note": "carrier damage" }),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["resolution"], "refund_credit");
    assert_eq!(approved["refund_amount"].as_i64().unwrap(), 2 * unit_price);
    assert_eq!(credit(&server).await, (limit, outstanding - 2 * unit_price));

    // Decided once: approving or rejecting again is a conflict naming no action.
    let problem = server
        .post(GD_ADMIN, &approve, json!({ "resolution": "refund_credit" }))
        .await
        .problem(409);
    assert_eq!(problem["allowed"], json!([]));
    server
        .post(
            HQ,
            &format!("/v1/claims/{claim_id}/reject"),
            json!({ "note": "no" }),
        )
        .await
        .problem(409);
    assert_eq!(credit(&server).await, (limit, outstanding - 2 * unit_price));

    // The ledger explains the balance; the timeline tells the story.
    let ledger = server
        .get(GD_DEALER, &format!("/v1/dealers/{DEALER_ID}/payments"))
        .await
        .expect(200);
    let refund = &ledger["payments"][0];
    assert_eq!(
        (refund["method"].as_str(), refund["claim_id"].as_str()),
        (Some("refund_credit"), Some(claim_id.as_str()))
    );
    let order = server.order(&order_id).await;
    assert_eq!(order["status"], "delivered");
    assert!(
        actions(&order).ends_with(&["confirm_receipt", "claim_opened", "claim_approved"]),
        "{:?}",
        actions(&order)
    );

    // A refund larger than the balance leaves the dealer in credit.
    set_outstanding(&pool, 1_000).await;
    let body = json!({ "kind": "wrong_goods", "description": "wrong vintage", "lines": [{ "sku": sku, "quantity": 1 }] });
    let second = server
        .post(GD_ADMIN, &format!("/v1/orders/{order_id}/claims"), body)
        .await
        .expect(201);
    server
        .post(
            HQ,
            &format!("/v1/claims/{}/approve", id(&second)),
            json!({ "resolution": "refund_credit", "amount": 5_000 }),
        )
        .await
        .expect(200);
    assert_eq!(credit(&server).await, (limit, -4_000));
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn a_refund_credits_the_dealer_exactly_once_sqlite() {
    a_refund_credits_the_dealer_exactly_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_refund_credits_the_dealer_exactly_once_postgres() {
    a_refund_credits_the_dealer_exactly_once(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn a_reshipment_ships_the_claimed_goods_again_from_stock(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let order = delivered(&server, json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let order_id = id(&order);
    let warehouse = order["shipments"][0]["warehouse_id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({ "kind": "missing", "description": "three cases never came", "lines": [{ "sku": "BJ-002", "quantity": 3 }] });
    let claim = server
        .post(GD_DEALER, &format!("/v1/orders/{order_id}/claims"), body)
        .await
        .expect(201);
    let claim_id = id(&claim);
    let approve = format!("/v1/claims/{claim_id}/approve");

    // Not enough available at the source: refused, nothing changes. (The
    // scarcity is set up in the database and undone below.)
    let (on_hand, reserved) = stock(&pool, &warehouse, "BJ-002").await;
    sqlx::query(
        "UPDATE stock SET reserved = on_hand - 2 WHERE warehouse_id = $1 AND sku = 'BJ-002'",
    )
    .bind(&warehouse)
    .execute(&pool)
    .await
    .expect("make the stock scarce");
    let problem = server
        .post(
            GD_ADMIN,
            &approve,
            json!({ "resolution": "reshipment", "warehouse_id": warehouse }),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/warehouse_id"], "{problem}");
    let still = server
        .get(GD_DEALER, &format!("/v1/claims/{claim_id}"))
        .await
        .expect(200);
    assert_eq!(still["status"], "open");
    sqlx::query("UPDATE stock SET reserved = $1 WHERE warehouse_id = $2 AND sku = 'BJ-002'")
        .bind(reserved)
        .bind(&warehouse)
        .execute(&pool)
        .await
        .expect("restore the stock");

    // From the warehouse the order shipped from, by default.
    let approved = server
        .post(
            GD_ADMIN,
            &approve,
            json!({ "resolution": "reshipment", "tracking_no": "SF-R1" }),
        )
        .await
        .expect(200);
    assert_eq!(approved["resolution"], "reshipment");
    let reshipment = &approved["reshipments"][0];
    assert_eq!(approved["reshipment_id"], reshipment["id"]);
    assert_eq!(reshipment["warehouse_id"], warehouse.as_str());
    assert_eq!(
        reshipment["lines"],
        json!([{ "sku": "BJ-002", "quantity": 3 }])
    );
    assert_eq!(
        stock(&pool, &warehouse, "BJ-002").await,
        (on_hand - 3, reserved)
    );

    let movement = sqlx::query(
        "SELECT on_hand_delta, reserved_delta, order_id FROM movements \
         WHERE kind = 'reshipment' AND claim_id = $1",
    )
    .bind(&claim_id)
    .fetch_one(&pool)
    .await
    .expect("the reshipment movement");
    assert_eq!(
        (movement.get::<i64, _>(0), movement.get::<i64, _>(1)),
        (-3, 0)
    );
    assert_eq!(movement.get::<String, _>(2), order_id);

    let order = server.order(&order_id).await;
    assert_eq!(order["status"], "delivered");
    let shipment = order["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["claim_id"] == claim_id.as_str())
        .expect("a shipment for the claim");
    assert_eq!(shipment["tracking_no"], "SF-R1");
    assert_eq!(shipment["carrier"], "SF Express");
    server
        .post(GD_ADMIN, &approve, json!({ "resolution": "reshipment" }))
        .await
        .problem(409);
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn a_reshipment_ships_the_claimed_goods_again_from_stock_sqlite() {
    a_reshipment_ships_the_claimed_goods_again_from_stock(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reshipment_ships_the_claimed_goods_again_from_stock_postgres() {
    a_reshipment_ships_the_claimed_goods_again_from_stock(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn claims_belong_to_the_order_parties(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = delivered(&server, json!([{ "sku": "BJ-002", "quantity": 2 }])).await;
    let path = format!("/v1/orders/{}/claims", id(&order));
    let body = json!({ "kind": "damaged", "description": "one broken", "lines": [{ "sku": "BJ-002", "quantity": 1 }] });
    server
        .post(OTHER_DEALER, &path, body.clone())
        .await
        .problem(403);
    let claim = server.post(GD_DEALER, &path, body).await.expect(201);
    let claim_id = id(&claim);
    let approve = format!("/v1/claims/{claim_id}/approve");
    let reject = format!("/v1/claims/{claim_id}/reject");
    let refund = json!({ "resolution": "refund_credit" });
    for token in [OTHER_REGION, GD_DEALER, OTHER_DEALER] {
        let reply = server.post(token, &approve, refund.clone()).await;
        assert_eq!(reply.status, 403, "{token}: {}", reply.text);
        reply.problem(403);
    }
    server
        .get(OTHER_DEALER, &format!("/v1/claims/{claim_id}"))
        .await
        .problem(403);
    server
        .get(OTHER_REGION, &format!("/v1/claims/{claim_id}"))
        .await
        .problem(403);
    server
        .get(OTHER_REGION, "/v1/claims?region=gd")
        .await
        .problem(403);

    let listed = |page: Value| {
        page["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>()
    };
    let list = async |token: &str, path: &str| listed(server.get(token, path).await.expect(200));
    assert_eq!(
        list(GD_ADMIN, "/v1/claims?status=open").await,
        [claim_id.as_str()]
    );
    assert_eq!(list(GD_DEALER, "/v1/claims").await, [claim_id.as_str()]);
    assert_eq!(
        list(HQ, &format!("/v1/claims?dealer_id={DEALER_ID}")).await,
        [claim_id.as_str()]
    );
    assert!(list(OTHER_REGION, "/v1/claims").await.is_empty());
    assert!(list(OTHER_DEALER, "/v1/claims").await.is_empty());
    assert_eq!(list(GD_DEALER, &path).await, [claim_id.as_str()]);

    let problem = server
        .post(GD_ADMIN, &reject, json!({ "note": " " }))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/note"], "{problem}");
    let rejected = server
        .post(
            GD_ADMIN,
            &reject,
            json!({ "note": "photos show intact cases" }),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_note"], "photos show intact cases");
    server.post(GD_ADMIN, &approve, refund).await.problem(409);
    assert!(list(GD_ADMIN, "/v1/claims?status=open").await.is_empty());
    assert!(
        actions(&server.order(&id(&order)).await).ends_with(&["claim_opened", "claim_rejected"])
    );
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn claims_belong_to_the_order_parties_sqlite() {
    claims_belong_to_the_order_parties(Backend::Sqlite).await;
}

#[tokio::test]
async fn claims_belong_to_the_order_parties_postgres() {
    claims_belong_to_the_order_parties(Backend::Postgres).await;
}
