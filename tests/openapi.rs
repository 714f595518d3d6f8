//! The OpenAPI document and the docs page over real HTTP, and Schemathesis
//! (PyPI) fuzzing a running server from `/openapi.json`: no 5xx, and every
//! status, content type and body the server answers is the one the
//! document promises.
//!
//! The Schemathesis runs use a fixed seed and a few dozen cases per
//! operation, to stay within minutes; for a longer campaign set
//! `CHANHOST_SCHEMATHESIS_SEED` and `CHANHOST_SCHEMATHESIS_EXAMPLES`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use common::server::*;
use common::workspace;
use serde_json::json;

/// Where `scripts/test` says the Schemathesis CLI is.
const SCHEMATHESIS_VAR: &str = "CHANHOST_SCHEMATHESIS";

#[tokio::test]
async fn the_document_is_served_and_describes_placing_an_order() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let reply = server
        .send(server.client().get(server.url("/openapi.json")))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
    let doc = reply.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "chanhost");

    let place = &doc["paths"]["/v1/orders"]["post"];
    let schema = &place["requestBody"]["content"]["application/json"]["schema"];
    let name = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .unwrap_or_else(|| panic!("POST /v1/orders body: {schema}"));
    let body = &doc["components"]["schemas"][name];
    assert_eq!(body["required"], json!(["lines"]), "{body}");
    assert!(body["properties"]["lines"].is_object(), "{body}");
    assert_eq!(place["security"], json!([{ "bearer": [] }]));
    for status in ["201", "400", "401", "403", "413", "422"] {
        assert!(
            place["responses"][status].is_object(),
            "POST /v1/orders lacks {status}"
        );
    }
    let problem = &doc["components"]["responses"]["Invalid"]["content"]["application/problem+json"];
    assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
}

/// Every documented operation reaches a handler: without a token, a `/v1`
/// one answers 401 (not the fallback's 404 or a 405).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let doc = server
        .send(server.client().get(server.url("/openapi.json")))
        .await
        .expect(200);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "X-1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = server
                .send(
                    server
                        .client()
                        .request(method.clone(), server.url(&concrete)),
                )
                .await;
            let expected = if path.starts_with("/v1/") { 401 } else { 200 };
            assert_eq!(
                reply.status, expected,
                "{method} {concrete} (documented as {path}): {}",
                reply.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} operations");
}

/// A path segment that is not UTF-8 once decoded is refused like any
/// other bad request, as the document says (not with axum's plain text).
#[tokio::test]
async fn an_undecodable_path_segment_is_a_documented_problem() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let doc = server
        .send(server.client().get(server.url("/openapi.json")))
        .await
        .expect(200);
    for (path, template) in [
        ("/v1/orders/%FF", "/v1/orders/{id}"),
        ("/v1/dealers/%C3%28/credit", "/v1/dealers/{id}/credit"),
        ("/v1/catalogue/%FE", "/v1/catalogue/{sku}"),
    ] {
        let problem = server.get(HQ, path).await.problem(400);
        assert!(
            problem["detail"].as_str().unwrap().contains("UTF-8"),
            "{problem}"
        );
        assert!(
            doc["paths"][template]["get"]["responses"]["400"].is_object(),
            "GET {template} does not document its 400"
        );
    }
}

