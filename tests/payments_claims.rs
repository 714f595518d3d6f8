//! Payments and after-sales claims over HTTP, against an in-process server
//! seeded with the example data set: a fresh SQLite database per test, or,
//! with `CHANHOST_TEST_POSTGRES=postgres://…/<any db>`, a fresh PostgreSQL
//! database per test created (and dropped) on that server.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use chanhost::server::{ServerOptions, prepare};
use chanhost::store::Store;

const DEALER: &str = "demo-dealer-d-gd-0001";
const DEALER_ID: &str = "D-GD-0001";
const OTHER_DEALER: &str = "demo-dealer-d-sh-0001";
const REGION: &str = "demo-region-gd";
const OTHER_REGION: &str = "demo-region-sh";
const HQ: &str = "demo-hq-admin";

/// A running server and a client for it.
struct Server {
    base: String,
    client: reqwest::Client,
    store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// `(server URL, database)` of a PostgreSQL database made for this test.
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let dir = tempfile::tempdir().unwrap();
        let postgres = match std::env::var("CHANHOST_TEST_POSTGRES") {
            Ok(url) => Some(scratch_database(&url).await),
            Err(_) => None,
        };
        let options = ServerOptions {
            config: repo.join("examples/brand"),
            dataset: Some(repo.join("examples/brand/dataset")),
            database_url: postgres.as_ref().map(|(url, db)| with_database(url, db)),
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
        };
        let running = prepare(&options).await.expect("server prepares");
        let base = format!("http://{}/v1", running.addr);
        let store = running.state.store.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(running.serve(async move {
            let _ = stopped.await;
        }));
        Server { base, client: reqwest::Client::new(), store, stop: Some(stop), postgres, _dir: dir }
    }

    /// Stops the server and drops a PostgreSQL scratch database.
    async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.store.pool.close().await;
        if let Some((url, db)) = self.postgres.take() {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin).await.unwrap();
        }
    }

    async fn call(&self, method: reqwest::Method, token: &str, path: &str, body: Option<Value>, key: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, token, path, None, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body), None).await
    }

    /// Places an order for D-GD-0001 (approving it if it was held).
    async fn place(&self, lines: Value) -> Value {
        let key = uuid::Uuid::new_v4().to_string();
        let (status, order) = self.call(reqwest::Method::POST, DEALER, "/orders", Some(json!({ "lines": lines })), Some(&key)).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        let id = order["id"].as_str().unwrap().to_string();
        if order["status"] == "pending_review" {
            let (status, body) = self.post(REGION, &format!("/orders/{id}/approve"), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        self.order(&id).await
    }

    /// Places, allocates, ships and receives an order: it ends delivered.
    async fn delivered(&self, lines: Value) -> Value {
        let order = self.place(lines).await;
        let id = order["id"].as_str().unwrap().to_string();
        let (status, body) = self.post(REGION, &format!("/orders/{id}/allocate"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut warehouses: Vec<String> =
            order["allocations"].as_array().unwrap().iter().map(|a| a["warehouse_id"].as_str().unwrap().to_string()).collect();
        warehouses.dedup();
        for (i, warehouse) in warehouses.iter().enumerate() {
            let ship = json!({ "warehouse_id": warehouse, "carrier": "SF Express", "tracking_no": format!("SF{i}") });
            let (status, body) = self.post(REGION, &format!("/orders/{id}/shipments"), ship).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (status, body) = self.post(DEALER, &format!("/orders/{id}/receipt"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "delivered");
        body
    }

    async fn order(&self, id: &str) -> Value {
        let (status, order) = self.get(HQ, &format!("/orders/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{order}");
        order
    }

    /// `(credit_limit, outstanding_balance)` of D-GD-0001, over the API.
    async fn credit(&self) -> (i64, i64) {
        let (status, credit) = self.get(DEALER, &format!("/dealers/{DEALER_ID}/credit")).await;
        assert_eq!(status, StatusCode::OK, "{credit}");
        let (limit, outstanding) = (credit["credit_limit"].as_i64().unwrap(), credit["outstanding_balance"].as_i64().unwrap());
        assert_eq!(credit["available_credit"].as_i64().unwrap(), limit - outstanding);
        (limit, outstanding)
    }

    /// Test set-up straight in the database.
    async fn set_outstanding(&self, amount: i64) {
        sqlx::query("UPDATE dealers SET outstanding_balance = $1 WHERE id = $2")
            .bind(amount)
            .bind(DEALER_ID)
            .execute(&self.store.pool)
            .await
            .unwrap();
    }

    async fn on_hand(&self, warehouse: &str, sku: &str) -> (i64, i64) {
        let row = sqlx::query("SELECT on_hand, reserved FROM stock WHERE warehouse_id = $1 AND sku = $2")
            .bind(warehouse)
            .bind(sku)
            .fetch_one(&self.store.pool)
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }
}

async fn scratch_database(url: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("chanhost_pc_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(url).await.expect("CHANHOST_TEST_POSTGRES connects");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    (url.to_string(), name)
}

fn with_database(url: &str, db: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a postgres://host/db URL");
    format!("{server}/{db}")
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn error_path(problem: &Value) -> &str {
    problem["errors"][0]["path"].as_str().unwrap_or_default()
}

fn actions(order: &Value) -> Vec<&str> {
    order["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

/// The one line of a one-SKU order: `(sku, quantity, unit price)`.
fn the_line(order: &Value) -> (String, i64, i64) {
    let line = order["lines"].as_array().unwrap().iter().find(|l| l["free"] == false).unwrap();
    (line["sku"].as_str().unwrap().to_string(), line["quantity"].as_i64().unwrap(), line["unit_price"].as_i64().unwrap())
}

#[tokio::test]
async fn credit_payments_stay_within_the_credit_limit() {
    let server = Server::start().await;
    let order = server.place(json!([{ "sku": "BJ-002", "quantity": 5 }])).await;
    let order_id = id(&order);
    let total = order["total"].as_i64().unwrap();
    let (limit, outstanding) = server.credit().await;

    let half = total / 2;
    let (status, payment) = server.post(DEALER, &format!("/orders/{order_id}/payments"), json!({ "method": "credit", "amount": half, "reference": "PO-7" })).await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(payment["method"], "credit");
    assert_eq!(payment["order_id"], order_id.as_str());
    assert_eq!(server.credit().await, (limit, outstanding + half));

    // Just past the limit: refused, nothing moves.
    server.set_outstanding(limit - 100).await;
    let (status, problem) = server.post(DEALER, &format!("/orders/{order_id}/payments"), json!({ "method": "credit", "amount": 101 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(error_path(&problem), "/amount");
    assert_eq!(server.credit().await, (limit, limit - 100));

    // Exactly up to the limit: accepted.
    let (status, payment) = server.post(REGION, &format!("/orders/{order_id}/payments"), json!({ "method": "credit", "amount": 100 })).await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(server.credit().await, (limit, limit));

    let (status, summary) = server.get(DEALER, &format!("/orders/{order_id}/payments")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["paid"].as_i64().unwrap(), half + 100);
    assert_eq!(summary["due"].as_i64().unwrap(), total - half - 100);
    assert_eq!(summary["payments"].as_array().unwrap().len(), 2);

    // The timeline tells of each payment without moving the order.
    let order = server.order(&order_id).await;
    assert_eq!(order["paid"].as_i64().unwrap(), half + 100);
    let payments: Vec<_> = order["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "payment").collect();
    assert_eq!(payments.len(), 2);
    assert!(payments.iter().all(|e| e["from_status"] == order["status"] && e["to_status"] == order["status"]));
    server.finish().await;
}

#[tokio::test]
async fn payments_cannot_overpay_or_pay_cancelled_orders() {
    let server = Server::start().await;
    let order = server.place(json!([{ "sku": "BJ-002", "quantity": 3 }])).await;
    let order_id = id(&order);
    let total = order["total"].as_i64().unwrap();
    let path = format!("/orders/{order_id}/payments");

    for (body, field) in [
        (json!({ "method": "online", "amount": total + 1 }), "/amount"),
        (json!({ "method": "online", "amount": 0 }), "/amount"),
        (json!({ "method": "online", "amount": -5 }), "/amount"),
        (json!({ "method": "refund_credit", "amount": 5 }), "/method"),
        (json!({ "method": "cheque", "amount": 5 }), "/method"),
    ] {
        let (status, problem) = server.post(DEALER, &path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(error_path(&problem), field, "{body}: {problem}");
    }
    let (status, _) = server.post(DEALER, &path, json!({ "method": "bank_transfer", "amount": total - 1 })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = server.post(HQ, &path, json!({ "method": "online", "amount": 2 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(error_path(&problem), "/amount");
    let (status, _) = server.post(HQ, &path, json!({ "method": "online", "amount": 1 })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(server.order(&order_id).await["paid"].as_i64().unwrap(), total);

    // Other parties may not pay; cancelled orders take nothing.
    let (status, _) = server.post(OTHER_DEALER, &path, json!({ "method": "online", "amount": 1 })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cancelled = id(&server.place(json!([{ "sku": "BJ-002", "quantity": 1 }])).await);
    let (status, _) = server.post(DEALER, &format!("/orders/{cancelled}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = server.post(DEALER, &format!("/orders/{cancelled}/payments"), json!({ "method": "online", "amount": 1 })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    server.finish().await;
}

#[tokio::test]
async fn concurrent_payments_never_overpay() {
    let server = Server::start().await;
    let order = server.place(json!([{ "sku": "BJ-002", "quantity": 10 }])).await;
    let order_id = id(&order);
    let total = order["total"].as_i64().unwrap();
    let path = format!("/orders/{order_id}/payments");
    let (tenth, odd) = (total / 10, total % 10);
    if odd > 0 {
        let (status, _) = server.post(DEALER, &path, json!({ "method": "online", "amount": odd })).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, outstanding) = server.credit().await;

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (client, url) = (server.client.clone(), format!("{}{path}", server.base));
            let method = if i % 2 == 0 { "credit" } else { "online" };
            tokio::spawn(async move {
                let response = client.post(url).bearer_auth(DEALER).json(&json!({ "method": method, "amount": tenth })).send().await.unwrap();
                (method, response.status())
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for task in tasks {
        let (method, status) = task.await.unwrap();
        match status {
            StatusCode::CREATED => accepted.push(method),
            StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(accepted.len(), 10, "exactly ten tenths fit");
    let order = server.order(&order_id).await;
    assert_eq!(order["paid"].as_i64().unwrap(), total);
    let on_credit = accepted.iter().filter(|m| **m == "credit").count() as i64;
    assert_eq!(server.credit().await.1, outstanding + on_credit * tenth, "credit charged once per accepted credit payment");
    let (_, summary) = server.get(HQ, &path).await;
    assert_eq!(summary["due"].as_i64().unwrap(), 0);
    let recorded: i64 = summary["payments"].as_array().unwrap().iter().map(|p| p["amount"].as_i64().unwrap()).sum();
    assert_eq!(recorded, total);
    server.finish().await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_payment() {
    let server = Server::start().await;
    let order_id = id(&server.place(json!([{ "sku": "BJ-002", "quantity": 2 }])).await);
    let path = format!("/orders/{order_id}/payments");
    let body = json!({ "method": "online", "amount": 1000 });
    let (status, first) = server.call(reqwest::Method::POST, DEALER, &path, Some(body.clone()), Some("pay-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = server.call(reqwest::Method::POST, DEALER, &path, Some(body), Some("pay-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, first);
    assert_eq!(server.order(&order_id).await["paid"].as_i64().unwrap(), 1000);
    let other = json!({ "method": "online", "amount": 999 });
    let (status, problem) = server.call(reqwest::Method::POST, DEALER, &path, Some(other), Some("pay-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_path(&problem), "Idempotency-Key");
    server.finish().await;
}

#[tokio::test]
async fn a_dealer_pays_down_its_balance_but_never_below_zero() {
    let server = Server::start().await;
    let (limit, outstanding) = server.credit().await;
    let path = format!("/dealers/{DEALER_ID}/payments");
    let (status, payment) = server.post(DEALER, &path, json!({ "method": "bank_transfer", "amount": 3_000_000, "reference": "ICBC 0042" })).await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(payment["order_id"], Value::Null);
    assert_eq!(server.credit().await, (limit, outstanding - 3_000_000));

    let rest = outstanding - 3_000_000;
    let (status, problem) = server.post(DEALER, &path, json!({ "method": "online", "amount": rest + 1 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_path(&problem), "/amount");
    let (status, problem) = server.post(DEALER, &path, json!({ "method": "credit", "amount": 1 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_path(&problem), "/method");
    let (status, _) = server.post(REGION, &path, json!({ "method": "online", "amount": rest })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(server.credit().await, (limit, 0));

    let (status, ledger) = server.get(DEALER, &format!("{path}?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ledger["payments"][0]["amount"].as_i64().unwrap(), rest, "newest first");
    let cursor = ledger["next_cursor"].as_str().unwrap();
    let (_, older) = server.get(DEALER, &format!("{path}?limit=1&cursor={cursor}")).await;
    assert_eq!(older["payments"][0]["amount"].as_i64().unwrap(), 3_000_000);
    assert_eq!(older["next_cursor"], Value::Null);
    let (status, problem) = server.get(DEALER, &format!("{path}?limit=0")).await;
    assert_eq!((status, error_path(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "?limit"));

    for token in [OTHER_DEALER, OTHER_REGION] {
        assert_eq!(server.get(token, &format!("/dealers/{DEALER_ID}/credit")).await.0, StatusCode::FORBIDDEN);
        assert_eq!(server.get(token, &path).await.0, StatusCode::FORBIDDEN);
        assert_eq!(server.post(token, &path, json!({ "method": "online", "amount": 1 })).await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(server.get(HQ, &format!("/dealers/{DEALER_ID}/credit")).await.0, StatusCode::OK);
    server.finish().await;
}

#[tokio::test]
async fn claims_need_a_delivered_order_and_cannot_exceed_what_shipped() {
    let server = Server::start().await;
    let placed = id(&server.place(json!([{ "sku": "BJ-002", "quantity": 2 }])).await);
    let claim = json!({ "kind": "damaged", "description": "crushed", "photos": ["photo://c/1.jpg"], "lines": [{ "sku": "BJ-002", "quantity": 1 }] });
    let (status, problem) = server.post(DEALER, &format!("/orders/{placed}/claims"), claim).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["allowed"], json!(["delivered", "completed"]));

    let order = server.delivered(json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let path = format!("/orders/{}/claims", id(&order));
    let eleven: Vec<String> = (0..11).map(|i| format!("photo://c/{i}.jpg")).collect();
    for (lines, photos, field) in [
        (json!([{ "sku": "BJ-002", "quantity": 5 }]), json!([]), "/lines/0/quantity"),
        (json!([{ "sku": "BJ-001", "quantity": 1 }]), json!([]), "/lines/0/sku"),
        (json!([{ "sku": "BJ-002", "quantity": 1 }]), json!(eleven), "/photos"),
        (json!([{ "sku": "BJ-002", "quantity": 1 }]), json!(["not a reference"]), "/photos/0"),
    ] {
        let body = json!({ "kind": "missing", "description": "short", "photos": photos, "lines": lines });
        let (status, problem) = server.post(DEALER, &path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(error_path(&problem), field, "{problem}");
    }
    let body = json!({ "kind": "missing", "description": "short by three", "lines": [{ "sku": "BJ-002", "quantity": 3 }] });
    let (status, claim) = server.post(DEALER, &path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    assert_eq!(claim["status"], "open");
    assert_eq!(claim["allowed_actions"], json!(["approve", "reject"]));
    // What earlier claims cover cannot be claimed again.
    let body = json!({ "kind": "damaged", "description": "and two broken", "lines": [{ "sku": "BJ-002", "quantity": 2 }] });
    let (status, problem) = server.post(DEALER, &path, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(error_path(&problem), "/lines/0/quantity");
    server.finish().await;
}

#[tokio::test]
async fn a_refund_credits_the_dealer_exactly_once() {
    let server = Server::start().await;
    let order = server.delivered(json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let order_id = id(&order);
    let (sku, _, unit_price) = the_line(&order);
    let body = json!({ "kind": "damaged", "description": "two cases crushed", "photos": ["photo://claims/1.jpg", "https://img.test/2.jpg"], "lines": [{ "sku": sku, "quantity": 2 }] });
    let (status, claim) = server.post(DEALER, &format!("/orders/{order_id}/claims"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let claim_id = id(&claim);
    let (limit, outstanding) = server.credit().await;

    let (status, approved) = server.post(REGION, &format!("/claims/{claim_id}/approve"), json!({ "resolution": "refund_credit", "note": "carrier damage" })).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["resolution"], "refund_credit");
    assert_eq!(approved["refund_amount"].as_i64().unwrap(), 2 * unit_price);
    assert_eq!(server.credit().await, (limit, outstanding - 2 * unit_price));

    // Decided once: approving or rejecting again is a conflict naming no action.
    let (status, problem) = server.post(REGION, &format!("/claims/{claim_id}/approve"), json!({ "resolution": "refund_credit" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["allowed"], json!([]));
    let (status, _) = server.post(HQ, &format!("/claims/{claim_id}/reject"), json!({ "note": "no" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(server.credit().await, (limit, outstanding - 2 * unit_price));

    // The ledger explains the balance; the timeline tells the story.
    let (_, ledger) = server.get(DEALER, &format!("/dealers/{DEALER_ID}/payments")).await;
    let refund = &ledger["payments"][0];
    assert_eq!((refund["method"].as_str(), refund["claim_id"].as_str()), (Some("refund_credit"), Some(claim_id.as_str())));
    let order = server.order(&order_id).await;
    assert_eq!(order["status"], "delivered");
    assert!(actions(&order).ends_with(&["confirm_receipt", "claim_opened", "claim_approved"]), "{:?}", actions(&order));

    // A refund larger than the balance leaves the dealer in credit.
    server.set_outstanding(1_000).await;
    let body = json!({ "kind": "wrong_goods", "description": "wrong vintage", "lines": [{ "sku": sku, "quantity": 1 }] });
    let (_, second) = server.post(REGION, &format!("/orders/{order_id}/claims"), body).await;
    let (status, _) = server.post(HQ, &format!("/claims/{}/approve", id(&second)), json!({ "resolution": "refund_credit", "amount": 5_000 })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.credit().await, (limit, -4_000));
    server.finish().await;
}

#[tokio::test]
async fn a_reshipment_ships_the_claimed_goods_again_from_stock() {
    let server = Server::start().await;
    let order = server.delivered(json!([{ "sku": "BJ-002", "quantity": 4 }])).await;
    let order_id = id(&order);
    let warehouse = order["shipments"][0]["warehouse_id"].as_str().unwrap().to_string();
    let body = json!({ "kind": "missing", "description": "three cases never came", "lines": [{ "sku": "BJ-002", "quantity": 3 }] });
    let (_, claim) = server.post(DEALER, &format!("/orders/{order_id}/claims"), body).await;
    let claim_id = id(&claim);
    let approve = format!("/claims/{claim_id}/approve");

    // Not enough available at the source: refused, nothing changes.
    let (on_hand, reserved) = server.on_hand(&warehouse, "BJ-002").await;
    sqlx::query("UPDATE stock SET reserved = on_hand - 2 WHERE warehouse_id = $1 AND sku = 'BJ-002'")
        .bind(&warehouse)
        .execute(&server.store.pool)
        .await
        .unwrap();
    let (status, problem) = server.post(REGION, &approve, json!({ "resolution": "reshipment", "warehouse_id": warehouse })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(error_path(&problem), "/warehouse_id");
    let (_, still) = server.get(DEALER, &format!("/claims/{claim_id}")).await;
    assert_eq!(still["status"], "open");
    sqlx::query("UPDATE stock SET reserved = $1 WHERE warehouse_id = $2 AND sku = 'BJ-002'")
        .bind(reserved)
        .bind(&warehouse)
        .execute(&server.store.pool)
        .await
        .unwrap();

    // From the warehouse the order shipped from, by default.
    let (status, approved) = server.post(REGION, &approve, json!({ "resolution": "reshipment", "tracking_no": "SF-R1" })).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["resolution"], "reshipment");
    let reshipment = &approved["reshipments"][0];
    assert_eq!(approved["reshipment_id"], reshipment["id"]);
    assert_eq!(reshipment["warehouse_id"], warehouse.as_str());
    assert_eq!(reshipment["lines"], json!([{ "sku": "BJ-002", "quantity": 3 }]));
    assert_eq!(server.on_hand(&warehouse, "BJ-002").await, (on_hand - 3, reserved));

    let movement = sqlx::query("SELECT on_hand_delta, reserved_delta, order_id FROM movements WHERE kind = 'reshipment' AND claim_id = $1")
        .bind(&claim_id)
        .fetch_one(&server.store.pool)
        .await
        .unwrap();
    assert_eq!((movement.get::<i64, _>(0), movement.get::<i64, _>(1)), (-3, 0));
    assert_eq!(movement.get::<String, _>(2), order_id);

    let order = server.order(&order_id).await;
    assert_eq!(order["status"], "delivered");
    let shipment = order["shipments"].as_array().unwrap().iter().find(|s| s["claim_id"] == claim_id.as_str()).expect("a shipment for the claim");
    assert_eq!(shipment["tracking_no"], "SF-R1");
    assert_eq!(shipment["carrier"], "SF Express");
    let (status, _) = server.post(REGION, &approve, json!({ "resolution": "reshipment" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    server.finish().await;
}

#[tokio::test]
async fn claims_belong_to_the_order_parties() {
    let server = Server::start().await;
    let order = server.delivered(json!([{ "sku": "BJ-002", "quantity": 2 }])).await;
    let path = format!("/orders/{}/claims", id(&order));
    let body = json!({ "kind": "damaged", "description": "one broken", "lines": [{ "sku": "BJ-002", "quantity": 1 }] });
    assert_eq!(server.post(OTHER_DEALER, &path, body.clone()).await.0, StatusCode::FORBIDDEN);
    let (status, claim) = server.post(DEALER, &path, body).await;
    assert_eq!(status, StatusCode::CREATED);
    let claim_id = id(&claim);
    let refund = json!({ "resolution": "refund_credit" });
    for token in [OTHER_REGION, DEALER, OTHER_DEALER] {
        let (status, problem) = server.post(token, &format!("/claims/{claim_id}/approve"), refund.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token}: {problem}");
    }
    assert_eq!(server.get(OTHER_DEALER, &format!("/claims/{claim_id}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(server.get(OTHER_REGION, &format!("/claims/{claim_id}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(server.get(OTHER_REGION, "/claims?region=gd").await.0, StatusCode::FORBIDDEN);

    let listed = |page: &Value| page["claims"].as_array().unwrap().iter().map(id).collect::<Vec<_>>();
    assert_eq!(listed(&server.get(REGION, "/claims?status=open").await.1), [claim_id.as_str()]);
    assert_eq!(listed(&server.get(DEALER, "/claims").await.1), [claim_id.as_str()]);
    assert_eq!(listed(&server.get(HQ, &format!("/claims?dealer_id={DEALER_ID}")).await.1), [claim_id.as_str()]);
    assert!(listed(&server.get(OTHER_REGION, "/claims").await.1).is_empty());
    assert!(listed(&server.get(OTHER_DEALER, "/claims").await.1).is_empty());
    assert_eq!(listed(&server.get(DEALER, &path).await.1), [claim_id.as_str()]);

    let (status, problem) = server.post(REGION, &format!("/claims/{claim_id}/reject"), json!({ "note": " " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_path(&problem), "/note");
    let (status, rejected) = server.post(REGION, &format!("/claims/{claim_id}/reject"), json!({ "note": "photos show intact cases" })).await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_note"], "photos show intact cases");
    assert_eq!(server.post(REGION, &format!("/claims/{claim_id}/approve"), refund).await.0, StatusCode::CONFLICT);
    assert!(listed(&server.get(REGION, "/claims?status=open").await.1).is_empty());
    assert!(actions(&server.order(&id(&order)).await).ends_with(&["claim_opened", "claim_rejected"]));
    server.finish().await;
}
