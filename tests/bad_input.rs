//! Bad requests over real HTTP: each gets the right status as
//! `application/problem+json`, naming the offending field by JSON pointer,
//! nothing is stored, and the service keeps serving good requests after.

mod common;

use common::server::*;
use serde_json::{Value, json};

/// A POST /v1/orders with a raw body.
fn raw_order(
    server: &TestServer,
    token: &str,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    let mut request = server
        .client()
        .post(server.url("/v1/orders"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request
}

async fn bad_requests_are_refused_and_the_service_keeps_serving(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let pool = db.pool().await;
    let movements = count(&pool, "SELECT COUNT(*) FROM movements").await;

    // Malformed JSON: 400.
    for body in [r#"{"lines": ["#, "not json", r#"{"lines": []} trailing"#] {
        let problem = server
            .send(raw_order(&server, GD_DEALER, Some("bad-1"), body))
            .await
            .problem(400);
        assert!(
            problem["detail"].as_str().unwrap().contains("JSON"),
            "{body}: {problem}"
        );
    }

    // Readable but wrong: 422 naming the field.
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "unknown SKU",
            GD_DEALER,
            one_line("XX-404", 1),
            "/lines/0/sku",
        ),
        (
            "zero quantity",
            GD_DEALER,
            one_line("BJ-001", 0),
            "/lines/0/quantity",
        ),
        (
            "negative quantity",
            GD_DEALER,
            one_line("BJ-001", -5),
            "/lines/0/quantity",
        ),
        (
            "second line's quantity",
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-001", "quantity": 1}, {"sku": "BJ-002", "quantity": -1}]}),
            "/lines/1/quantity",
        ),
        (
            "quantity of the wrong type",
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-001", "quantity": "5"}]}),
            "/lines/0/quantity",
        ),
        ("missing lines", GD_DEALER, json!({}), "/"),
        ("no lines", GD_DEALER, json!({"lines": []}), "/lines"),
        (
            "unknown field",
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-001", "quantity": 1}], "colour": "red"}),
            "/colour",
        ),
        (
            "unknown line field",
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-001", "quantity": 1, "price": 1}]}),
            "/lines/0/price",
        ),
        (
            "unknown dealer",
            HQ,
            one_line_for("D-XX-9999", "BJ-001", 1),
            "/dealer_id",
        ),
        (
            "admin without a dealer",
            GD_ADMIN,
            one_line("BJ-001", 1),
            "/dealer_id",
        ),
        (
            "unknown ship-to",
            GD_DEALER,
            json!({"ship_to": "atlantis", "lines": [{"sku": "BJ-001", "quantity": 1}]}),
            "/ship_to",
        ),
        (
            "unknown urgency",
            GD_DEALER,
            json!({"urgency": "yesterday", "lines": [{"sku": "BJ-001", "quantity": 1}]}),
            "/urgency",
        ),
    ];
    for (what, token, body, path) in cases {
        let problem = server
            .place(token, &format!("bad-{what}"), body)
            .await
            .problem(422);
        let paths = error_paths(&problem);
        assert!(
            paths.iter().any(|p| p == path),
            "{what}: expected {path} in {paths:?}: {problem}"
        );
    }
    // Every problem of one order is reported at once.
    let body = json!({"lines": [{"sku": "XX-1", "quantity": 1}, {"sku": "BJ-001", "quantity": 0}]});
    let problem = server
        .place(GD_DEALER, "bad-several", body)
        .await
        .problem(422);
    assert_eq!(
        error_paths(&problem),
        ["/lines/0/sku", "/lines/1/quantity"],
        "{problem}"
    );

    // Missing or empty Idempotency-Key: 400 naming the header.
    let problem = server
        .send(raw_order(
            &server,
            GD_DEALER,
            None,
            one_line("BJ-001", 1).to_string(),
        ))
        .await
        .problem(400);
    assert_eq!(error_paths(&problem), ["Idempotency-Key"], "{problem}");
    let problem = server
        .send(raw_order(
            &server,
            GD_DEALER,
            Some("  "),
            one_line("BJ-001", 1).to_string(),
        ))
        .await
        .problem(400);
    assert_eq!(error_paths(&problem), ["Idempotency-Key"], "{problem}");

    // More than 256 KiB: 413, whatever it holds.
    let line = r#"{"sku":"BJ-001","quantity":1},"#;
    let big = format!(
        r#"{{"lines":[{}{{"sku":"BJ-001","quantity":1}}]}}"#,
        line.repeat(256 * 1024 / line.len() + 1)
    );
    assert!(big.len() > 256 * 1024);
    server
        .send(raw_order(&server, GD_DEALER, Some("bad-big"), big))
        .await
        .problem(413);

    // Nothing of that was stored.
    assert!(server.list_all(HQ, "").await.is_empty());
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM movements").await,
        movements
    );

    // Lifecycle inputs: an unknown warehouse, empty carrier, bad note.
    let order = server
        .place(GD_DEALER, "good-1", one_line("BJ-001", 2))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap().to_string();
    server.act(GD_ADMIN, &id, "allocate").await.expect(200);
    let shipments = format!("/v1/orders/{id}/shipments");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown warehouse",
            json!({"warehouse_id": "WH-NOPE", "carrier": "SF", "tracking_no": "1"}),
            "/warehouse_id",
        ),
        (
            "a warehouse holding nothing for it",
            json!({"warehouse_id": "WH-HL-1", "carrier": "SF", "tracking_no": "1"}),
            "/warehouse_id",
        ),
        (
            "empty carrier",
            json!({"warehouse_id": "WH-GD-1", "carrier": " ", "tracking_no": "1"}),
            "/carrier",
        ),
        (
            "missing tracking number",
            json!({"warehouse_id": "WH-GD-1", "carrier": "SF"}),
            "/",
        ),
        (
            "shipping more than reserved",
            json!({"warehouse_id": "WH-GD-1", "carrier": "SF", "tracking_no": "1", "lines": [{"sku": "BJ-001", "quantity": 3}]}),
            "/lines/0/quantity",
        ),
        (
            "shipping a negative quantity",
            json!({"warehouse_id": "WH-GD-1", "carrier": "SF", "tracking_no": "1", "lines": [{"sku": "BJ-001", "quantity": -1}]}),
            "/lines/0/quantity",
        ),
    ];
    for (what, body, path) in cases {
        let problem = server.post(GD_ADMIN, &shipments, body).await.problem(422);
        let paths = error_paths(&problem);
        assert!(
            paths.iter().any(|p| p == path),
            "{what}: expected {path} in {paths:?}: {problem}"
        );
    }
    let problem = server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/cancel"),
            json!({"reason": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&problem), ["/reason"], "{problem}");
    let problem = server
        .send(
            server
                .client()
                .post(server.url(&shipments))
                .bearer_auth(GD_ADMIN)
                .body("{"),
        )
        .await
        .problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("JSON"),
        "{problem}"
    );

    // None of it moved the order or its stock.
    let order = server.order(&id).await;
    assert_eq!(order["status"], "allocated");
    assert_eq!(order["shipments"], json!([]));
    assert_eq!(stock(&pool, "WH-GD-1", "BJ-001").await.1, 2);

    // The service still serves: an order places and ships.
    let placed = server
        .place(GD_DEALER, "good-2", one_line("BJ-002", 1))
        .await
        .expect(201);
    assert_eq!(placed["status"], "approved");
    let ship = json!({"warehouse_id": "WH-GD-1", "carrier": "SF", "tracking_no": "SF9"});
    assert_eq!(
        server.post(GD_ADMIN, &shipments, ship).await.expect(201)["status"],
        "shipped"
    );
    assert_ledger_balances(&pool).await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_the_service_keeps_serving_sqlite() {
    bad_requests_are_refused_and_the_service_keeps_serving(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_the_service_keeps_serving_postgres() {
    bad_requests_are_refused_and_the_service_keeps_serving(Backend::Postgres).await;
}

/// Unknown routes and methods are problem+json too, not plain text.
#[tokio::test]
async fn unknown_routes_are_problems() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    server.get(HQ, "/v1/nothing-here").await.problem(404);
    server.get(HQ, "/v1/orders/ORD-unknown").await.problem(404);
    server
        .act(GD_ADMIN, "ORD-unknown", "approve")
        .await
        .problem(404);
    let reply = server
        .send(
            server
                .client()
                .delete(server.url("/v1/orders"))
                .bearer_auth(HQ),
        )
        .await;
    assert_eq!(reply.status, 405, "{}", reply.text);
}