/// `/docs` is Swagger UI from the binary: the page's scripts and styles are
/// same-origin and served, and it loads our document.
#[tokio::test]
async fn the_docs_page_is_served_by_the_binary() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let page = server.send(server.client().get(server.url("/docs/"))).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert!(
        !page.text.contains("//"),
        "an absolute URL in the page: {}",
        page.text
            .lines()
            .filter(|l| l.contains("//"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for rest in page.text.split(attribute).skip(1) {
            assets.push(rest.split('"').next().unwrap().to_string());
        }
    }
    assert!(
        assets.iter().any(|a| a.ends_with("swagger-ui-bundle.js")),
        "{assets:?}"
    );
    for asset in &assets {
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let reply = server.send(server.client().get(server.url(&path))).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(!reply.text.is_empty(), "{path} is empty");
        if asset.ends_with(".js") {
            assert!(
                !reply.text.contains("https://unpkg") && !reply.text.contains("cdn."),
                "{path} loads from a CDN"
            );
        }
    }
    let init = server
        .send(
            server
                .client()
                .get(server.url("/docs/swagger-initializer.js")),
        )
        .await;
    assert_eq!(init.status, 200);
    assert!(
        init.text.contains("\"url\": \"/openapi.json\""),
        "{}",
        init.text
    );
    // Nor does it ask the online validator about the document.
    assert!(
        init.text.contains("\"validatorUrl\": \"none\""),
        "{}",
        init.text
    );
    // `/docs` without the slash leads to the page.
    let bare = server
        .client()
        .get(server.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200, "after redirects");
    assert_eq!(bare.url().path(), "/docs/");
}

/// HQ may do everything, so this run reaches every handler's real work:
/// resources exist (an approved order, a delivered one with a shipment and
/// a claim, a transfer, an alert, a canary deployment) and Schemathesis
/// is pointed at them.
#[tokio::test]
async fn schemathesis_finds_no_fault_as_hq() {
    fuzz(Backend::Sqlite, HQ, 100, 11).await;
}

/// A dealer is refused most things: every 403 must be documented, and what
/// it may do (its orders, payments, claims) must conform too.
#[tokio::test]
async fn schemathesis_finds_no_fault_as_a_dealer() {
    fuzz(Backend::Sqlite, GD_DEALER, 8, 12).await;
}

/// PostgreSQL refuses what SQLite stores (a NUL in text, for one): a
/// shorter run as HQ on it.
#[tokio::test]
async fn schemathesis_finds_no_fault_on_postgresql() {
    fuzz(Backend::Postgres, HQ, 15, 13).await;
}

/// A server on `backend` with the world in place, fuzzed as `token`.
async fn fuzz(backend: Backend, token: &str, max_examples: u32, seed: u64) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let world = World::create(&server).await;
    schemathesis(&server, &db, token, &world, max_examples, seed);
}

/// Real identifiers for Schemathesis to put in paths.
struct World {
    /// D-GD-0001's order, approved.
    approved: String,
    /// D-GD-0001's order, delivered, and its first shipment.
    delivered: String,
    shipment: String,
    claim: String,
    transfer: String,
    alert: Option<String>,
    deployment: String,
    plugin_hash: String,
}

impl World {
    async fn create(server: &TestServer) -> World {
        let approved = placed(server, "world-approved").await;
        let delivered = placed(server, "world-delivered").await;
        let order = server
            .post(
                GD_ADMIN,
                &format!("/v1/orders/{delivered}/allocate"),
                json!({}),
            )
            .await
            .expect(200);
        let mut warehouses: Vec<&str> = order["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["warehouse_id"].as_str().unwrap())
            .collect();
        warehouses.dedup();
        let mut shipment = String::new();
        for (i, warehouse) in warehouses.iter().enumerate() {
            let ship = json!({ "warehouse_id": warehouse, "carrier": "SF Express", "tracking_no": format!("SF{i}") });
            let order = server
                .post(GD_ADMIN, &format!("/v1/orders/{delivered}/shipments"), ship)
                .await
                .expect(201);
            shipment = order["shipments"][0]["id"].as_str().unwrap().to_string();
        }
        server
            .post(
                GD_DEALER,
                &format!("/v1/orders/{delivered}/receipt"),
                json!({}),
            )
            .await
            .expect(200);
        let claim = server
            .post(
                GD_DEALER,
                &format!("/v1/orders/{delivered}/claims"),
                json!({ "kind": "damaged", "description": "two cases broken", "photos": ["photo://p1.jpg"],
                        "lines": [{ "sku": "BJ-001", "quantity": 1 }] }),
            )
            .await
            .expect(201);

        let warehouses = server.get(HQ, "/v1/warehouses?region=gd").await.expect(200);
        let regional: Vec<&str> = warehouses
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["level"] == "region")
            .map(|w| w["id"].as_str().unwrap())
            .collect();
        let hq = server.get(HQ, "/v1/warehouses").await.expect(200);
        let hq = hq
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["level"] == "hq")
            .expect("an HQ warehouse")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let transfer = server
            .post(
                HQ,
                "/v1/transfers",
                json!({ "from_warehouse": hq, "to_warehouse": regional[0], "reason": "rebalance",
                        "lines": [{ "sku": "BJ-001", "quantity": 2 }] }),
            )
            .await
            .expect(201);

