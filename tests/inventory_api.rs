//! Inventory, transfers, alerts and the dashboard over real HTTP, on SQLite
//! and on PostgreSQL: receipts, adjustments and counts explained by
//! movements, stock never below what is reserved, region scoping, a
//! transfer from plan to receipt, the alert scan with its drafted transfers,
//! production alerts and the dashboard. Each test runs its own
//! `chanhost serve` on its own database seeded from the example data set;
//! tests that leave no transfer reservation behind end with the ledger check.

mod common;

use std::collections::BTreeSet;

use common::server::*;
use serde_json::{Value, json};

const GX_ADMIN: &str = "demo-region-gx";

/// Every movement of one stock row, newest first, page by page (two to a
/// page, so the cursor is exercised).
async fn movements(api: &Api, warehouse: &str, sku: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let path =
            format!("/v1/inventory/movements?warehouse_id={warehouse}&sku={sku}&limit=2{cursor}");
        let page = api.get(HQ, &path).await.expect(200);
        all.extend(page["movements"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

/// The movements of a row, read over the API, add up to its figures.
async fn assert_explained(api: &Api, warehouse: &str, sku: &str) {
    let movements = movements(api, warehouse, sku).await;
    let on_hand: i64 = movements
        .iter()
        .map(|m| m["on_hand_delta"].as_i64().unwrap())
        .sum();
    let reserved: i64 = movements
        .iter()
        .map(|m| m["reserved_delta"].as_i64().unwrap())
        .sum();
    assert_eq!(
        api.inventory(warehouse, sku).await,
        (on_hand, reserved),
        "{warehouse} {sku}: {movements:#?}"
    );
}

/// Reserves `quantity` of `sku` at `from` through an approved transfer.
async fn reserve(api: &Api, from: &str, to: &str, sku: &str, quantity: i64) -> String {
    let body = json!({"from_warehouse": from, "to_warehouse": to, "reason": "rebalance",
        "lines": [{"sku": sku, "quantity": quantity}]});
    let transfer = api.post(HQ, "/v1/transfers", body).await.expect(201);
    let id = transfer["id"].as_str().unwrap().to_string();
    api.post(HQ, &format!("/v1/transfers/{id}/approve"), json!({}))
        .await
        .expect(200);
    id
}

// ---------------------------------------------------------------------------

async fn receipts_adjustments_and_counts_are_explained_by_movements(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (before, _) = server.inventory("WH-GD-1", "BJ-001").await;

    let body = server
        .post(
            GD_ADMIN,
            "/v1/inventory/receipts",
            json!({"warehouse_id": "WH-GD-1", "reference": "batch 2026-09-01",
                "lines": [{"sku": "BJ-001", "quantity": 120}, {"sku": "LA-001", "quantity": 30}]}),
        )
        .await
        .expect(201);
    assert_eq!(body["stock"].as_array().unwrap().len(), 2);
    assert_eq!(server.inventory("WH-GD-1", "BJ-001").await.0, before + 120);

    let body = server
        .post(
            GD_ADMIN,
            "/v1/inventory/adjustments",
            json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -7, "reason": "7 cases broken in the yard"}),
        )
        .await
        .expect(201);
    assert_eq!(body["stock"][0]["on_hand"], before + 113);

    server
        .post(
            HQ,
            "/v1/inventory/counts",
            json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": before + 100}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (before + 100, 0)
    );

    let movements = movements(&server, "WH-GD-1", "BJ-001").await;
    let kinds: Vec<&str> = movements
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["count", "adjustment", "receipt", "receipt"],
        "newest first, opening stock last"
    );
    assert_eq!(movements[0]["on_hand_delta"], -13);
    assert_eq!(movements[1]["reason"], "7 cases broken in the yard");
    assert!(
        movements[2]["reason"]
            .as_str()
            .unwrap()
            .contains("batch 2026-09-01")
    );
    assert_explained(&server, "WH-GD-1", "BJ-001").await;
    assert_explained(&server, "WH-GD-1", "LA-001").await;

    // Refusals name the field.
    let problem = server
        .post(
            GD_ADMIN,
            "/v1/inventory/receipts",
            json!({"warehouse_id": "WH-GD-1", "reference": "x",
                "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "BJ-001", "quantity": 0}]}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/lines/0/sku", "/lines/1/quantity"]);
    let problem = server
        .post(
            HQ,
            "/v1/inventory/receipts",
            json!({"warehouse_id": "WH-NOPE", "reference": "x", "lines": []}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/warehouse_id"]);
    let problem = server
        .post(
            GD_ADMIN,
            "/v1/inventory/adjustments",
            json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": 5, "reason": " "}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/reason"]);
    let problem = server
        .post(
            GD_ADMIN,
            "/v1/inventory/counts",
            json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": -1}]}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/lines/0/counted"]);
    server
        .post(
            GD_ADMIN,
            "/v1/inventory/adjustments",
            json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": 5, "reason": "x", "extra": 1}),
        )
        .await
        .problem(422);
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (before + 100, 0),
        "refusals change nothing"
    );
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn receipts_adjustments_and_counts_are_explained_by_movements_sqlite() {
    receipts_adjustments_and_counts_are_explained_by_movements(Backend::Sqlite).await;
}

#[tokio::test]
async fn receipts_adjustments_and_counts_are_explained_by_movements_postgres() {
    receipts_adjustments_and_counts_are_explained_by_movements(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn stock_never_goes_below_what_is_reserved(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (on_hand, _) = server.inventory("WH-GD-1", "BJ-001").await;
    reserve(&server, "WH-GD-1", "WH-GD-2", "BJ-001", on_hand - 10).await;
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (on_hand, on_hand - 10)
    );

    let problem = server
        .post(
            GD_ADMIN,
            "/v1/inventory/adjustments",
            json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -11, "reason": "stolen"}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/delta"]);
    assert!(
        problem["detail"].as_str().unwrap().contains("reserved"),
        "{problem}"
    );
    let problem = server
        .post(
            GD_ADMIN,
            "/v1/inventory/counts",
            json!({"warehouse_id": "WH-GD-1", "lines": [{"sku": "BJ-001", "counted": on_hand - 11}]}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/lines/0/counted"]);

    // Down to exactly what is reserved is fine.
    let body = server
        .post(
            GD_ADMIN,
            "/v1/inventory/adjustments",
            json!({"warehouse_id": "WH-GD-1", "sku": "BJ-001", "delta": -10, "reason": "stolen"}),
        )
        .await
        .expect(201);
    assert_eq!(body["stock"][0]["available"], 0);
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (on_hand - 10, on_hand - 10)
    );
    // The transfer still holds its reservation, which no order allocation
    // explains: the movements do, but not the (order) ledger check.
    assert_explained(&server, "WH-GD-1", "BJ-001").await;
}

#[tokio::test]
async fn stock_never_goes_below_what_is_reserved_sqlite() {
    stock_never_goes_below_what_is_reserved(Backend::Sqlite).await;
}

#[tokio::test]
async fn stock_never_goes_below_what_is_reserved_postgres() {
    stock_never_goes_below_what_is_reserved(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn region_admins_reach_only_their_region(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let rows = server.get(GD_ADMIN, "/v1/inventory").await.expect(200);
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["region"] == "gd" && r["level"] != "hq"),
        "only gd's own warehouses"
    );
    assert!(
        rows.iter().any(|r| r["level"] == "dealer"),
        "dealer stock of the region is visible"
    );

    for path in [
        "/v1/inventory?region=hl",
        "/v1/inventory?warehouse_id=WH-HL-1",
        "/v1/inventory?warehouse_id=WH-HQ-1",
        "/v1/inventory/movements?region=hl",
        "/v1/alerts?region=hl",
        "/v1/transfers?region=hl",
        "/v1/dashboard?region=hl",
    ] {
        let reply = server.get(GD_ADMIN, path).await;
        assert_eq!(reply.status, 403, "GET {path}: {}", reply.text);
        reply.problem(403);
    }
    for path in [
        "/v1/inventory",
        "/v1/inventory/movements",
        "/v1/alerts",
        "/v1/transfers",
        "/v1/dashboard",
    ] {
        let reply = server.get(GD_DEALER, path).await;
        assert_eq!(reply.status, 403, "dealer GET {path}: {}", reply.text);
        let problem = reply.problem(403);
        assert!(
            problem["detail"].as_str().unwrap().contains("dealer"),
            "{problem}"
        );
    }
    let receipt = |warehouse: &str| json!({"warehouse_id": warehouse, "reference": "r", "lines": [{"sku": "BJ-001", "quantity": 1}]});
    for warehouse in ["WH-HL-1", "WH-HQ-1"] {
        let reply = server
            .post(GD_ADMIN, "/v1/inventory/receipts", receipt(warehouse))
            .await;
        assert_eq!(reply.status, 403, "{warehouse}: {}", reply.text);
        reply.problem(403);
    }
    server
        .post(GD_DEALER, "/v1/inventory/receipts", receipt("WH-GD-1"))
        .await
        .problem(403);
    server
        .post(HQ, "/v1/inventory/receipts", receipt("WH-HQ-1"))
        .await
        .expect(201);

    let page = server
        .get(GD_ADMIN, "/v1/inventory/movements?limit=50")
        .await
        .expect(200);
    let gd_warehouses: BTreeSet<String> = rows
        .iter()
        .map(|r| r["warehouse_id"].as_str().unwrap().to_string())
        .collect();
    for m in page["movements"].as_array().unwrap() {
        assert!(
            gd_warehouses.contains(m["warehouse_id"].as_str().unwrap()),
            "{m}"
        );
    }
    // A transfer between two other regions is invisible to gd.
    let id = reserve(&server, "WH-HL-1", "WH-JL-1", "BJ-001", 1).await;
    server
        .get(GD_ADMIN, &format!("/v1/transfers/{id}"))
        .await
        .problem(403);
    server
        .post(
            GD_ADMIN,
            "/v1/transfers",
            json!({"from_warehouse": "WH-HL-1", "to_warehouse": "WH-JL-1", "reason": "r",
                "lines": [{"sku": "BJ-001", "quantity": 1}]}),
        )
        .await
        .problem(403);
}

#[tokio::test]
async fn region_admins_reach_only_their_region_sqlite() {
    region_admins_reach_only_their_region(Backend::Sqlite).await;
}

#[tokio::test]
async fn region_admins_reach_only_their_region_postgres() {
    region_admins_reach_only_their_region(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn a_transfer_moves_stock_exactly_from_plan_to_receipt(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (from_before, _) = server.inventory("WH-GD-1", "BJ-001").await;
    let (to_before, _) = server.inventory("WH-GX-1", "BJ-001").await;

    let t = server
        .post(
            GD_ADMIN,
            "/v1/transfers",
            json!({"from_warehouse": "WH-GD-1", "to_warehouse": "WH-GX-1", "reason": "Guangxi runs short",
                "lines": [{"sku": "BJ-001", "quantity": 40}]}),
        )
        .await
        .expect(201);
    let id = t["id"].as_str().unwrap().to_string();
    let path = |action: &str| format!("/v1/transfers/{id}/{action}");
    assert_eq!(t["status"], "planned");
    assert_eq!(t["route"], "WH-GD-1 (gd) → WH-GX-1 (gx)");
    // Cross-region: ¥500 + ¥8 × 40 cases × rank 1 (gd is gx's first neighbour).
    assert_eq!(t["cost_estimate"], 50_000 + 800 * 40);
    assert_eq!(t["allowed_actions"], json!(["approve", "cancel"]));
    assert_eq!(
        server
            .get(GX_ADMIN, &format!("/v1/transfers/{id}"))
            .await
            .expect(200)["status"],
        "planned",
        "the destination sees it"
    );

    let reply = server.post(GD_ADMIN, &path("approve"), json!({})).await;
    assert_eq!(reply.status, 403, "only HQ approves: {}", reply.text);
    reply.problem(403);
    let problem = server.post(HQ, &path("ship"), json!({})).await.problem(409);
    assert_eq!(
        problem["allowed"],
        json!(["approve", "cancel"]),
        "{problem}"
    );

    let t = server
        .post(HQ, &path("approve"), json!({"note": "ok"}))
        .await
        .expect(200);
    assert_eq!(t["status"], "approved", "{t}");
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (from_before, 40)
    );

    let reply = server.post(GX_ADMIN, &path("ship"), json!({})).await;
    assert_eq!(reply.status, 403, "the source ships: {}", reply.text);
    reply.problem(403);
    let t = server
        .post(GD_ADMIN, &path("ship"), json!({}))
        .await
        .expect(200);
    assert_eq!(t["status"], "shipped", "{t}");
    assert_eq!(
        server.inventory("WH-GD-1", "BJ-001").await,
        (from_before - 40, 0)
    );
    assert_eq!(
        server.inventory("WH-GX-1", "BJ-001").await.0,
        to_before,
        "in transit: nowhere yet"
    );

    let reply = server.post(GD_ADMIN, &path("cancel"), json!({})).await;
    assert_eq!(reply.status, 409, "too late to cancel: {}", reply.text);
    assert_eq!(reply.problem(409)["allowed"], json!(["receive"]));
    let reply = server.post(GD_ADMIN, &path("receive"), json!({})).await;
    assert_eq!(
        reply.status, 403,
        "the destination receives: {}",
        reply.text
    );
    reply.problem(403);
    let t = server
        .post(GX_ADMIN, &path("receive"), json!({}))
        .await
        .expect(200);
    assert_eq!(t["status"], "received", "{t}");
    assert_eq!(
        server.inventory("WH-GX-1", "BJ-001").await.0,
        to_before + 40
    );
    let problem = server
        .post(HQ, &path("receive"), json!({}))
        .await
        .problem(409);
    assert_eq!(problem["allowed"], json!([]));

    let t = server
        .get(HQ, &format!("/v1/transfers/{id}"))
        .await
        .expect(200);
    let actions: Vec<&str> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["plan", "approve", "ship", "receive"]);
    assert!(t["approved_by"].as_str().unwrap().starts_with("hq_admin"));
    assert!(t["shipped_at"].is_i64() && t["received_at"].is_i64());
    let moved = server
        .get(HQ, &format!("/v1/inventory/movements?transfer_id={id}"))
        .await
        .expect(200);
    let kinds: Vec<&str> = moved["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["transfer_in", "transfer_out", "reservation"]);
    assert_explained(&server, "WH-GD-1", "BJ-001").await;
    assert_explained(&server, "WH-GX-1", "BJ-001").await;

    // A transfer that asks for more than is available is refused at approval.
    let t = server
        .post(
            HQ,
            "/v1/transfers",
            json!({"from_warehouse": "WH-GD-2", "to_warehouse": "WH-GD-1", "reason": "r",
                "lines": [{"sku": "BJ-001", "quantity": 1_000_000}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        t["cost_estimate"],
        20_000 + 300 * 1_000_000,
        "within a region"
    );
    let big = t["id"].as_str().unwrap();
    let problem = server
        .post(HQ, &format!("/v1/transfers/{big}/approve"), json!({}))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/lines/0/quantity"]);
    assert_eq!(
        server
            .get(HQ, &format!("/v1/transfers/{big}"))
            .await
            .expect(200)["status"],
        "planned",
        "nothing changed"
    );

    // Cancelling an approved transfer releases its reservation.
    let (on_hand, reserved) = server.inventory("WH-GD-2", "BJ-001").await;
    let id = reserve(&server, "WH-GD-2", "WH-GD-1", "BJ-001", 5).await;
    assert_eq!(
        server.inventory("WH-GD-2", "BJ-001").await,
        (on_hand, reserved + 5)
    );
    let t = server
        .post(
            GD_ADMIN,
            &format!("/v1/transfers/{id}/cancel"),
            json!({"note": "not needed"}),
        )
        .await
        .expect(200);
    assert_eq!(t["status"], "cancelled", "{t}");
    assert_eq!(
        server.inventory("WH-GD-2", "BJ-001").await,
        (on_hand, reserved)
    );
    assert_explained(&server, "WH-GD-2", "BJ-001").await;

    let problem = server
        .post(
            GD_ADMIN,
            "/v1/transfers",
            json!({"from_warehouse": "WH-GD-1", "to_warehouse": "WH-GD-1", "reason": "",
                "lines": [{"sku": "RX-002", "quantity": 0}]}),
        )
        .await
        .problem(422);
    assert_eq!(
        error_paths(&problem),
        [
            "/to_warehouse",
            "/reason",
            "/lines/0/sku",
            "/lines/0/quantity"
        ]
    );
    // Every reservation was shipped or released: the whole ledger balances.
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn a_transfer_moves_stock_exactly_from_plan_to_receipt_sqlite() {
    a_transfer_moves_stock_exactly_from_plan_to_receipt(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_transfer_moves_stock_exactly_from_plan_to_receipt_postgres() {
    a_transfer_moves_stock_exactly_from_plan_to_receipt(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

/// The pairs examples/brand/generate.py designed to alert on a fresh start.
const SAFETY_LOW: [(&str, &str); 5] = [
    ("js", "BJ-018"),
    ("yn", "LA-002"),
    ("ln", "RX-002"),
    ("gx", "WN-006"),
    ("nm", "BJ-012"),
];
const SHORT_WITH_NEIGHBOUR_SURPLUS: [(&str, &str, &str); 5] = [
    ("sz", "LA-003", "gd"),
    ("hb", "BJ-019", "hn"),
    ("fj", "WN-001", "zj"),
    ("nx", "RX-006", "gs"),
    ("tj", "BJ-002", "bj"),
];
const SLOW_MOVING: [(&str, &str); 5] = [
    ("xj", "WN-009"),
    ("hi", "BJ-011"),
    ("sz", "BJ-015"),
    ("qh", "WN-005"),
    ("jx", "LA-008"),
];

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(r, s)| (r.to_string(), s.to_string()))
        .collect()
}

async fn open_alerts(api: &Api, kind: &str) -> Vec<Value> {
    api.get(
        HQ,
        &format!("/v1/alerts?status=open&kind={kind}&limit=1000"),
    )
    .await
    .expect(200)["alerts"]
        .as_array()
        .unwrap()
        .clone()
}

fn alert_pairs(alerts: &[Value]) -> BTreeSet<(String, String)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["region"].as_str().unwrap().to_string(),
                a["sku"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn draft_transfers(api: &Api) -> Vec<Value> {
    api.get(HQ, "/v1/transfers?status=draft&limit=500")
        .await
        .expect(200)["transfers"]
        .as_array()
        .unwrap()
        .clone()
}

async fn a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    server
        .post(GD_ADMIN, "/v1/alerts/scan", json!({}))
        .await
        .problem(403);

    assert_eq!(
        alert_pairs(&open_alerts(&server, "safety_stock").await),
        pairs(&SAFETY_LOW)
    );
    assert_eq!(
        alert_pairs(&open_alerts(&server, "slow_moving").await),
        pairs(&SLOW_MOVING)
    );
    let mut short = pairs(&SAFETY_LOW);
    short.extend(
        SHORT_WITH_NEIGHBOUR_SURPLUS
            .iter()
            .map(|(r, sku, _)| (r.to_string(), sku.to_string())),
    );
    let shortfalls = open_alerts(&server, "shortfall_transfer").await;
    assert_eq!(alert_pairs(&shortfalls), short);

    let drafts = draft_transfers(&server).await;
    for (region, sku, neighbour) in SHORT_WITH_NEIGHBOUR_SURPLUS {
        let found: Vec<&Value> = drafts
            .iter()
            .filter(|t| t["to_region"] == region && t["lines"][0]["sku"] == sku)
            .collect();
        assert_eq!(found.len(), 1, "one draft for {region} {sku}: {drafts:#?}");
        let t = found[0];
        assert_eq!(t["from_region"], neighbour, "{t}");
        assert!(
            t["cost_estimate"].as_i64().unwrap() > 0 && t["route"].as_str().unwrap().contains('→')
        );
        let alert = shortfalls
            .iter()
            .find(|a| a["region"] == region && a["sku"] == sku)
            .unwrap();
        assert_eq!(alert["transfer_id"], t["id"]);
        assert_eq!(t["alert_id"], alert["id"]);
        assert!(
            t["reason"]
                .as_str()
                .unwrap()
                .contains(alert["id"].as_str().unwrap())
        );
    }

    // A second scan raises and drafts nothing new.
    let again = server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    assert_eq!(again["raised"], json!({}), "{again}");
    assert_eq!(again["transfers_drafted"], json!([]));
    assert_eq!(draft_transfers(&server).await.len(), drafts.len());

    // HQ approves Tianjin's draft; it ships and arrives; the shortfall clears.
    let t = drafts.iter().find(|t| t["to_region"] == "tj").unwrap();
    let id = t["id"].as_str().unwrap();
    let quantity = t["lines"][0]["quantity"].as_i64().unwrap();
    let (from, to) = (
        t["from_warehouse"].as_str().unwrap(),
        t["to_warehouse"].as_str().unwrap(),
    );
    let (to_before, _) = server.inventory(to, "BJ-002").await;
    for (token, action) in [
        (HQ, "approve"),
        ("demo-region-bj", "ship"),
        ("demo-region-tj", "receive"),
    ] {
        let reply = server
            .post(token, &format!("/v1/transfers/{id}/{action}"), json!({}))
            .await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.text);
    }
    assert_eq!(server.inventory(to, "BJ-002").await.0, to_before + quantity);
    assert_explained(&server, from, "BJ-002").await;
    server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    let tj = server
        .get("demo-region-tj", "/v1/alerts?kind=shortfall_transfer")
        .await
        .expect(200);
    assert_eq!(tj["alerts"][0]["status"], "resolved", "{tj}");
    assert!(tj["alerts"][0]["resolved_at"].is_i64());

    // A person resolves an alert with a note; only the region's admin or HQ.
    let xj = server
        .get(HQ, "/v1/alerts?region=xj&kind=slow_moving")
        .await
        .expect(200)["alerts"][0]
        .clone();
    let path = format!("/v1/alerts/{}/resolve", xj["id"].as_str().unwrap());
    server
        .post(GD_ADMIN, &path, json!({"note": "not mine"}))
        .await
        .problem(403);
    server
        .post("demo-region-xj", &path, json!({"note": ""}))
        .await
        .problem(422);
    let body = server
        .post(
            "demo-region-xj",
            &path,
            json!({"note": "promotion planned for October"}),
        )
        .await
        .expect(200);
    assert_eq!(body["status"], "resolved", "{body}");
    assert_eq!(body["resolution_note"], "promotion planned for October");
    server
        .post("demo-region-xj", &path, json!({"note": "again"}))
        .await
        .problem(409);
    // The drafts reserve nothing and Tianjin's arrived: the ledger balances.
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq_sqlite() {
    a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq_postgres() {
    a_scan_raises_the_designed_alerts_and_drafts_transfers_for_hq(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn orders_beyond_stock_raise_a_production_alert(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    // Jiangsu holds 23 cases of the new BJ-018: a key account wants 90.
    let order = server
        .place(
            "demo-dealer-d-js-0001",
            "production-alert-1",
            json!({"urgency": "expedited", "lines": [{"sku": "BJ-018", "quantity": 90}]}),
        )
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();

    let summary = server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    assert!(
        summary["orders_with_production_signals"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let alerts = open_alerts(&server, "production").await;
    assert_eq!(
        alert_pairs(&alerts),
        pairs(&[("js", "BJ-018")]),
        "{alerts:#?}"
    );
    let details = &alerts[0]["details"];
    assert!(details["quantity"].as_u64().unwrap() > 0, "{details}");
    assert_eq!(
        details["suggested_lead_days"], 21,
        "a new product's lead time"
    );
    assert_eq!(details["orders"], json!([id]));

    let again = server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    assert_eq!(
        again["raised"].get("production"),
        None,
        "deduped while open: {again}"
    );
    assert_eq!(open_alerts(&server, "production").await.len(), 1);
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn orders_beyond_stock_raise_a_production_alert_sqlite() {
    orders_beyond_stock_raise_a_production_alert(Backend::Sqlite).await;
}

#[tokio::test]
async fn orders_beyond_stock_raise_a_production_alert_postgres() {
    orders_beyond_stock_raise_a_production_alert(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn the_dashboard_shows_every_region_to_hq_and_one_to_its_admin(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = server
        .place(GD_DEALER, "dashboard-1", one_line("BJ-001", 2))
        .await
        .expect(201);
    server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);

    let all = server.get(HQ, "/v1/dashboard").await.expect(200);
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

    let own = server.get(GD_ADMIN, "/v1/dashboard").await.expect(200);
    let own = own["regions"].as_array().unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["region"], "gd");
    assert_eq!(own[0]["stock"], gd["stock"]);
    server
        .get(GD_ADMIN, "/v1/dashboard?region=hl")
        .await
        .problem(403);
    assert_ledger_balances(&db.pool().await).await;
}

#[tokio::test]
async fn the_dashboard_shows_every_region_to_hq_and_one_to_its_admin_sqlite() {
    the_dashboard_shows_every_region_to_hq_and_one_to_its_admin(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_dashboard_shows_every_region_to_hq_and_one_to_its_admin_postgres() {
    the_dashboard_shows_every_region_to_hq_and_one_to_its_admin(Backend::Postgres).await;
}
