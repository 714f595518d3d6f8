//! Inventory, transfers, alerts and the dashboard over HTTP, against a
//! server started in-process on the example brand and data set: SQLite in
//! a temporary directory, or a fresh PostgreSQL database per test when
//! `CHANHOST_TEST_DATABASE_URL` names a server to create them on.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chanhost::server::{self, ServerOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const HQ: &str = "demo-hq-admin";
const GD: &str = "demo-region-gd";
const GX: &str = "demo-region-gx";
const DEALER: &str = "demo-dealer-d-gd-0001";

/// A server on the example brand, its scratch directory and database.
struct Server {
    base: String,
    client: reqwest::Client,
    state: chanhost::api::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    /// `(admin URL, database name)` of a PostgreSQL database to drop.
    postgres: Option<(String, String)>,
}

impl Server {
    async fn start() -> Server {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = tempfile::tempdir().expect("temporary directory");
        let postgres = match std::env::var("CHANHOST_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("inv_{}", uuid::Uuid::now_v7().simple());
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&admin).await.expect("PostgreSQL admin connection");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create database");
                pool.close().await;
                Some((admin, name))
            }
            _ => None,
        };
        let database_url = postgres.as_ref().map(|(admin, name)| {
            let (server, _) = admin.rsplit_once('/').expect("URL with a database");
            format!("{server}/{name}")
        });
        let options = ServerOptions {
            config: repo.join("examples/brand"),
            dataset: Some(repo.join("examples/brand/dataset")),
            database_url,
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".parse().expect("address"),
        };
        let running = server::prepare(&options).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        let state = running.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(running.serve(async move {
            let _ = rx.await;
        }));
        Server {
            base,
            client: reqwest::Client::new(),
            state,
            shutdown: Some(tx),
            _dir: dir,
            postgres,
        }
    }

    async fn call(&self, method: reqwest::Method, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}/v1{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, token, path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body)).await
    }

    /// GET that must answer 200.
    async fn ok(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.get(token, path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// One stock row: `(on_hand, reserved)`.
    async fn level(&self, warehouse: &str, sku: &str) -> (i64, i64) {
        let rows = self.ok(HQ, &format!("/inventory?warehouse_id={warehouse}&sku={sku}")).await;
        let row = &rows[0];
        (row["on_hand"].as_i64().unwrap(), row["reserved"].as_i64().unwrap())
    }

    /// Every movement of one stock row, newest first, page by page.
    async fn movements(&self, warehouse: &str, sku: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.ok(HQ, &format!("/inventory/movements?warehouse_id={warehouse}&sku={sku}&limit=2{cursor}")).await;
            all.extend(page["movements"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return all,
            }
        }
    }

    /// The ledger check: the movements of a row add up to its figures.
    async fn assert_explained(&self, warehouse: &str, sku: &str) {
        let movements = self.movements(warehouse, sku).await;
        let on_hand: i64 = movements.iter().map(|m| m["on_hand_delta"].as_i64().unwrap()).sum();
        let reserved: i64 = movements.iter().map(|m| m["reserved_delta"].as_i64().unwrap()).sum();
        assert_eq!(self.level(warehouse, sku).await, (on_hand, reserved), "{warehouse} {sku}: {movements:#?}");
    }

    async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.state.store.pool.close().await;
        if let Some((admin, name)) = self.postgres.take()
            && let Ok(pool) = sqlx::AnyPool::connect(&admin).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
        }
    }
}

