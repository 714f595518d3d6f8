//! `chanhost replay` against orders placed over HTTP, on SQLite and on
//! PostgreSQL: replaying the active policy reproduces every stored
//! decision exactly; a candidate that prices differently shows the
//! difference with the right revenue sign, as a brand directory and as a
//! folder of region files over the active brand.

mod common;

use std::path::Path;

use common::server::*;
use common::{chanhost_command, examples};
use serde_json::{Value, json};

/// Orders of several gd dealers, tiers and SKUs (some backordered), four
/// rounds of them so that the replay spreads them over its threads, and
/// two in hl that a gd replay must leave out. Returns the gd order ids.
async fn place_orders(server: &TestServer) -> Vec<String> {
    let bodies = [
        (
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-001", "quantity": 5}, {"sku": "LA-001", "quantity": 30}]}),
        ),
        (
            GD_DEALER,
            json!({"lines": [{"sku": "WN-001", "quantity": 12}]}),
        ),
        (
            GD_ADMIN,
            json!({"dealer_id": "D-GD-0002", "lines": [{"sku": "BJ-002", "quantity": 20}, {"sku": "WN-002", "quantity": 6}, {"sku": "LA-004", "quantity": 15}]}),
        ),
        (
            GD_ADMIN,
            json!({"dealer_id": "D-GD-0003", "lines": [{"sku": "BJ-006", "quantity": 8}, {"sku": "LA-009", "quantity": 40}]}),
        ),
        (
            GD_ADMIN,
            json!({"dealer_id": "D-GD-0004", "lines": [{"sku": "BJ-013", "quantity": 30}]}),
        ),
        (
            GD_ADMIN,
            json!({"dealer_id": "D-GD-0005", "lines": [{"sku": "LA-001", "quantity": 3}, {"sku": "WN-006", "quantity": 5}]}),
        ),
        // More than the region holds: backordered and held for review.
        (
            GD_ADMIN,
            json!({"dealer_id": "D-GD-0003", "lines": [{"sku": "BJ-001", "quantity": 1500}]}),
        ),
        (
            GD_DEALER,
            json!({"lines": [{"sku": "BJ-002", "quantity": 2}, {"sku": "BJ-006", "quantity": 1}, {"sku": "WN-001", "quantity": 1}]}),
        ),
    ];
    let mut ids = Vec::new();
    let bodies: Vec<_> = (0..4).flat_map(|_| bodies.clone()).collect();
    for (i, (token, body)) in bodies.into_iter().enumerate() {
        let order = server
            .place(token, &format!("replay-{i}"), body)
            .await
            .expect(201);
        ids.push(order["id"].as_str().unwrap().to_string());
    }
    for i in 0..2 {
        server
            .place(
                HL_DEALER,
                &format!("replay-hl-{i}"),
                one_line("BJ-001", 3 + i),
            )
            .await
            .expect(201);
    }
    ids
}

