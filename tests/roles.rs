//! Who may see and do what, over real HTTP: no token or a bad one is a 401
//! with a Bearer challenge; dealers see only their own orders, region
//! admins only their region, HQ everything; dealers cannot run the
//! warehouse, and a region admin cannot act on another region's order.

mod common;

use std::collections::BTreeSet;

use common::server::*;
use serde_json::{Value, json};

/// Orders of three dealers in two regions; returns the server and their ids.
struct World {
    _db: TestDb,
    server: TestServer,
    /// D-GD-0001's own two orders.
    gd_own: Vec<String>,
    /// D-GD-0002's order, placed by the gd region admin.
    gd_other: String,
    /// D-HL-0001's order.
    hl: String,
}

async fn world(backend: Backend) -> World {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let mut gd_own = Vec::new();
    for key in ["own-1", "own-2"] {
        gd_own.push(id(&server
            .place(GD_DEALER, key, one_line("BJ-002", 2))
            .await
            .expect(201)));
    }
    let gd_other = id(&server
        .place(GD_ADMIN, "other-1", one_line_for("D-GD-0002", "BJ-002", 3))
        .await
        .expect(201));
    let hl = id(&server
        .place(HL_DEALER, "hl-1", one_line("BJ-002", 4))
        .await
        .expect(201));
    World {
        _db: db,
        server,
        gd_own,
        gd_other,
        hl,
    }
}

fn id(order: &Value) -> String {
    order["id"].as_str().expect("order id").to_string()
}

fn ids(orders: &[Value]) -> BTreeSet<String> {
    orders.iter().map(id).collect()
}

fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------

async fn missing_or_bad_token_is_401_with_a_bearer_challenge(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let client = server.client();
    let requests = [
        ("no token", client.get(server.url("/v1/orders"))),
        (
            "unknown token",
            client
                .get(server.url("/v1/orders"))
                .bearer_auth("not-a-token"),
        ),
        (
            "basic auth",
            client
                .get(server.url("/v1/orders"))
                .basic_auth("demo-hq-admin", Some("x")),
        ),
        (
            "empty bearer",
            client
                .get(server.url("/v1/me"))
                .header("authorization", "Bearer "),
        ),
        (
            "placing without a token",
            client
                .post(server.url("/v1/orders"))
                .header("idempotency-key", "k")
                .json(&one_line("BJ-001", 1)),
        ),
        (
            "lifecycle without a token",
            client.post(server.url("/v1/orders/ORD-x/approve")),
        ),
    ];
    for (what, request) in requests {
        let reply = server.send(request).await;
        assert_eq!(
            reply.header("www-authenticate").as_deref(),
            Some("Bearer"),
            "{what}"
        );
        let problem = reply.problem(401);
        assert!(!detail(&problem).is_empty(), "{what}: {problem}");
    }
    // Nothing was placed by the unauthenticated attempt.
    assert!(server.list_all(HQ, "").await.is_empty());
    // The right token passes.
    assert_eq!(
        server.get(GD_DEALER, "/v1/me").await.expect(200)["dealer_id"],
        "D-GD-0001"
    );
}

#[tokio::test]
async fn missing_or_bad_token_is_401_with_a_bearer_challenge_sqlite() {
    missing_or_bad_token_is_401_with_a_bearer_challenge(Backend::Sqlite).await;
}