fn error_paths(body: &Value) -> Vec<String> {
    body["errors"].as_array().map(|e| e.iter().map(|p| p["path"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn receipts_adjustments_and_counts_are_explained_by_movements() {
    let s = Server::start().await;
    let (before, _) = s.level("WH-GD-1", "BJ-001").await;

    let (status, body) = s
        .post(GD, "/inventory/receipts", json!({"warehouse_id": "WH-GD-1", "reference": "batch 2026-09-01",
            "lines": [{"sku": "BJ-001", "quantity": 120}, {"sku": "LA-001", "quantity": 30}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["stock"].as_array().unwrap().len(), 2);
    assert_eq!(s.level("WH-GD-1", "BJ-001").await.0, before + 120);

    let (status, body) = s
        .post(GD, "/inventory/adjustments", json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -7, "reason": "7 cases broken in the yard"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["stock"][0]["on_hand"], before + 113);

    let (status, body) =
        s.post(HQ, "/inventory/counts", json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": before + 100}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (before + 100, 0));

    let movements = s.movements("WH-GD-1", "BJ-001").await;
    let kinds: Vec<&str> = movements.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["count", "adjustment", "receipt", "receipt"], "newest first, opening stock last");
    assert_eq!(movements[0]["on_hand_delta"], -13);
    assert_eq!(movements[1]["reason"], "7 cases broken in the yard");
    assert!(movements[2]["reason"].as_str().unwrap().contains("batch 2026-09-01"));
    s.assert_explained("WH-GD-1", "BJ-001").await;
    s.assert_explained("WH-GD-1", "LA-001").await;

    // Refusals name the field.
    let (status, body) = s
        .post(GD, "/inventory/receipts", json!({"warehouse_id": "WH-GD-1", "reference": "x",
            "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "BJ-001", "quantity": 0}]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_paths(&body), ["/lines/0/sku", "/lines/1/quantity"]);
    let (status, body) = s.post(HQ, "/inventory/receipts", json!({"warehouse_id": "WH-NOPE", "reference": "x", "lines": []})).await;
    assert_eq!((status, error_paths(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["/warehouse_id".to_string()]));
    let (status, body) = s.post(GD, "/inventory/adjustments", json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": 5, "reason": " "})).await;
    assert_eq!((status, error_paths(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["/reason".to_string()]));
    let (status, body) = s.post(GD, "/inventory/counts", json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": -1}]})).await;
    assert_eq!((status, error_paths(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["/lines/0/counted".to_string()]));
    let (status, _) = s.post(GD, "/inventory/adjustments", json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": 5, "reason": "x", "extra": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (before + 100, 0), "refusals change nothing");
    s.finish().await;
}

/// Reserves `quantity` of `sku` at `from` through an approved transfer.
async fn reserve(s: &Server, from: &str, to: &str, sku: &str, quantity: i64) -> String {
    let (status, body) = s
        .post(HQ, "/transfers", json!({"from_warehouse": from, "to_warehouse": to, "reason": "rebalance",
            "lines": [{"sku": sku, "quantity": quantity}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, body) = s.post(HQ, &format!("/transfers/{id}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

#[tokio::test]
async fn stock_never_goes_below_what_is_reserved() {
    let s = Server::start().await;
    let (on_hand, _) = s.level("WH-GD-1", "BJ-001").await;
    reserve(&s, "WH-GD-1", "WH-GD-2", "BJ-001", on_hand - 10).await;
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (on_hand, on_hand - 10));

    let (status, body) = s
        .post(GD, "/inventory/adjustments", json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -11, "reason": "stolen"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_paths(&body), ["/delta"]);
    assert!(body["detail"].as_str().unwrap().contains("reserved"), "{body}");
    let (status, body) = s
        .post(GD, "/inventory/counts", json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": on_hand - 11}]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_paths(&body), ["/lines/0/counted"]);

    // Down to exactly what is reserved is fine.
    let (status, body) = s
        .post(GD, "/inventory/adjustments", json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -10, "reason": "stolen"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["stock"][0]["available"], 0);
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (on_hand - 10, on_hand - 10));
    s.assert_explained("WH-GD-1", "BJ-001").await;
    s.finish().await;
}

#[tokio::test]
async fn region_admins_reach_only_their_region() {
    let s = Server::start().await;
    let rows = s.ok(GD, "/inventory").await;
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["region"] == "gd" && r["level"] != "hq"), "only gd's own warehouses");
    assert!(rows.iter().any(|r| r["level"] == "dealer"), "dealer stock of the region is visible");

    for path in ["/inventory?region=hl", "/inventory?warehouse_id=WH-HL-1", "/inventory?warehouse_id=WH-HQ-1",
                 "/inventory/movements?region=hl", "/alerts?region=hl", "/transfers?region=hl", "/dashboard?region=hl"] {
        let (status, body) = s.get(GD, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "GET {path}: {body}");
    }
    for path in ["/inventory", "/inventory/movements", "/alerts", "/transfers", "/dashboard"] {
        let (status, body) = s.get(DEALER, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "dealer GET {path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("dealer"), "{body}");
    }
    let receipt = |warehouse: &str| json!({"warehouse_id": warehouse, "reference": "r", "lines": [{"sku": "BJ-001", "quantity": 1}]});
    for warehouse in ["WH-HL-1", "WH-HQ-1"] {
        let (status, body) = s.post(GD, "/inventory/receipts", receipt(warehouse)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{warehouse}: {body}");
    }
    let (status, _) = s.post(DEALER, "/inventory/receipts", receipt("WH-GD-1")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.post(HQ, "/inventory/receipts", receipt("WH-HQ-1")).await;
    assert_eq!(status, StatusCode::CREATED);

    let page = s.ok(GD, "/inventory/movements?limit=50").await;
    let gd_warehouses: BTreeSet<String> = rows.iter().map(|r| r["warehouse_id"].as_str().unwrap().to_string()).collect();
    for m in page["movements"].as_array().unwrap() {
        assert!(gd_warehouses.contains(m["warehouse_id"].as_str().unwrap()), "{m}");
    }
    // A transfer between two other regions is invisible to gd.
    let id = reserve(&s, "WH-HL-1", "WH-JL-1", "BJ-001", 1).await;
    let (status, _) = s.get(GD, &format!("/transfers/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.post(GD, "/transfers", json!({"from_warehouse": "WH-HL-1", "to_warehouse": "WH-JL-1", "reason": "r",
        "lines": [{"sku": "BJ-001", "quantity": 1}]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.finish().await;
}

#[tokio::test]
async fn a_transfer_moves_stock_exactly_from_plan_to_receipt() {
    let s = Server::start().await;
    let (from_before, _) = s.level("WH-GD-1", "BJ-001").await;
    let (to_before, _) = s.level("WH-GX-1", "BJ-001").await;

    let (status, t) = s
        .post(GD, "/transfers", json!({"from_warehouse": "WH-GD-1", "to_warehouse": "WH-GX-1", "reason": "Guangxi runs short",
            "lines": [{"sku": "BJ-001", "quantity": 40}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "planned");
    assert_eq!(t["route"], "WH-GD-1 (gd) → WH-GX-1 (gx)");
    // Cross-region: ¥500 + ¥8 × 40 cases × rank 1 (gd is gx's first neighbour).
    assert_eq!(t["cost_estimate"], 50_000 + 800 * 40);
    assert_eq!(t["allowed_actions"], json!(["approve", "cancel"]));
    assert_eq!(s.ok(GX, &format!("/transfers/{id}")).await["status"], "planned", "the destination sees it");

    let (status, _) = s.post(GD, &format!("/transfers/{id}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only HQ approves");
    let (status, body) = s.post(HQ, &format!("/transfers/{id}/ship"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["allowed"], json!(["approve", "cancel"]), "{body}");

    let (status, t) = s.post(HQ, &format!("/transfers/{id}/approve"), json!({"note": "ok"})).await;
    assert_eq!((status, &t["status"]), (StatusCode::OK, &json!("approved")), "{t}");
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (from_before, 40));

    let (status, _) = s.post(GX, &format!("/transfers/{id}/ship"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the source ships");
    let (status, t) = s.post(GD, &format!("/transfers/{id}/ship"), json!({})).await;
    assert_eq!((status, &t["status"]), (StatusCode::OK, &json!("shipped")), "{t}");
    assert_eq!(s.level("WH-GD-1", "BJ-001").await, (from_before - 40, 0));
    assert_eq!(s.level("WH-GX-1", "BJ-001").await.0, to_before, "in transit: nowhere yet");

    let (status, body) = s.post(GD, &format!("/transfers/{id}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "too late to cancel");
    assert_eq!(body["allowed"], json!(["receive"]));
    let (status, _) = s.post(GD, &format!("/transfers/{id}/receive"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the destination receives");
    let (status, t) = s.post(GX, &format!("/transfers/{id}/receive"), json!({})).await;
    assert_eq!((status, &t["status"]), (StatusCode::OK, &json!("received")), "{t}");
    assert_eq!(s.level("WH-GX-1", "BJ-001").await.0, to_before + 40);
    let (status, body) = s.post(HQ, &format!("/transfers/{id}/receive"), json!({})).await;
    assert_eq!((status, body["allowed"].clone()), (StatusCode::CONFLICT, json!([])));

    let t = s.ok(HQ, &format!("/transfers/{id}")).await;
    let actions: Vec<&str> = t["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["plan", "approve", "ship", "receive"]);
    assert!(t["approved_by"].as_str().unwrap().starts_with("hq_admin"));
    assert!(t["shipped_at"].is_i64() && t["received_at"].is_i64());
    let moved = s.ok(HQ, &format!("/inventory/movements?transfer_id={id}")).await;
    let kinds: Vec<&str> = moved["movements"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["transfer_in", "transfer_out", "reservation"]);
    s.assert_explained("WH-GD-1", "BJ-001").await;
    s.assert_explained("WH-GX-1", "BJ-001").await;

    // A transfer that asks for more than is available is refused at approval.
    let (_, t) = s
        .post(HQ, "/transfers", json!({"from_warehouse": "WH-GD-2", "to_warehouse": "WH-GD-1", "reason": "r",
            "lines": [{"sku": "BJ-001", "quantity": 1_000_000}]}))
        .await;
    assert_eq!(t["cost_estimate"], 20_000 + 300 * 1_000_000, "within a region");
    let big = t["id"].as_str().unwrap();
    let (status, body) = s.post(HQ, &format!("/transfers/{big}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_paths(&body), ["/lines/0/quantity"]);
    assert_eq!(s.ok(HQ, &format!("/transfers/{big}")).await["status"], "planned", "nothing changed");

    // Cancelling an approved transfer releases its reservation.
    let (on_hand, reserved) = s.level("WH-GD-2", "BJ-001").await;
    let id = reserve(&s, "WH-GD-2", "WH-GD-1", "BJ-001", 5).await;
    assert_eq!(s.level("WH-GD-2", "BJ-001").await, (on_hand, reserved + 5));
    let (status, t) = s.post(GD, &format!("/transfers/{id}/cancel"), json!({"note": "not needed"})).await;
    assert_eq!((status, &t["status"]), (StatusCode::OK, &json!("cancelled")), "{t}");
    assert_eq!(s.level("WH-GD-2", "BJ-001").await, (on_hand, reserved));
    s.assert_explained("WH-GD-2", "BJ-001").await;

    let (status, body) = s
        .post(GD, "/transfers", json!({"from_warehouse": "WH-GD-1", "to_warehouse": "WH-GD-1", "reason": "",
            "lines": [{"sku": "RX-002", "quantity": 0}]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_paths(&body), ["/to_warehouse", "/reason", "/lines/0/sku", "/lines/0/quantity"]);
    s.finish().await;
}

/// The pairs examples/brand/generate.py designed to alert on a fresh start.
const SAFETY_LOW: [(&str, &str); 5] = [("js", "BJ-018"), ("yn", "LA-002"), ("ln", "RX-002"), ("gx", "WN-006"), ("nm", "BJ-012")];
const SHORT_WITH_NEIGHBOUR_SURPLUS: [(&str, &str, &str); 5] =
    [("sz", "LA-003", "gd"), ("hb", "BJ-019", "hn"), ("fj", "WN-001", "zj"), ("nx", "RX-006", "gs"), ("tj", "BJ-002", "bj")];
const SLOW_MOVING: [(&str, &str); 5] = [("xj", "WN-009"), ("hi", "BJ-011"), ("sz", "BJ-015"), ("qh", "WN-005"), ("jx", "LA-008")];

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(r, s)| (r.to_string(), s.to_string())).collect()
}

async fn open_alerts(s: &Server, kind: &str) -> Vec<Value> {
    s.ok(HQ, &format!("/alerts?status=open&kind={kind}&limit=1000")).await["alerts"].as_array().unwrap().clone()
}

fn alert_pairs(alerts: &[Value]) -> BTreeSet<(String, String)> {
    alerts.iter().map(|a| (a["region"].as_str().unwrap().to_string(), a["sku"].as_str().unwrap().to_string())).collect()
}

#[tokio::test]
async fn a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq() {
    let s = Server::start().await;
    let (status, summary) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let (status, _) = s.post(GD, "/alerts/scan", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert_eq!(alert_pairs(&open_alerts(&s, "safety_stock").await), pairs(&SAFETY_LOW));
    assert_eq!(alert_pairs(&open_alerts(&s, "slow_moving").await), pairs(&SLOW_MOVING));
    let mut short = pairs(&SAFETY_LOW);
    short.extend(SHORT_WITH_NEIGHBOUR_SURPLUS.iter().map(|(r, sku, _)| (r.to_string(), sku.to_string())));
    let shortfalls = open_alerts(&s, "shortfall_transfer").await;
    assert_eq!(alert_pairs(&shortfalls), short);

    let drafts = s.ok(HQ, "/transfers?status=draft&limit=500").await["transfers"].as_array().unwrap().clone();
    for (region, sku, neighbour) in SHORT_WITH_NEIGHBOUR_SURPLUS {
        let found: Vec<&Value> = drafts.iter().filter(|t| t["to_region"] == region && t["lines"][0]["sku"] == sku).collect();
        assert_eq!(found.len(), 1, "one draft for {region} {sku}: {drafts:#?}");
        let t = found[0];
        assert_eq!(t["from_region"], neighbour, "{t}");
        assert!(t["cost_estimate"].as_i64().unwrap() > 0 && t["route"].as_str().unwrap().contains('→'));
        let alert = shortfalls.iter().find(|a| a["region"] == region && a["sku"] == sku).unwrap();
        assert_eq!(alert["transfer_id"], t["id"]);
        assert_eq!(t["alert_id"], alert["id"]);
        assert!(t["reason"].as_str().unwrap().contains(alert["id"].as_str().unwrap()));
    }

    // A second scan raises and drafts nothing new.
    let (_, again) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(again["raised"], json!({}), "{again}");
    assert_eq!(again["transfers_drafted"], json!([]));
    assert_eq!(s.ok(HQ, "/transfers?status=draft&limit=500").await["transfers"].as_array().unwrap().len(), drafts.len());

    // HQ approves Tianjin's draft; it ships and arrives; the shortfall clears.
    let t = drafts.iter().find(|t| t["to_region"] == "tj").unwrap();
    let id = t["id"].as_str().unwrap();
    let quantity = t["lines"][0]["quantity"].as_i64().unwrap();
    let (from, to) = (t["from_warehouse"].as_str().unwrap(), t["to_warehouse"].as_str().unwrap());
    let (to_before, _) = s.level(to, "BJ-002").await;
    for (token, action) in [(HQ, "approve"), ("demo-region-bj", "ship"), ("demo-region-tj", "receive")] {
        let (status, body) = s.post(token, &format!("/transfers/{id}/{action}"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    assert_eq!(s.level(to, "BJ-002").await.0, to_before + quantity);
    s.assert_explained(from, "BJ-002").await;
    let (status, _) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let tj = s.ok("demo-region-tj", "/alerts?kind=shortfall_transfer").await;
    assert_eq!(tj["alerts"][0]["status"], "resolved", "{tj}");
    assert!(tj["alerts"][0]["resolved_at"].is_i64());

    // A person resolves an alert with a note; only the region's admin or HQ.
    let xj = s.ok(HQ, "/alerts?region=xj&kind=slow_moving").await["alerts"][0].clone();
    let path = format!("/alerts/{}/resolve", xj["id"].as_str().unwrap());
    let (status, _) = s.post(GD, &path, json!({"note": "not mine"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.post("demo-region-xj", &path, json!({"note": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = s.post("demo-region-xj", &path, json!({"note": "promotion planned for October"})).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("resolved")), "{body}");
    assert_eq!(body["resolution_note"], "promotion planned for October");
    let (status, _) = s.post("demo-region-xj", &path, json!({"note": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    s.finish().await;
}

#[tokio::test]
async fn orders_beyond_stock_raise_a_production_alert() {
    let s = Server::start().await;
    // Jiangsu holds 23 cases of the new BJ-018: a key account wants 90.
    let response = s
        .client
        .post(format!("{}/v1/orders", s.base))
        .bearer_auth("demo-dealer-d-js-0001")
        .header("idempotency-key", "production-alert-1")
        .json(&json!({"urgency": "expedited", "lines": [{"sku": "BJ-018", "quantity": 90}]}))
        .send()
        .await
        .expect("order");
    let status = response.status();
    let order: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let id = order["id"].as_str().unwrap();

    let (status, summary) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(summary["orders_with_production_signals"].as_u64().unwrap() >= 1, "{summary}");
    let alerts = open_alerts(&s, "production").await;
    assert_eq!(alert_pairs(&alerts), pairs(&[("js", "BJ-018")]), "{alerts:#?}");
    let details = &alerts[0]["details"];
    assert!(details["quantity"].as_u64().unwrap() > 0, "{details}");
    assert_eq!(details["suggested_lead_days"], 21, "a new product's lead time");
    assert_eq!(details["orders"], json!([id]));

    let (_, again) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(again["raised"].get("production"), None, "deduped while open: {again}");
    assert_eq!(open_alerts(&s, "production").await.len(), 1);
    s.finish().await;
}

#[tokio::test]
async fn the_dashboard_shows_every_region_to_hq_and_one_to_its_admin() {
    let s = Server::start().await;
    let response = s
        .client
        .post(format!("{}/v1/orders", s.base))
        .bearer_auth(DEALER)
        .header("idempotency-key", "dashboard-1")
        .json(&json!({"lines": [{"sku": "BJ-001", "quantity": 2}]}))
        .send()
        .await
        .expect("order");
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.expect("json");
    let (status, _) = s.post(HQ, "/alerts/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let all = s.ok(HQ, "/dashboard").await;
    let regions = all["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 32);
    for r in regions {
        assert!(r["stock"]["on_hand"].as_i64().unwrap() > 0, "{r}");
        assert!(r["stock"]["share_of_target_bp"].as_i64().is_some(), "{r}");
    }
    let gd = regions.iter().find(|r| r["region"] == "gd").unwrap();
    assert_eq!(gd["orders"]["total"], 1);
    assert_eq!(gd["orders_today"]["total"], 1);
    assert_eq!(gd["gmv"]["all_time"], order["total"]);
    let js = regions.iter().find(|r| r["region"] == "js").unwrap();
    assert_eq!(js["open_alerts"]["safety_stock"], 1, "{js}");
    assert_eq!(js["orders"]["total"], 0);

    let own = s.ok(GD, "/dashboard").await;
    let own = own["regions"].as_array().unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["region"], "gd");
    assert_eq!(own[0]["stock"], gd["stock"]);
    let (status, _) = s.get(GD, "/dashboard?region=hl").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.finish().await;
}
