//! `/metrics` over real HTTP, on SQLite and PostgreSQL: after real orders,
//! the exposition counts requests by route template, orders by region and
//! status (read from the database), every plugin call of the order's trace
//! with its fuel, the group commits, and the database pool. Faults and
//! quarantines are checked where a faulty plugin is deployed
//! (tests/deployments.rs, the guard test). And `/readyz`, which reads the
//! schema's state.

mod common;

use common::server::*;

async fn exposition(server: &TestServer) -> String {
    let response = server
        .client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "an exposition ends with # EOF");
    text
}

async fn counts_what_the_server_did(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let order = server
        .place(GD_DEALER, "metrics-1", one_line("BJ-001", 2))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    server
        .get(GD_DEALER, &format!("/v1/orders/{id}"))
        .await
        .expect(200);
    server
        .get(GD_DEALER, "/v1/no-such-thing")
        .await
        .problem(404);
    let decision = server
        .get(GD_DEALER, &format!("/v1/orders/{id}/decision"))
        .await
        .expect(200);

    let text = exposition(&server).await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        metric(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };

    // Requests by route template, never by raw path.
    let placed = [
        ("method", "POST"),
        ("route", "/v1/orders"),
        ("status", "201"),
    ];
    assert_eq!(value("chanhost_http_requests_total", &placed), 1.0);
    let shown = [("route", "/v1/orders/{id}"), ("status", "200")];
    assert!(value("chanhost_http_requests_total", &shown) >= 1.0);
    assert!(!text.contains(id), "an order id leaked into a label");
    let unmatched = [("route", "(unmatched)"), ("status", "404")];
    assert_eq!(value("chanhost_http_requests_total", &unmatched), 1.0);
    assert!(
        value(
            "chanhost_http_request_duration_seconds_count",
            &[("route", "/v1/orders")]
        ) >= 1.0
    );

    // Orders: this host's placements, and the database's view by status.
    let accepted = [("region", "gd"), ("decision", "accepted")];
    assert_eq!(value("chanhost_orders_placed_total", &accepted), 1.0);
    let status = order["status"].as_str().unwrap();
    assert_eq!(
        value("chanhost_orders", &[("region", "gd"), ("status", status)]),
        1.0
    );

    // Every plugin call of the trace, with its fuel.
    let steps = decision["decision"]["trace"]["steps"]
        .as_array()
        .expect("trace steps");
    assert!(steps.len() >= 4, "{decision}");
    for step in steps {
        let plugin = &step["plugin"];
        let labels = [
            ("region", "gd"),
            ("kind", plugin["kind"].as_str().unwrap()),
            ("plugin", plugin["name"].as_str().unwrap()),
            ("version", plugin["version"].as_str().unwrap()),
        ];
        let mut ok = labels.to_vec();
        ok.push(("outcome", "ok"));
        assert!(value("chanhost_plugin_calls_total", &ok) >= 1.0, "{step}");
        let fuel = step["fuel_used"].as_u64().unwrap() as f64;
        assert!(
            value("chanhost_plugin_fuel_used_sum", &labels) >= fuel,
            "{step}"
        );
        assert!(value("chanhost_plugin_call_duration_seconds_count", &labels) >= 1.0);
    }
    assert_eq!(metric(&text, "chanhost_plugin_faults_total", &[]), None);

    // The group commit that made the order durable, and the pool.
    assert!(value("chanhost_db_commit_duration_seconds_count", &[]) >= 1.0);
    assert!(value("chanhost_db_commit_orders_sum", &[]) >= 1.0);
    assert!(value("chanhost_db_pool_max_connections", &[]) >= 1.0);
    assert!(value("chanhost_db_pool_connections", &[("state", "idle")]) >= 0.0);

    // How each batch was written. On SQLite the first batch loaded the
    // stock book; a second order is decided on it, in one call.
    server
        .place(GD_DEALER, "metrics-1b", one_line("BJ-001", 1))
        .await
        .expect(201);
    let text = exposition(&server).await;
    let batches = |path: &str| metric(&text, "chanhost_db_commit_batches_total", &[("path", path)]);
    match backend {
        Backend::Sqlite => {
            assert_eq!(
                batches("reads"),
                Some(1.0),
                "the first batch loads the book"
            );
            assert_eq!(batches("book"), Some(1.0), "the next is decided on it");
        }
        Backend::Postgres => {
            assert_eq!(batches("reads"), Some(2.0));
            assert_eq!(batches("book"), None, "PostgreSQL has no stock book");
        }
    }
}

#[tokio::test]
async fn counts_what_the_server_did_sqlite() {
    counts_what_the_server_did(Backend::Sqlite).await;
}

#[tokio::test]
async fn counts_what_the_server_did_postgres() {
    counts_what_the_server_did(Backend::Postgres).await;
}

/// The exposition parses as the label sets a scraper expects: every sample
/// line is `name{k="v",…} number`.
#[tokio::test]
async fn every_sample_line_is_well_formed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    server
        .place(GD_DEALER, "metrics-2", one_line("BJ-001", 1))
        .await
        .expect(201);
    let text = exposition(&server).await;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        assert!(
            name.starts_with("chanhost_")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
    }
}

/// `/readyz` says ready only with the schema at the binary's newest
/// migration and every region's plugins loaded; otherwise 503 and why.
async fn readiness_follows_the_schema(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let ready = server.get(HQ, "/readyz").await.expect(200);
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["regions"], 32);

    // As if the newest migration had not run (an older binary's schema).
    let pool = db.pool().await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let reply = server.get(HQ, "/readyz").await;
    assert_eq!(reply.status, 503, "{}", reply.text);
    assert!(reply.text.contains("migrations"), "{}", reply.text);
    server.get(HQ, "/healthz").await.expect(200);
}

#[tokio::test]
async fn readiness_follows_the_schema_sqlite() {
    readiness_follows_the_schema(Backend::Sqlite).await;
}

#[tokio::test]
async fn readiness_follows_the_schema_postgres() {
    readiness_follows_the_schema(Backend::Postgres).await;
}