#[tokio::test]
async fn missing_or_bad_token_is_401_with_a_bearer_challenge_postgres() {
    missing_or_bad_token_is_401_with_a_bearer_challenge(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn each_role_sees_its_own_scope(backend: Backend) {
    let w = world(backend).await;
    let server = &w.server;

    // A dealer: its own orders only.
    let own: BTreeSet<String> = w.gd_own.iter().cloned().collect();
    assert_eq!(ids(&server.list_all(GD_DEALER, "").await), own);
    assert_eq!(ids(&server.list_all(GD_DEALER, "&region=gd").await), own);
    let problem = server
        .get(GD_DEALER, "/v1/orders?dealer_id=D-GD-0002")
        .await
        .problem(403);
    assert!(detail(&problem).contains("D-GD-0002"), "{problem}");
    for path in [
        format!("/v1/orders/{}", w.gd_other),
        format!("/v1/orders/{}/decision", w.gd_other),
        format!("/v1/orders/{}", w.hl),
    ] {
        let problem = server.get(GD_DEALER, &path).await.problem(403);
        assert!(detail(&problem).contains("D-GD-0001"), "{path}: {problem}");
    }
    server
        .get(GD_DEALER, &format!("/v1/orders/{}", w.gd_own[0]))
        .await
        .expect(200);

    // A region admin: its region only, and the refusal names the region.
    let gd: BTreeSet<String> = own.iter().cloned().chain([w.gd_other.clone()]).collect();
    assert_eq!(ids(&server.list_all(GD_ADMIN, "").await), gd);
    assert_eq!(
        ids(&server.list_all(GD_ADMIN, "&dealer_id=D-GD-0002").await),
        BTreeSet::from([w.gd_other.clone()])
    );
    assert!(
        server
            .list_all(GD_ADMIN, "&dealer_id=D-HL-0001")
            .await
            .is_empty()
    );
    let problem = server
        .get(GD_ADMIN, "/v1/orders?region=hl")
        .await
        .problem(403);
    assert!(detail(&problem).contains("hl"), "{problem}");
    for path in [
        format!("/v1/orders/{}", w.hl),
        format!("/v1/orders/{}/decision", w.hl),
    ] {
        let problem = server.get(GD_ADMIN, &path).await.problem(403);
        assert!(detail(&problem).contains("region hl"), "{path}: {problem}");
    }
    assert_eq!(
        ids(&server.list_all(HL_ADMIN, "").await),
        BTreeSet::from([w.hl.clone()])
    );

    // HQ: everything.
    let all: BTreeSet<String> = gd.iter().cloned().chain([w.hl.clone()]).collect();
    assert_eq!(ids(&server.list_all(HQ, "").await), all);
    assert_eq!(
        ids(&server.list_all(HQ, "&region=hl").await),
        BTreeSet::from([w.hl.clone()])
    );
    for id in &all {
        server
            .get(HQ, &format!("/v1/orders/{id}"))
            .await
            .expect(200);
        server
            .get(HQ, &format!("/v1/orders/{id}/decision"))
            .await
            .expect(200);
    }
    // An order nobody has is 404 for HQ, not 403.
    server.get(HQ, "/v1/orders/ORD-missing").await.problem(404);
}

#[tokio::test]
async fn each_role_sees_its_own_scope_sqlite() {
    each_role_sees_its_own_scope(Backend::Sqlite).await;
}

#[tokio::test]
async fn each_role_sees_its_own_scope_postgres() {
    each_role_sees_its_own_scope(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn dealers_cannot_run_the_warehouse(backend: Backend) {
    let w = world(backend).await;
    let server = &w.server;
    let own = &w.gd_own[0];
    for action in ["approve", "allocate", "reject", "complete"] {
        let problem = server.act(GD_DEALER, own, action).await.problem(403);
        assert!(detail(&problem).contains("dealer"), "{action}: {problem}");
    }
    let ship = json!({"warehouse_id": "WH-GD-1", "carrier": "SF", "tracking_no": "1"});
    server
        .post(GD_DEALER, &format!("/v1/orders/{own}/shipments"), ship)
        .await
        .problem(403);
    // Nor order for another dealer.
    let problem = server
        .place(
            GD_DEALER,
            "for-other",
            one_line_for("D-GD-0002", "BJ-002", 1),
        )
        .await
        .problem(403);
    assert!(detail(&problem).contains("D-GD-0002"), "{problem}");
    // Nor touch another dealer's order at all.
    server
        .act(GD_DEALER, &w.gd_other, "cancel")
        .await
        .problem(403);

    let order = server.order(own).await;
    assert_eq!(order["status"], "approved");
    assert_eq!(order["timeline"].as_array().unwrap().len(), 2);
    // What a dealer may do to its own order, it can.
    assert_eq!(
        server.act(GD_DEALER, own, "cancel").await.expect(200)["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn dealers_cannot_run_the_warehouse_sqlite() {
    dealers_cannot_run_the_warehouse(Backend::Sqlite).await;
}

#[tokio::test]
async fn dealers_cannot_run_the_warehouse_postgres() {
    dealers_cannot_run_the_warehouse(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn region_admin_cannot_act_on_another_region(backend: Backend) {
    let w = world(backend).await;
    let server = &w.server;
    let order = &w.gd_other;
    for action in [
        "allocate", "cancel", "reject", "approve", "complete", "receipt",
    ] {
        let problem = server.act(HL_ADMIN, order, action).await.problem(403);
        assert!(
            detail(&problem).contains("region gd"),
            "{action}: {problem}"
        );
    }
    let ship = json!({"warehouse_id": "WH-GD-1", "carrier": "SF", "tracking_no": "1"});
    let problem = server
        .post(HL_ADMIN, &format!("/v1/orders/{order}/shipments"), ship)
        .await
        .problem(403);
    assert!(detail(&problem).contains("region gd"), "{problem}");
    let problem = server
        .place(HL_ADMIN, "for-gd", one_line_for("D-GD-0002", "BJ-002", 1))
        .await
        .problem(403);
    assert!(detail(&problem).contains("gd"), "{problem}");

    assert_eq!(server.order(order).await["status"], "approved");
    // Its own region's admin can.
    assert_eq!(
        server.act(GD_ADMIN, order, "allocate").await.expect(200)["status"],
        "allocated"
    );
    // And so can HQ, anywhere.
    assert_eq!(
        server.act(HQ, &w.hl, "allocate").await.expect(200)["status"],
        "allocated"
    );
}

#[tokio::test]
async fn region_admin_cannot_act_on_another_region_sqlite() {
    region_admin_cannot_act_on_another_region(Backend::Sqlite).await;
}

#[tokio::test]
async fn region_admin_cannot_act_on_another_region_postgres() {
    region_admin_cannot_act_on_another_region(Backend::Postgres).await;
}