        server
            .post(HQ, "/v1/alerts/scan", json!({}))
            .await
            .expect(200);
        let alerts = server.get(HQ, "/v1/alerts?limit=1").await.expect(200);
        let alert = alerts["alerts"][0]["id"].as_str().map(str::to_string);

        let rollout = server
            .post(
                HQ,
                "/v1/deployments",
                json!({ "changes": [{ "region": "gd", "slot": "pricing", "plugin": "builtin:pricing-tiered",
                                      "config": { "tier_discount_bp": { "strategic": 1000, "core": 900, "standard": 0 },
                                                  "quantity_breaks": [] } }],
                        "mode": "canary", "audience": { "share_bp": 1000 } }),
            )
            .await
            .expect(201);
        let plugins = server.get(HQ, "/v1/plugins?limit=1").await.expect(200);
        World {
            approved,
            delivered,
            shipment,
            claim: claim["id"].as_str().unwrap().to_string(),
            transfer: transfer["id"].as_str().unwrap().to_string(),
            alert,
            deployment: rollout["deployments"][0]["id"]
                .as_str()
                .unwrap()
                .to_string(),
            plugin_hash: plugins["plugins"][0]["hash"]
                .as_str()
                .expect("a plugin in the registry")
                .to_string(),
        }
    }

    /// Schemathesis's configuration: which identifier each path gets.
    fn config(&self) -> String {
        let mut operations = vec![
            (
                r"^/v1/orders/\{id\}(/(decision|approve|reject|allocate|cancel|receipt|complete|payments))?$",
                format!(r#""path.id" = "{}""#, self.approved),
            ),
            (
                r"^/v1/orders/\{id\}/(claims|shipments)$",
                format!(r#""path.id" = "{}""#, self.delivered),
            ),
            (
                r"^/v1/orders/\{id\}/shipments/\{shipment\}/events$",
                format!(
                    r#""path.id" = "{}", "path.shipment" = "{}""#,
                    self.delivered, self.shipment
                ),
            ),
            (
                r"^/v1/claims/\{id\}",
                format!(r#""path.id" = "{}""#, self.claim),
            ),
            (
                r"^/v1/transfers/\{id\}",
                format!(r#""path.id" = "{}""#, self.transfer),
            ),
            (
                r"^/v1/deployments/\{id\}",
                format!(r#""path.id" = "{}""#, self.deployment),
            ),
            (
                r"^/v1/dealers/\{id\}",
                r#""path.id" = "D-GD-0001""#.to_string(),
            ),
            (r"^/v1/regions/\{id\}", r#""path.id" = "gd""#.to_string()),
            (
                r"^/v1/catalogue/\{sku\}$",
                r#""path.sku" = "BJ-001""#.to_string(),
            ),
            (
                r"^/v1/plugins/\{hash\}$",
                format!(r#""path.hash" = "{}""#, self.plugin_hash),
            ),
        ];
        if let Some(alert) = &self.alert {
            operations.push((r"^/v1/alerts/\{id\}", format!(r#""path.id" = "{alert}""#)));
        }
        operations
            .iter()
            .map(|(regex, parameters)| {
                format!(
                    "[[operations]]\ninclude-path-regex = '{regex}'\nparameters = {{ {parameters} }}\n\n"
                )
            })
            .collect()
    }
}

/// Places a one-line order for D-GD-0001 and approves it if it was held.
async fn placed(server: &TestServer, key: &str) -> String {
    let order = server
        .place(GD_DEALER, key, one_line("BJ-001", 3))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap().to_string();
    if order["status"] == "pending_review" {
        server.act(GD_ADMIN, &id, "approve").await.expect(200);
    }
    id
}

/// The Schemathesis CLI, or a panic that says how to get it.
fn schemathesis_cli() -> PathBuf {
    let path = std::env::var_os(SCHEMATHESIS_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/tools/venv/bin/st"));
    assert!(
        path.exists(),
        "Schemathesis is not installed at {}: run scripts/test-tools (or set {SCHEMATHESIS_VAR})",
        path.display()
    );
    path
}

/// Runs `st run` against the server as `token`, and fails with its report
/// unless it found nothing. A fixed seed keeps the run reproducible.
fn schemathesis(
    server: &TestServer,
    db: &TestDb,
    token: &str,
    world: &World,
    max_examples: u32,
    seed: u64,
) {
    let cli = schemathesis_cli();
    let seed = std::env::var("CHANHOST_SCHEMATHESIS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(seed);
    let max_examples = std::env::var("CHANHOST_SCHEMATHESIS_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(max_examples);
    let dir = db.dir.path().join(format!("schemathesis-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, world.config()).unwrap();
    let run = || {
        let started = Instant::now();
        let output = Command::new(&cli)
            // Hypothesis keeps its database in the working directory.
            .current_dir(&dir)
            .arg("--config-file")
            .arg(&config)
            .arg("run")
            .arg(server.url("/openapi.json"))
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--seed", &seed.to_string()])
            .args(["--max-examples", &max_examples.to_string()])
            .args(["--workers", "2", "--request-timeout", "60"])
            // Schemathesis has no serializer for `application/wasm`; the
            // upload is covered by tests/plugin_registry.rs.
            .args(["--exclude-operation-id", "registry_upload"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap_or_else(|err| panic!("running {}: {err}", cli.display()));
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!(
            "schemathesis as {token}: {:.0?}, exit {:?}\n{}",
            started.elapsed(),
            output.status.code(),
            report
                .split_once("SUMMARY")
                .map_or(report.as_str(), |(_, summary)| summary)
        );
        (output, report)
    };
    let (mut output, mut report) = run();
    if !output.status.success() && only_the_tool_crashed(&report) {
        eprintln!(
            "schemathesis crashed inside Hypothesis without a failed check; running it once more"
        );
        (output, report) = run();
    }
    assert!(
        output.status.success(),
        "Schemathesis found problems as {token} (config:\n{}):\n{report}\n--- server log ---\n{}",
        world.config(),
        tail(&server.log_text(), 60)
    );
    assert!(report.contains(" passed"), "no test cases ran:\n{report}");
}

/// Whether a failed run found nothing about the API and only Schemathesis
/// itself broke: a runtime error raised inside Hypothesis (seen once as
/// CPython 3.11's "AST constructor recursion depth mismatch" while
/// Hypothesis described a strategy), with no check failing.
fn only_the_tool_crashed(report: &str) -> bool {
    report.contains("Runtime Error")
        && report.contains("site-packages/hypothesis/")
        && !report.contains("Failures:")
        && !report.contains("FAILURES")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn a_crash_inside_hypothesis_is_told_from_a_failed_check() {
    let crash = "Errors:\n  🚫 Runtime Error: 1\n\nAST constructor recursion depth mismatch\n  File \"/x/venv/lib/python3.11/site-packages/hypothesis/internal/lambda_sources.py\", line 353";
    assert!(only_the_tool_crashed(crash));
    let failed = format!("{crash}\nFailures:\n  ❌ Server error: 1");
    assert!(!only_the_tool_crashed(&failed));
    assert!(!only_the_tool_crashed(
        "Errors:\n  🚫 Network Error: 1\nConnection refused"
    ));
}
