//! The order API over real HTTP, with the real plugins, on SQLite and on
//! PostgreSQL: the whole lifecycle with a split shipment, cancellation,
//! refused transitions, held and rejected orders, idempotent retries,
//! cursor pagination and the decision trace. Each test runs its own
//! `chanhost serve` on its own database seeded from the example data set;
//! stock is read through GET /v1/inventory, and every test that moves stock
//! ends by checking the ledger in the database.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::server::*;
use serde_json::{Value, json};

/// `warehouse → quantity` of an order's allocations of one SKU.
fn allocated(order: &Value, sku: &str) -> BTreeMap<String, i64> {
    order["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .filter(|a| a["sku"] == sku)
        .map(|a| {
            (
                a["warehouse_id"].as_str().unwrap().to_string(),
                a["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn id_of(order: &Value) -> String {
    order["id"].as_str().expect("order id").to_string()
}

// ---------------------------------------------------------------------------

async fn lifecycle_with_split_shipment(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let (gd1, gd2) = (
        server.inventory("WH-GD-1", "BJ-001").await,
        server.inventory("WH-GD-2", "BJ-001").await,
    );
    // More than WH-GD-1 holds, less than both gd warehouses hold: sourcing
    // takes all of WH-GD-1 (the larger) and the rest from WH-GD-2.
    let quantity = gd1.0 + 37;
    assert!(
        gd1 == (gd1.0, 0) && gd2 == (gd2.0, 0) && gd1.0 > gd2.0 && gd2.0 >= 37,
        "the data set changed: {gd1:?} {gd2:?}"
    );

    let placed = server
        .place(GD_DEALER, "lifecycle-1", one_line("BJ-001", quantity))
        .await;
    let location = placed.header("location");
    let order = placed.expect(201);
    let id = id_of(&order);
    assert_eq!(
        location.as_deref(),
        Some(format!("/v1/orders/{id}").as_str())
    );
    assert_eq!(order["status"], "approved", "{order}");
    assert_eq!(order["dealer_id"], "D-GD-0001");
    assert_eq!(
        allocated(&order, "BJ-001"),
        BTreeMap::from([("WH-GD-1".to_string(), gd1.0), ("WH-GD-2".to_string(), 37)])
    );
    assert_eq!(order["allowed_actions"], json!(["allocate", "cancel"]));
    assert_eq!(server.inventory("WH-GD-1", "BJ-001").await, (gd1.0, gd1.0));
    assert_eq!(server.inventory("WH-GD-2", "BJ-001").await, (gd2.0, 37));

    let order = server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/allocate"),
            json!({"note": "picked in Guangzhou"}),
        )
        .await
        .expect(200);
    assert_eq!(order["status"], "allocated");

    let ship = |warehouse: &str, tracking: &str| json!({"warehouse_id": warehouse, "carrier": "SF Express", "tracking_no": tracking});
    let order = server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/shipments"),
            ship("WH-GD-1", "SF1001"),
        )
        .await
        .expect(201);
    assert_eq!(order["status"], "partially_shipped");
    let first = order["shipments"][0].clone();
    assert_eq!(first["warehouse_id"], "WH-GD-1");
    assert_eq!(
        first["lines"],
        json!([{"sku": "BJ-001", "quantity": gd1.0}])
    );
    // What left the warehouse is no longer on hand nor reserved there.
    assert_eq!(server.inventory("WH-GD-1", "BJ-001").await, (0, 0));
    assert_eq!(server.inventory("WH-GD-2", "BJ-001").await, (gd2.0, 37));

    // The dealer cannot confirm receipt of goods still in the warehouse.
    let refused = server.act(GD_DEALER, &id, "receipt").await.problem(409);
    assert_eq!(refused["allowed"], json!(["ship", "track"]), "{refused}");

    let event = json!({"location": "Guangzhou hub", "description": "departed"});
    let path = format!(
        "/v1/orders/{id}/shipments/{}/events",
        first["id"].as_str().unwrap()
    );
    let order = server.post(GD_ADMIN, &path, event).await.expect(201);
    // Tracking one shipment of a partly shipped order does not move it.
    assert_eq!(order["status"], "partially_shipped");
    assert_eq!(
        order["shipments"][0]["tracking"][0]["location"],
        "Guangzhou hub"
    );

    let order = server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/shipments"),
            ship("WH-GD-2", "SF1002"),
        )
        .await
        .expect(201);
    assert_eq!(order["status"], "shipped");
    assert_eq!(server.inventory("WH-GD-2", "BJ-001").await, (gd2.0 - 37, 0));
    let second = order["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["warehouse_id"] == "WH-GD-2")
        .expect("a shipment from WH-GD-2")
        .clone();
    assert_eq!(second["lines"], json!([{"sku": "BJ-001", "quantity": 37}]));

    let path = format!(
        "/v1/orders/{id}/shipments/{}/events",
        second["id"].as_str().unwrap()
    );
    let order = server
        .post(
            GD_ADMIN,
            &path,
            json!({"location": "Shenzhen", "description": "out for delivery"}),
        )
        .await
        .expect(201);
    assert_eq!(order["status"], "in_transit");

    let order = server.act(GD_DEALER, &id, "receipt").await.expect(200);
    assert_eq!(order["status"], "delivered");
    assert!(
        order["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["delivered_at"].is_i64()),
        "{order}"
    );
    let order = server.act(GD_ADMIN, &id, "complete").await.expect(200);
    assert_eq!(order["status"], "completed");
    assert_eq!(order["allowed_actions"], json!([]));
    assert!(
        order["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["shipped"] == a["quantity"])
    );

    // The timeline: every transition, from the previous status, by whom, when.
    let order = server
        .get(GD_DEALER, &format!("/v1/orders/{id}"))
        .await
        .expect(200);
    let timeline = order["timeline"].as_array().unwrap();
    let steps: Vec<(&str, &str)> = timeline
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["to_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("place", "pending_review"),
            ("approve", "approved"),
            ("allocate", "allocated"),
            ("ship", "partially_shipped"),
            ("ship", "shipped"),
            ("track", "in_transit"),
            ("confirm_receipt", "delivered"),
            ("complete", "completed"),
        ]
    );
    let mut previous: Option<&str> = None;
    let mut last_at = order["placed_at"].as_i64().unwrap();
    for event in timeline {
        assert_eq!(event["from_status"].as_str(), previous, "{event}");
        previous = event["to_status"].as_str();
        let at = event["at"].as_i64().unwrap();
        assert!(at >= last_at, "timeline goes back in time: {event}");
        last_at = at;
        let actor = event["actor"].as_str().unwrap();
        let expected = match event["action"].as_str().unwrap() {
            "place" | "confirm_receipt" => "dealer:D-GD-0001 ",
            "approve" => "system",
            _ => "region_admin:gd ",
        };
        assert!(actor.starts_with(expected), "actor of {event}");
    }
    assert_eq!(timeline[2]["note"], "picked in Guangzhou");
    assert!(
        timeline[3]["note"].as_str().unwrap().contains("SF1001"),
        "{}",
        timeline[3]
    );

    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn lifecycle_with_split_shipment_sqlite() {
    lifecycle_with_split_shipment(Backend::Sqlite).await;
}

#[tokio::test]
async fn lifecycle_with_split_shipment_postgres() {
    lifecycle_with_split_shipment(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn cancellation_releases_reservations(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    // All the gd region holds of a scarce SKU.
    let (gd1, gd2) = (
        server.inventory("WH-GD-1", "BJ-010").await,
        server.inventory("WH-GD-2", "BJ-010").await,
    );
    let all = gd1.0 + gd2.0;
    assert!(
        gd1.1 == 0 && gd2.1 == 0 && gd1.0 > 0 && gd2.0 > 0,
        "the data set changed: {gd1:?} {gd2:?}"
    );
    let gd_only = BTreeMap::from([
        ("WH-GD-1".to_string(), gd1.0),
        ("WH-GD-2".to_string(), gd2.0),
    ]);

    let first = server
        .place(GD_DEALER, "cancel-1", one_line("BJ-010", all))
        .await
        .expect(201);
    let first_id = id_of(&first);
    assert_eq!(allocated(&first, "BJ-010"), gd_only);
    assert_eq!(server.inventory("WH-GD-1", "BJ-010").await, (gd1.0, gd1.0));

    // Another gd dealer now gets nothing from gd's own warehouses.
    let second = server
        .place(HQ, "cancel-2", one_line_for("D-GD-0003", "BJ-010", 5))
        .await
        .expect(201);
    let sources = allocated(&second, "BJ-010");
    assert!(
        sources.keys().all(|w| !w.starts_with("WH-GD-")),
        "{sources:?}"
    );

    let cancelled = server
        .post(
            GD_DEALER,
            &format!("/v1/orders/{first_id}/cancel"),
            json!({"note": "ordered twice"}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    for allocation in cancelled["allocations"].as_array().unwrap() {
        assert_eq!(
            allocation["released"], allocation["quantity"],
            "{allocation}"
        );
    }
    let last = cancelled["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["action"].as_str(), last["to_status"].as_str()),
        (Some("cancel"), Some("cancelled"))
    );
    assert!(
        last["actor"]
            .as_str()
            .unwrap()
            .starts_with("dealer:D-GD-0001")
    );
    assert_eq!(server.inventory("WH-GD-1", "BJ-010").await, gd1);
    assert_eq!(server.inventory("WH-GD-2", "BJ-010").await, gd2);

    // The released stock is reservable again.
    let third = server
        .place(HQ, "cancel-3", one_line_for("D-GD-0003", "BJ-010", all))
        .await
        .expect(201);
    assert_eq!(allocated(&third, "BJ-010"), gd_only);

    let again = server
        .act(GD_DEALER, &first_id, "cancel")
        .await
        .problem(409);
    assert_eq!(again["allowed"], json!([]), "{again}");
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn cancellation_releases_reservations_sqlite() {
    cancellation_releases_reservations(Backend::Sqlite).await;
}

#[tokio::test]
async fn cancellation_releases_reservations_postgres() {
    cancellation_releases_reservations(Backend::Postgres).await;
}

/// Stock that arrives is ordered from at once: the order after a receipt
/// is sourced from it (on SQLite placement reads the writer's stock book,
/// which the receipt makes stale).
async fn received_stock_is_ordered_from_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let all = server.inventory("WH-GD-1", "BJ-010").await.0
        + server.inventory("WH-GD-2", "BJ-010").await.0;
    server
        .place(GD_DEALER, "receipt-1", one_line("BJ-010", all))
        .await
        .expect(201);
    let (on_hand, reserved) = server.inventory("WH-GD-2", "BJ-010").await;
    assert_eq!(reserved, on_hand, "all of gd's own stock is reserved");

    server
        .post(
            GD_ADMIN,
            "/v1/inventory/receipts",
            json!({"warehouse_id": "WH-GD-2", "reference": "batch 2026-12-06",
                "lines": [{"sku": "BJ-010", "quantity": 20}]}),
        )
        .await
        .expect(201);
    let order = server
        .place(HQ, "receipt-2", one_line_for("D-GD-0003", "BJ-010", 20))
        .await
        .expect(201);
    assert_eq!(order["status"], "approved", "{order}");
    assert_eq!(
        allocated(&order, "BJ-010"),
        BTreeMap::from([("WH-GD-2".to_string(), 20)])
    );
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn received_stock_is_ordered_from_at_once_sqlite() {
    received_stock_is_ordered_from_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn received_stock_is_ordered_from_at_once_postgres() {
    received_stock_is_ordered_from_at_once(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn illegal_transition_is_409_naming_what_is_allowed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = server
        .place(GD_DEALER, "illegal-1", one_line("BJ-002", 3))
        .await
        .expect(201);
    let id = id_of(&order);
    assert_eq!(order["status"], "approved");

    let ship = json!({"warehouse_id": "WH-GD-1", "carrier": "SF Express", "tracking_no": "SF1"});
    let refused = server
        .post(GD_ADMIN, &format!("/v1/orders/{id}/shipments"), ship)
        .await
        .problem(409);
    assert_eq!(
        refused["allowed"],
        json!(["allocate", "cancel"]),
        "{refused}"
    );
    assert!(
        refused["detail"].as_str().unwrap().contains("approved"),
        "{refused}"
    );
    for action in ["complete", "approve"] {
        let refused = server.act(GD_ADMIN, &id, action).await.problem(409);
        assert_eq!(
            refused["allowed"],
            json!(["allocate", "cancel"]),
            "{action}: {refused}"
        );
    }
    let refused = server.act(GD_DEALER, &id, "receipt").await.problem(409);
    assert_eq!(
        refused["allowed"],
        json!(["allocate", "cancel"]),
        "{refused}"
    );

    let order = server.order(&id).await;
    assert_eq!(order["status"], "approved");
    assert_eq!(
        order["timeline"].as_array().unwrap().len(),
        2,
        "refusals leave no timeline entry"
    );
}

#[tokio::test]
async fn illegal_transition_is_409_naming_what_is_allowed_sqlite() {
    illegal_transition_is_409_naming_what_is_allowed(Backend::Sqlite).await;
}

#[tokio::test]
async fn illegal_transition_is_409_naming_what_is_allowed_postgres() {
    illegal_transition_is_409_naming_what_is_allowed(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn held_order_waits_for_an_admin(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    // D-GD-0001 usually orders 60 cases; HQ flags more than 10× that. BJ-014
    // is cheap enough to stay inside its credit limit.
    let held = server
        .place(GD_DEALER, "held-1", one_line("BJ-014", 601))
        .await
        .expect(201);
    let id = id_of(&held);
    assert_eq!(held["status"], "pending_review", "{held}");
    let codes: Vec<&str> = held["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["abnormal-quantity"]);
    assert_eq!(
        held["allowed_actions"],
        json!(["approve", "reject", "cancel"])
    );
    assert_eq!(
        allocated(&held, "BJ-014").values().sum::<i64>(),
        601,
        "a held order keeps its stock"
    );

    let refused = server.act(GD_DEALER, &id, "approve").await.problem(403);
    assert!(
        refused["detail"].as_str().unwrap().contains("dealer"),
        "{refused}"
    );
    server.act(HL_ADMIN, &id, "approve").await.problem(403);

    let approved = server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/approve"),
            json!({"note": "confirmed by phone"}),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    let timeline = approved["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2, "{timeline:?}");
    assert_eq!(timeline[1]["action"], "approve");
    assert_eq!(timeline[1]["from_status"], "pending_review");
    assert_eq!(timeline[1]["note"], "confirmed by phone");
    assert!(
        timeline[1]["actor"]
            .as_str()
            .unwrap()
            .starts_with("region_admin:gd")
    );
    assert_eq!(
        server.act(GD_ADMIN, &id, "allocate").await.expect(200)["status"],
        "allocated"
    );

    // A held order the admin rejects gives its stock back.
    let before = server.inventory("WH-GD-1", "BJ-013").await;
    let held = server
        .place(GD_DEALER, "held-2", one_line("BJ-013", 601))
        .await
        .expect(201);
    assert_eq!(held["status"], "pending_review");
    assert!(server.inventory("WH-GD-1", "BJ-013").await.1 > before.1);
    let rejected = server
        .act(GD_ADMIN, &id_of(&held), "reject")
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(server.inventory("WH-GD-1", "BJ-013").await, before);
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn held_order_waits_for_an_admin_sqlite() {
    held_order_waits_for_an_admin(Backend::Sqlite).await;
}

#[tokio::test]
async fn held_order_waits_for_an_admin_postgres() {
    held_order_waits_for_an_admin(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn rejected_order_is_422_and_nothing_is_stored(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let movements = count(&pool, "SELECT COUNT(*) FROM movements").await;

    // RX-002 is reserved for the north-east; D-GD-0001 is in gd.
    let problem = server
        .place(GD_DEALER, "rejected-1", one_line("RX-002", 5))
        .await
        .problem(422);
    let reasons = problem["context"]["reasons"].as_array().expect("reasons");
    assert_eq!(reasons[0]["code"], "region-restricted-sku", "{problem}");
    assert!(
        reasons[0]["message"].as_str().unwrap().contains("RX-002"),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("region-restricted-sku"),
        "{problem}"
    );

    assert!(server.list_all(HQ, "").await.is_empty());
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM movements").await,
        movements
    );

    // The key was not used up by the refusal.
    let placed = server
        .place(GD_DEALER, "rejected-1", one_line("BJ-001", 2))
        .await;
    assert_eq!(placed.header("idempotent-replayed"), None);
    placed.expect(201);
}

#[tokio::test]
async fn rejected_order_is_422_and_nothing_is_stored_sqlite() {
    rejected_order_is_422_and_nothing_is_stored(Backend::Sqlite).await;
}

#[tokio::test]
async fn rejected_order_is_422_and_nothing_is_stored_postgres() {
    rejected_order_is_422_and_nothing_is_stored(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn idempotent_retry_replays_the_same_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let reserved_bj002 =
        "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock WHERE sku = 'BJ-002'";
    assert_eq!(count(&pool, reserved_bj002).await, 0);

    let first = server
        .place(GD_DEALER, "retry-1", one_line("BJ-002", 10))
        .await;
    assert_eq!(first.header("idempotent-replayed"), None);
    let first = first.expect(201);
    let again = server
        .place(GD_DEALER, "retry-1", one_line("BJ-002", 10))
        .await;
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let again = again.expect(201);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["allocations"], first["allocations"]);

    // Retries racing each other: one order, created once.
    let racing = (0..6).map(|_| {
        let api = server.api.clone();
        async move { api.place(GD_DEALER, "retry-2", one_line("BJ-002", 7)).await }
    });
    let replies = join_all(racing).await;
    let ids: BTreeSet<String> = replies
        .iter()
        .map(|r| id_of(&r.clone().expect(201)))
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let created = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(
        created, 1,
        "exactly one of the racing requests creates the order"
    );

    let listed = server.list_all(GD_DEALER, "").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        count(&pool, reserved_bj002).await,
        17,
        "stock reserved once per order"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM movements WHERE kind = 'reservation'"
        )
        .await,
        { count(&pool, "SELECT COUNT(*) FROM allocations").await }
    );

    // The same key for a different request is refused, naming the key.
    let problem = server
        .place(GD_DEALER, "retry-1", one_line("BJ-002", 11))
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["Idempotency-Key"], "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap()),
        "{problem}"
    );
    assert_eq!(server.list_all(GD_DEALER, "").await.len(), 2);
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn idempotent_retry_replays_the_same_order_sqlite() {
    idempotent_retry_replays_the_same_order(Backend::Sqlite).await;
}

#[tokio::test]
async fn idempotent_retry_replays_the_same_order_postgres() {
    idempotent_retry_replays_the_same_order(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn cursor_pagination_returns_every_order_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    // Placed in concurrent bursts, so several share a millisecond.
    let dealers = [
        "D-GD-0001",
        "D-GD-0002",
        "D-GD-0003",
        "D-HL-0001",
        "D-SH-0001",
    ];
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut gd: BTreeSet<String> = BTreeSet::new();
    for burst in 0..6 {
        let bodies: Vec<(String, Value)> = (0..4)
            .filter(|i| burst * 4 + i < 23)
            .map(|i| {
                let dealer = dealers[(burst * 4 + i) % dealers.len()];
                (
                    format!("page-{burst}-{i}"),
                    one_line_for(dealer, "BJ-002", 1 + i as i64),
                )
            })
            .collect();
        let replies = join_all(bodies.into_iter().map(|(key, body)| {
            let api = server.api.clone();
            async move { api.place(HQ, &key, body).await }
        }))
        .await;
        for reply in replies {
            let order = reply.expect(201);
            if order["region"] == "gd" {
                gd.insert(id_of(&order));
            }
            placed.insert(id_of(&order));
        }
    }
    assert_eq!(placed.len(), 23);

    for (token, limit, expected) in [(HQ, 5, &placed), (GD_ADMIN, 4, &gd)] {
        let mut seen: Vec<String> = Vec::new();
        let mut last: Option<(i64, String)> = None;
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/v1/orders?limit={limit}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = server.get(token, &path).await.expect(200);
            pages += 1;
            let orders = page["orders"].as_array().unwrap();
            assert!(
                orders.len() <= limit,
                "page of {} > limit {limit}",
                orders.len()
            );
            for order in orders {
                let key = (order["placed_at"].as_i64().unwrap(), id_of(order));
                if let Some(last) = &last {
                    assert!(key < *last, "not newest first: {key:?} after {last:?}");
                }
                last = Some(key);
                seen.push(id_of(order));
            }
            match page["next_cursor"].as_str() {
                Some(next) => {
                    assert_eq!(orders.len(), limit, "a page before the last is full");
                    cursor = Some(next.to_string());
                }
                None => break,
            }
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "an order appeared twice: {seen:?}"
        );
        assert_eq!(&unique, expected);
        assert_eq!(pages, expected.len().div_ceil(limit));
    }

    server.get(HQ, "/v1/orders?limit=0").await.problem(422);
    let problem = server
        .get(HQ, "/v1/orders?cursor=garbage")
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["?cursor"]);
}

#[tokio::test]
async fn cursor_pagination_returns_every_order_once_sqlite() {
    cursor_pagination_returns_every_order_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn cursor_pagination_returns_every_order_once_postgres() {
    cursor_pagination_returns_every_order_once(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn decision_trace_names_each_plugin(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = server
        .place(GD_DEALER, "trace-1", one_line("LA-003", 40))
        .await
        .expect(201);
    let id = id_of(&order);

    let body = server
        .get(GD_DEALER, &format!("/v1/orders/{id}/decision"))
        .await
        .expect(200);
    assert_eq!(body["input"]["order"]["id"], id.as_str());
    assert_eq!(body["decision"]["status"], "accepted");
    let steps = body["decision"]["trace"]["steps"]
        .as_array()
        .expect("trace steps");
    let names: Vec<&str> = steps
        .iter()
        .map(|s| s["plugin"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "anti-diversion",
            "pricing-tiered",
            "promotions",
            "sourcing-region-first"
        ]
    );
    for step in steps {
        assert_eq!(step["status"], "ok", "{step}");
        assert!(
            !step["plugin"]["version"].as_str().unwrap().is_empty(),
            "{step}"
        );
        assert!(step["fuel_used"].as_u64().unwrap() > 0, "{step}");
    }

    server
        .get(HL_DEALER, &format!("/v1/orders/{id}/decision"))
        .await
        .problem(403);
    server
        .get(HQ, "/v1/orders/ORD-nope/decision")
        .await
        .problem(404);
}

#[tokio::test]
async fn decision_trace_names_each_plugin_sqlite() {
    decision_trace_names_each_plugin(Backend::Sqlite).await;
}

#[tokio::test]
async fn decision_trace_names_each_plugin_postgres() {
    decision_trace_names_each_plugin(Backend::Postgres).await;
}