/// Runs `chanhost replay … --json` on the test's database.
fn replay(db: &TestDb, args: &[&str]) -> Value {
    let mut command = chanhost_command();
    command
        .arg("replay")
        .args(args)
        .arg("--config")
        .arg(examples())
        .arg("--json")
        .env_remove("CHANHOST_DATABASE_URL");
    match db.backend {
        Backend::Sqlite => command.arg("--data-dir").arg(db.data_dir()),
        Backend::Postgres => command.arg("--database-url").arg(db.url()),
    };
    let output = command.output().expect("run chanhost replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chanhost replay {args:?} failed:\n{stderr}\n{stdout}"
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("replay printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

/// The example brand with `from` replaced by `to` in `file`, in a
/// temporary directory.
fn edited_brand(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&examples(), dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn count(report: &Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {report:#}"))
}

async fn the_active_policy_reproduces_every_stored_decision(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let ids = place_orders(&server).await;
    let examples = examples();
    let candidate = examples.to_str().unwrap();

    let report = replay(
        &db,
        &["--region", "gd", "--candidate", candidate, "--threads", "2"],
    );
    assert_eq!(count(&report, "orders"), ids.len() as u64, "{report:#}");
    assert_eq!(report["not_reproduced"], json!([]), "{report:#}");
    assert_eq!(count(&report, "reproduced"), ids.len() as u64, "{report:#}");
    assert_eq!(count(&report, "unevaluable"), 0);
    let summary = &report["summary"];
    assert_eq!(summary["orders_compared"], ids.len());
    assert_eq!(summary["orders_differing"], 0, "{summary:#}");
    assert_eq!(summary["revenue_impact_fen"], 0);
    assert_eq!(summary["differences"], json!([]));

    // The range is [from, to): RFC 3339 or ms, and nothing outside it.
    let report = replay(
        &db,
        &[
            "--region",
            "gd",
            "--candidate",
            candidate,
            "--from",
            "2000-01-01T08:00:00+08:00",
            "--to",
            "946684800001",
        ],
    );
    assert_eq!(count(&report, "orders"), 0, "{report:#}");
    let report = replay(
        &db,
        &[
            "--region",
            "hl",
            "--candidate",
            candidate,
            "--from",
            "2020-01-01T00:00:00Z",
        ],
    );
    assert_eq!(count(&report, "orders"), 2, "{report:#}");
    assert_eq!(count(&report, "reproduced"), 2, "{report:#}");
}

async fn a_pricing_change_shows_in_the_replay_with_its_revenue_sign(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let ids = place_orders(&server).await;

    // Bigger tier discounts in HQ's default pricing (gd uses it): cheaper.
    let cheaper = edited_brand(
        "hq.toml",
        "tier_discount_bp = { strategic = 600, core = 300, standard = 0 }",
        "tier_discount_bp = { strategic = 900, core = 600, standard = 300 }",
    );
    let report = replay(
        &db,
        &[
            "--region",
            "gd",
            "--candidate",
            cheaper.path().to_str().unwrap(),
        ],
    );
    let summary = &report["summary"];
    assert_eq!(count(&report, "orders"), ids.len() as u64, "{report:#}");
    assert_eq!(count(&report, "reproduced"), 0, "{report:#}");
    assert_eq!(summary["orders_differing"], ids.len(), "{summary:#}");
    assert_eq!(summary["price_changed"], ids.len(), "{summary:#}");
    assert_eq!(summary["verdict_changed"], 0, "{summary:#}");
    assert!(
        summary["revenue_impact_fen"].as_i64().unwrap() < 0,
        "{summary:#}"
    );
    let differences = summary["differences"].as_array().unwrap();
    let kept: Vec<&str> = differences
        .iter()
        .map(|d| d["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ids, "every order, in placement order");
    for diff in differences {
        let (from, to) = (
            diff["total"]["from"].as_i64().unwrap(),
            diff["total"]["to"].as_i64().unwrap(),
        );
        assert!(to < from, "{diff:#}");
        for line in diff["prices"].as_array().unwrap() {
            assert!(
                line["to"]["unit_price"].as_i64() < line["from"]["unit_price"].as_i64(),
                "{diff:#}"
            );
        }
    }
    let sum: i64 = differences
        .iter()
        .map(|d| d["total"]["to"].as_i64().unwrap() - d["total"]["from"].as_i64().unwrap())
        .sum();
    assert_eq!(summary["revenue_impact_fen"], sum);

    // A folder of region files over the active brand: gd 3% dearer.
    let regions = tempfile::tempdir().unwrap();
    let gd = std::fs::read_to_string(examples().join("regions/gd.toml")).unwrap();
    assert!(gd.contains("price_adjustment_bp = 0\n"));
    std::fs::write(
        regions.path().join("gd.toml"),
        gd.replacen(
            "price_adjustment_bp = 0\n",
            "price_adjustment_bp = 300\n",
            1,
        ),
    )
    .unwrap();
    let report = replay(
        &db,
        &[
            "--region",
            "gd",
            "--candidate",
            regions.path().to_str().unwrap(),
        ],
    );
    let summary = &report["summary"];
    assert!(
        summary["price_changed"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
    assert!(
        summary["revenue_impact_fen"].as_i64().unwrap() > 0,
        "{summary:#}"
    );
    // Other regions keep the active brand's files.
    let report = replay(
        &db,
        &[
            "--region",
            "hl",
            "--candidate",
            regions.path().to_str().unwrap(),
        ],
    );
    assert_eq!(count(&report, "reproduced"), 2, "{report:#}");
}

#[tokio::test]
async fn the_active_policy_reproduces_every_stored_decision_sqlite() {
    the_active_policy_reproduces_every_stored_decision(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_active_policy_reproduces_every_stored_decision_postgres() {
    the_active_policy_reproduces_every_stored_decision(Backend::Postgres).await;
}

#[tokio::test]
async fn a_pricing_change_shows_in_the_replay_with_its_revenue_sign_sqlite() {
    a_pricing_change_shows_in_the_replay_with_its_revenue_sign(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_pricing_change_shows_in_the_replay_with_its_revenue_sign_postgres() {
    a_pricing_change_shows_in_the_replay_with_its_revenue_sign(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------
// POST /v1/replays

/// HQ's default pricing with bigger tier discounts: cheaper for everyone.
fn cheaper_pricing() -> Value {
    json!({
        "tier_discount_bp": { "strategic": 900, "core": 600, "standard": 300 },
        "quantity_breaks": [
            { "min_cases": 50, "discount_bp": 100 },
            { "min_cases": 200, "discount_bp": 200 }
        ]
    })
}

async fn replays_over_http(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let ids = place_orders(&server).await;
    let change = json!({"region": "gd", "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": cheaper_pricing()});

    // Changes to the live policy, by the region's admin.
    let report = server
        .post(
            GD_ADMIN,
            "/v1/replays",
            json!({"region": "gd", "from": "2020-01-01T00:00:00Z", "candidate": {"changes": [change]}}),
        )
        .await
        .expect(200);
    let summary = &report["summary"];
    assert_eq!(count(&report, "orders"), ids.len() as u64, "{report:#}");
    assert_eq!(summary["price_changed"], ids.len(), "{summary:#}");
    assert!(
        summary["revenue_impact_fen"].as_i64().unwrap() < 0,
        "{summary:#}"
    );

    // A deployment (here a shadow, which decides nothing live) as candidate.
    let mut shadow = json!({"changes": [change], "mode": "shadow", "note": "try cheaper"});
    shadow["changes"][0]["region"] = json!("gd");
    let rollout = server.post(HQ, "/v1/deployments", shadow).await.expect(201);
    let deployment = rollout["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = server
        .post(
            HQ,
            "/v1/replays",
            json!({"region": "gd", "candidate": {"deployment_id": deployment}}),
        )
        .await
        .expect(200);
    assert_eq!(count(&report, "orders"), ids.len() as u64, "{report:#}");
    assert_eq!(report["summary"]["price_changed"], ids.len(), "{report:#}");
    assert!(report["summary"]["revenue_impact_fen"].as_i64().unwrap() < 0);

    // Only HQ and the region's admin; a candidate is one thing or the other.
    let body = json!({"region": "gd", "candidate": {"changes": []}});
    server
        .post(HL_ADMIN, "/v1/replays", body.clone())
        .await
        .problem(403);
    server
        .post(GD_DEALER, "/v1/replays", body.clone())
        .await
        .problem(403);
    let refused = server
        .post(HQ, "/v1/replays", json!({"region": "gd", "candidate": {}}))
        .await
        .problem(422);
    assert_eq!(error_paths(&refused), ["/candidate"], "{refused:#}");
    let refused = server
        .post(
            HQ,
            "/v1/replays",
            json!({"region": "gd", "from": "last tuesday", "candidate": {"changes": []}}),
        )
        .await
        .problem(422);
    assert_eq!(error_paths(&refused), ["/from"], "{refused:#}");
    let refused = server
        .post(
            HQ,
            "/v1/replays",
            json!({"region": "gd", "candidate": {"changes": [{"region": "hl", "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": cheaper_pricing()}]}}),
        )
        .await
        .problem(422);
    assert_eq!(
        error_paths(&refused),
        ["/candidate/changes/0/region"],
        "{refused:#}"
    );
    let refused = server
        .post(
            HQ,
            "/v1/replays",
            json!({"region": "gd", "candidate": {"deployment_id": "dep-nope"}}),
        )
        .await
        .problem(422);
    assert_eq!(
        error_paths(&refused),
        ["/candidate/deployment_id"],
        "{refused:#}"
    );
    let refused = server
        .post(
            HQ,
            "/v1/replays",
            json!({"region": "gd", "candidate": {"changes": [{"region": "gd", "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": {"tier_discount_bp": "lots"}}]}}),
        )
        .await
        .problem(422);
    assert!(
        error_paths(&refused)[0].starts_with("/candidate/changes/0"),
        "{refused:#}"
    );
}

#[tokio::test]
async fn replays_over_http_sqlite() {
    replays_over_http(Backend::Sqlite).await;
}

#[tokio::test]
async fn replays_over_http_postgres() {
    replays_over_http(Backend::Postgres).await;
}
