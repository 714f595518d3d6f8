//! HQ policy deployment over real HTTP: deploy, activate and roll back
//! without a restart; who may deploy where; canaries; validation before
//! anything goes live; the guard that rolls a faulty version back by
//! itself; shadow runs; and a deployment reaching every host that shares
//! one PostgreSQL.

mod common;

use std::time::Duration;

use common::server::*;
use serde_json::{Value, json};

const DEMO_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/keys/demo-publisher.key"
);

/// A gd pricing change: core dealers get 9% off instead of 3%.
fn generous_pricing() -> Value {
    json!({
        "tier_discount_bp": { "strategic": 1000, "core": 900, "standard": 0 },
        "quantity_breaks": []
    })
}

fn pricing_change(region: &str, config: Value) -> Value {
    json!({ "changes": [{ "region": region, "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": config }] })
}

/// Places a one-line BJ-001 order for `dealer` (as HQ); its unit price and
/// the deployment its pricing step names.
async fn priced(
    server: &TestServer,
    dealer: &str,
    key: &str,
    quantity: i64,
) -> (i64, Option<String>) {
    let order = server
        .place(HQ, key, one_line_for(dealer, "BJ-001", quantity))
        .await
        .expect(201);
    let pricing = pricing_step(server, &order).await;
    (
        order["lines"][0]["unit_price"].as_i64().unwrap(),
        pricing["deployment_id"].as_str().map(str::to_string),
    )
}

/// The pricing step of a placed order's decision trace.
async fn pricing_step(server: &TestServer, order: &Value) -> Value {
    let id = order["id"].as_str().unwrap();
    let decision = server
        .get(HQ, &format!("/v1/orders/{id}/decision"))
        .await
        .expect(200);
    decision["decision"]["trace"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot"] == "pricing")
        .expect("a pricing step")
        .clone()
}

/// Waits until `check` holds, for up to ten seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn slot<'a>(policy: &'a Value, region: &str, slot: &str) -> &'a Value {
    policy["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == region)
        .and_then(|r| {
            r["slots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["slot"] == slot)
        })
        .unwrap_or_else(|| panic!("{region} {slot} in {policy}"))
}

// ---------------------------------------------------------------------------

async fn deploy_activate_and_roll_back(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (baseline_price, none) = priced(&server, "D-GD-0001", "before", 5).await;
    assert_eq!(
        none, None,
        "the brand directory's pricing has no deployment"
    );

    let rollout = server
        .post(
            GD_ADMIN,
            "/v1/deployments",
            pricing_change("gd", generous_pricing()),
        )
        .await
        .expect(201);
    let deployment = &rollout["deployments"][0];
    let id = deployment["id"].as_str().unwrap().to_string();
    assert_eq!(deployment["state"], "active");
    assert_eq!(deployment["plugin"]["name"], "pricing-tiered");
    assert!(rollout["activation_ms"].as_f64().unwrap() > 0.0);

    // No restart: the next order is priced by the new deployment, and says so.
    let (price, by) = priced(&server, "D-GD-0001", "after", 5).await;
    assert!(price < baseline_price, "{price} < {baseline_price}");
    assert_eq!(by.as_deref(), Some(id.as_str()));
    let policy = server.get(HQ, "/v1/policy?region=gd").await.expect(200);
    assert_eq!(slot(&policy, "gd", "pricing")["source"], "deployment");
    assert_eq!(slot(&policy, "gd", "pricing")["deployment_id"], id.as_str());
    // Another region is untouched.
    let policy = server.get(HQ, "/v1/policy?region=hl").await.expect(200);
    assert_eq!(slot(&policy, "hl", "pricing")["source"], "config");

    // A second version replaces the first; rolling back the slot returns to
    // the first, rolling back the region again returns to the brand directory.
    let second = server
        .post(
            GD_ADMIN,
            "/v1/deployments",
            pricing_change("gd", json!({ "tier_discount_bp": { "core": 500 } })),
        )
        .await
        .expect(201);
    let second_id = second["deployments"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(second["deployments"][0]["previous_id"], id.as_str());
    let undone = server
        .post(
            GD_ADMIN,
            "/v1/regions/gd/rollback",
            json!({ "slot": "pricing" }),
        )
        .await
        .expect(200);
    assert_eq!(undone["rolled_back"][0]["id"], second_id.as_str());
    assert_eq!(undone["rolled_back"][0]["state"], "rolled_back");
    let (price_again, by) = priced(&server, "D-GD-0001", "after-rollback-1", 5).await;
    assert_eq!((price_again, by.as_deref()), (price, Some(id.as_str())));
    server
        .post(GD_ADMIN, "/v1/regions/gd/rollback", json!({}))
        .await
        .expect(200);
    let (price_back, by) = priced(&server, "D-GD-0001", "after-rollback-2", 5).await;
    assert_eq!((price_back, by), (baseline_price, None));
    let nothing = server
        .post(GD_ADMIN, "/v1/regions/gd/rollback", json!({}))
        .await
        .problem(409);
    assert!(
        nothing["detail"]
            .as_str()
            .unwrap()
            .contains("nothing to roll back")
    );

    // History and audit: who, when, what, and the configuration diff.
    let history = server
        .get(GD_ADMIN, "/v1/deployments?region=gd")
        .await
        .expect(200);
    let states: Vec<(&str, &str)> = history["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            (second_id.as_str(), "rolled_back"),
            (id.as_str(), "rolled_back")
        ]
    );
    let audit = server
        .get(HQ, "/v1/policy/audit?region=gd")
        .await
        .expect(200);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["rollback", "rollback", "deploy", "deploy"]);
    let first_deploy = &audit["entries"][3];
    assert!(
        first_deploy["actor"]
            .as_str()
            .unwrap()
            .contains("region_admin")
    );
    let diff = first_deploy["detail"]["config_diff"].as_array().unwrap();
    assert!(
        diff.iter()
            .any(|op| op["path"] == "/tier_discount_bp/core" && op["value"] == 900),
        "{diff:?}"
    );
}

#[tokio::test]
async fn deploy_activate_and_roll_back_sqlite() {
    deploy_activate_and_roll_back(Backend::Sqlite).await;
}

#[tokio::test]
async fn deploy_activate_and_roll_back_postgres() {
    deploy_activate_and_roll_back(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn who_may_deploy_where(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let refused = server
        .post(
            GD_ADMIN,
            "/v1/deployments",
            pricing_change("hl", generous_pricing()),
        )
        .await
        .problem(403);
    assert!(
        refused["detail"].as_str().unwrap().contains("gd"),
        "{refused}"
    );
    server
        .post(
            GD_ADMIN,
            "/v1/deployments",
            pricing_change("*", generous_pricing()),
        )
        .await
        .problem(403);
    server
        .post(
            GD_DEALER,
            "/v1/deployments",
            pricing_change("gd", generous_pricing()),
        )
        .await
        .problem(403);
    server
        .post(HL_ADMIN, "/v1/regions/gd/rollback", json!({}))
        .await
        .problem(403);
    // Nothing of the refused attempts went live.
    let policy = server.get(HQ, "/v1/policy").await.expect(200);
    assert!(policy["regions"].as_array().unwrap().iter().all(|r| {
        r["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["source"] == "config")
    }));
    // HQ deploys to every region in one rollout.
    let rollout = server
        .post(
            HQ,
            "/v1/deployments",
            pricing_change("*", generous_pricing()),
        )
        .await
        .expect(201);
    let deployments = rollout["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 32);
    assert!(
        deployments
            .iter()
            .all(|d| d["rollout_id"] == rollout["rollout_id"])
    );
    // A region admin sees their region's policy only.
    let own = server.get(GD_ADMIN, "/v1/policy").await.expect(200);
    assert_eq!(own["regions"].as_array().unwrap().len(), 1);
    server
        .get(GD_ADMIN, "/v1/policy?region=hl")
        .await
        .problem(403);
    // A dealer sees no policy, history or audit, not even of its region.
    for path in [
        "/v1/policy",
        "/v1/policy?region=gd",
        "/v1/deployments",
        "/v1/policy/audit",
    ] {
        server.get(GD_DEALER, path).await.problem(403);
    }
}

#[tokio::test]
async fn who_may_deploy_where_sqlite() {
    who_may_deploy_where(Backend::Sqlite).await;
}

#[tokio::test]
async fn who_may_deploy_where_postgres() {
    who_may_deploy_where(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn canary_split_and_promotion(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let (baseline, _) = priced(&server, "D-GD-0002", "base", 5).await;
    let mut canary = pricing_change("gd", generous_pricing());
    canary["mode"] = json!("canary");
    canary["audience"] = json!({ "dealers": ["D-GD-0001"] });
    let rollout = server
        .post(GD_ADMIN, "/v1/deployments", canary)
        .await
        .expect(201);
    let id = rollout["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(rollout["deployments"][0]["mode"], "canary");

    let (in_canary, by) = priced(&server, "D-GD-0001", "c1", 5).await;
    let (outside, by_outside) = priced(&server, "D-GD-0002", "c2", 5).await;
    assert_eq!(by.as_deref(), Some(id.as_str()));
    assert_eq!((outside, by_outside), (baseline, None));
    assert!(in_canary < baseline);
    let policy = server.get(HQ, "/v1/policy?region=gd").await.expect(200);
    assert_eq!(
        slot(&policy, "gd", "pricing")["canary"]["deployment_id"],
        id.as_str()
    );

    // Promoted, it decides for every dealer of the region.
    let live = server
        .post_empty(GD_ADMIN, &format!("/v1/deployments/{id}/promote"))
        .await
        .expect(200);
    assert_eq!(live["mode"], "live");
    let (promoted, by) = priced(&server, "D-GD-0002", "c3", 5).await;
    assert!(promoted < baseline);
    assert_eq!(by.as_deref(), live["id"].as_str());
    let old = server
        .get(HQ, &format!("/v1/deployments/{id}"))
        .await
        .expect(200);
    assert_eq!(old["state"], "promoted");

    // A share-based canary picks a stable part of the dealers.
    let mut share = pricing_change("gd", json!({ "tier_discount_bp": { "core": 100 } }));
    share["mode"] = json!("canary");
    share["audience"] = json!({ "share_bp": 5000 });
    let canary = server.post(HQ, "/v1/deployments", share).await.expect(201);
    let canary_id = canary["deployments"][0]["id"].as_str().unwrap().to_string();
    // The bucket depends on the (random) deployment id, so twenty dealers
    // make "all in" or "all out" a one-in-half-a-million accident.
    let dealers: Vec<String> = (1..=20).map(|n| format!("D-GD-{n:04}")).collect();
    let mut picked = Vec::new();
    for (n, dealer) in dealers.iter().enumerate() {
        let by = priced(&server, dealer, &format!("s{n}a"), 1).await.1;
        picked.push(by.as_deref() == Some(canary_id.as_str()));
    }
    for (n, dealer) in dealers.iter().enumerate().take(4) {
        let again = priced(&server, dealer, &format!("s{n}b"), 1).await.1;
        assert_eq!(
            picked[n],
            again.as_deref() == Some(canary_id.as_str()),
            "{dealer} is always in or always out"
        );
    }
    assert!(
        picked.iter().any(|p| *p) && picked.iter().any(|p| !*p),
        "{picked:?}"
    );
    // Stopping the canary leaves the promoted live version.
    server
        .post_empty(GD_ADMIN, &format!("/v1/deployments/{canary_id}/stop"))
        .await
        .expect(200);
    let (_, by) = priced(&server, "D-GD-0001", "after-stop", 5).await;
    assert_eq!(by.as_deref(), live["id"].as_str());
}

#[tokio::test]
async fn canary_split_and_promotion_sqlite() {
    canary_split_and_promotion(Backend::Sqlite).await;
}

#[tokio::test]
async fn canary_split_and_promotion_postgres() {
    canary_split_and_promotion(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

/// Uploads a component signed with the demo publisher key.
async fn publish(server: &TestServer, wasm: Vec<u8>) -> Value {
    let key = chanhost::registry::signing::SecretKey::read(std::path::Path::new(DEMO_KEY))
        .expect("demo key");
    let signature = chanhost::registry::signing::sign(&key, &wasm);
    let reply = server
        .send(
            server
                .client()
                .post(server.url("/v1/plugins"))
                .bearer_auth(HQ)
                .header("content-type", "application/wasm")
                .header("chanhost-signature", signature.header())
                .body(wasm),
        )
        .await;
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text);
    reply.body
}

fn hostile_pricing() -> Vec<u8> {
    std::fs::read(chanhost_bundled_plugins::test_fixtures::HOSTILE_PLUGIN).expect("hostile fixture")
}

/// A plugin built against the WIT 0.1.0 snapshot, before the contract
/// moved to 0.2.0, is published, deployed and decides orders as it did.
/// (Storage plays no part here, so SQLite alone covers it.)
#[tokio::test]
async fn a_plugin_built_against_an_older_wit_version_keeps_deciding() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let wasm = std::fs::read(chanhost_bundled_plugins::test_fixtures::PRICING_WIT_0_1_0)
        .expect("0.1.0 fixture");
    let manifest = publish(&server, wasm).await;
    assert_eq!(manifest["wit_version"], "0.1.0");
    let plugin = format!("sha256:{}", manifest["hash"].as_str().unwrap());

    let rollout = server
        .post(
            HQ,
            "/v1/deployments",
            json!({ "changes": [{ "region": "gd", "slot": "pricing", "plugin": plugin, "config": { "markup_bp": 100 } }] }),
        )
        .await
        .expect(201);
    let order = server
        .place(HQ, "wit-0-1-0", one_line_for("D-GD-0002", "BJ-001", 5))
        .await
        .expect(201);
    let step = pricing_step(&server, &order).await;
    assert_eq!(step["deployment_id"], rollout["deployments"][0]["id"]);
    assert_eq!(step["plugin"]["wit_version"], "0.1.0");
    assert_eq!(step["status"], "ok", "{step}");
    assert_eq!(step["logs"][0]["message"], "priced by a WIT 0.1.0 plugin");
    // "region price <fen> + 100 bp markup (WIT 0.1.0 plugin)": the input
    // reached it converted and its answer came back priced as it says.
    let explanation = step["output"][0]["explanation"].as_str().unwrap();
    let regional: i64 = explanation
        .strip_prefix("region price ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|fen| fen.parse().ok())
        .unwrap_or_else(|| panic!("{explanation}"));
    assert_eq!(
        order["lines"][0]["unit_price"].as_i64().unwrap(),
        regional + regional / 100
    );
}

async fn refused_before_going_live(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let manifest = publish(&server, hostile_pricing()).await;
    let hostile = format!("sha256:{}", manifest["hash"].as_str().unwrap());

    let cases = [
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": "nope@1.0.0", "config": {} }),
            "/changes/0/plugin",
            "no plugin",
        ),
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": "builtin:promotions", "config": {} }),
            "/changes/0/plugin",
            "promotion plugin",
        ),
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": { "tier_discount_bp": { "core": "lots" } } }),
            "/changes/0/config/tier_discount_bp/core",
            "",
        ),
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": hostile, "config": { "mode": "out-of-band-price" } }),
            "/changes/0/plugin",
            "smoke order",
        ),
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": hostile, "config": { "mode": "loop" } }),
            "/changes/0/plugin",
            "smoke order",
        ),
        (
            json!({ "region": "gd", "slot": "pricing", "plugin": null }),
            "/changes/0/plugin",
            "only a promotion slot",
        ),
        (
            json!({ "region": "gd", "slot": "pricing" }),
            "/changes/0/plugin",
            "required",
        ),
        (
            json!({ "region": "atlantis", "slot": "pricing", "plugin": "builtin:pricing-tiered" }),
            "",
            "",
        ),
    ];
    for (change, path, words) in cases {
        let reply = server
            .post(HQ, "/v1/deployments", json!({ "changes": [change] }))
            .await;
        let status = reply.status;
        let problem = reply.body;
        assert!(matches!(status, 403 | 422), "{change}: {status} {problem}");
        if !path.is_empty() {
            assert!(
                error_paths(&problem).iter().any(|p| p == path)
                    || problem["errors"].is_null()
                        && problem["detail"].as_str().unwrap().starts_with(path),
                "{change}: {problem}"
            );
        }
        assert!(problem.to_string().contains(words), "{change}: {problem}");
    }
    // A rollout is all or nothing: one bad change keeps the good one out.
    let mixed = json!({ "changes": [
        { "region": "hl", "slot": "pricing", "plugin": "builtin:pricing-tiered", "config": generous_pricing() },
        { "region": "gd", "slot": "pricing", "plugin": hostile, "config": { "mode": "panic" } },
    ]});
    server.post(HQ, "/v1/deployments", mixed).await.problem(422);
    // A canary's named dealers must exist and be of a region it changes:
    // ids are upper case, and a lower-case one would match nobody.
    let mut canary = pricing_change("gd", generous_pricing());
    canary["mode"] = json!("canary");
    canary["audience"] = json!({ "dealers": ["d-gd-0001", "D-BJ-0001", "D-GD-0001"] });
    let problem = server
        .post(HQ, "/v1/deployments", canary)
        .await
        .problem(422);
    assert_eq!(
        error_paths(&problem),
        ["/audience/dealers", "/audience/dealers"],
        "{problem}"
    );
    assert!(
        problem.to_string().contains("no dealer d-gd-0001"),
        "{problem}"
    );
    assert!(
        problem
            .to_string()
            .contains("D-BJ-0001 is a dealer of region bj"),
        "{problem}"
    );
    let history = server.get(HQ, "/v1/deployments").await.expect(200);
    assert_eq!(history["deployments"], json!([]));
    // The host kept serving throughout.
    server
        .place(GD_DEALER, "still-serving", one_line("BJ-001", 5))
        .await
        .expect(201);
}

#[tokio::test]
async fn refused_before_going_live_sqlite() {
    refused_before_going_live(Backend::Sqlite).await;
}

#[tokio::test]
async fn refused_before_going_live_postgres() {
    refused_before_going_live(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn guard_rolls_back_a_faulty_version(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let manifest = publish(&server, hostile_pricing()).await;
    // It prices small orders well (so it passes the smoke run) and large
    // ones at three times the base price: a bug that shows in production.
    let rollout = server
        .post(
            GD_ADMIN,
            "/v1/deployments",
            json!({ "changes": [{ "region": "gd", "slot": "pricing",
                "plugin": format!("hostile-plugin@{}", manifest["version"].as_str().unwrap()),
                "config": { "mode": "out-of-band-price", "from_quantity": 100 } }] }),
        )
        .await
        .expect(201);
    let id = rollout["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Pricing fails closed: each large order is rejected, nothing persisted,
    // until the guard has seen enough faults (20 calls, 20% by default).
    let mut rejected = 0;
    for n in 0..40 {
        let reply = server
            .place(GD_DEALER, &format!("big-{n}"), one_line("BJ-001", 100))
            .await;
        match reply.status {
            422 => rejected += 1,
            201 => break,
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(rejected >= 20, "{rejected} rejected before the rollback");
    eventually("the automatic rollback", || async {
        server.get(HQ, &format!("/v1/deployments/{id}")).await.body["state"] == "auto_rolled_back"
    })
    .await;
    let (_, by) = priced(&server, "D-GD-0001", "after-guard", 100).await;
    assert_eq!(by, None, "the brand directory's pricing decides again");
    let alerts = server
        .get(HQ, "/v1/alerts?kind=policy_rollback")
        .await
        .expect(200);
    let alert = &alerts["alerts"][0];
    assert_eq!(alert["region"], "gd");
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("hostile-plugin"),
        "{alert}"
    );
    let health = server.get(HQ, "/v1/plugins/health").await.expect(200);
    let hostile = health
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["plugin"]["name"] == "hostile-plugin")
        .expect("hostile plugin health");
    assert_eq!(hostile["quarantined"], true);
    // The same story in /metrics: guardrail faults until the breaker
    // quarantined the version, then calls skipped.
    let metrics = server.metrics_text().await;
    let plugin = [
        ("region", "gd"),
        ("kind", "pricing"),
        ("plugin", "hostile-plugin"),
    ];
    let series = |extra: (&'static str, &'static str)| [plugin.as_slice(), &[extra]].concat();
    let faults = metric(
        &metrics,
        "chanhost_plugin_faults_total",
        &series(("fault", "guardrail")),
    );
    let skipped = metric(
        &metrics,
        "chanhost_plugin_calls_total",
        &series(("outcome", "quarantined")),
    );
    let findings = metric(
        &metrics,
        "chanhost_plugin_guardrail_findings_total",
        &plugin,
    );
    assert!(faults >= Some(1.0) && findings >= faults, "{metrics}");
    assert!(skipped >= Some(1.0), "{metrics}");
    let quarantined = [("kind", "pricing"), ("plugin", "hostile-plugin")];
    assert_eq!(
        metric(&metrics, "chanhost_plugin_quarantined", &quarantined),
        Some(1.0)
    );
    let audit = server
        .get(HQ, "/v1/policy/audit?region=gd")
        .await
        .expect(200);
    assert_eq!(audit["entries"][0]["action"], "auto_rollback");
    assert_eq!(audit["entries"][0]["actor"], "system:guard");
}

#[tokio::test]
async fn guard_rolls_back_a_faulty_version_sqlite() {
    guard_rolls_back_a_faulty_version(Backend::Sqlite).await;
}

#[tokio::test]
async fn guard_rolls_back_a_faulty_version_postgres() {
    guard_rolls_back_a_faulty_version(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

async fn shadow_runs_record_differences(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let mut shadow = pricing_change("gd", generous_pricing());
    shadow["mode"] = json!("shadow");
    let rollout = server.post(HQ, "/v1/deployments", shadow).await.expect(201);
    let id = rollout["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut active_prices = Vec::new();
    for n in 0..6 {
        let (price, by) = priced(&server, "D-GD-0001", &format!("sh-{n}"), 5).await;
        assert_eq!(by, None, "a shadow never decides");
        active_prices.push(price);
    }
    // Another region's orders are not compared.
    server
        .place(HL_DEALER, "hl-1", one_line("BJ-001", 5))
        .await
        .expect(201);
    let path = format!("/v1/deployments/{id}/shadow");
    eventually("six shadow comparisons", || async {
        server.get(HQ, &path).await.body["orders_compared"] == 6
    })
    .await;
    let summary = server.get(GD_ADMIN, &path).await.expect(200);
    assert_eq!(summary["orders_differing"], 6, "{summary}");
    assert_eq!(summary["price_changed"], 6);
    assert_eq!(summary["verdict_changed"], 0);
    assert!(
        summary["revenue_impact_fen"].as_i64().unwrap() < 0,
        "{summary}"
    );
    assert_eq!(summary["differences"].as_array().unwrap().len(), 6);
    // Stopped, it compares no more.
    server
        .post_empty(HQ, &format!("/v1/deployments/{id}/stop"))
        .await
        .expect(200);
    priced(&server, "D-GD-0001", "sh-after", 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.get(HQ, &path).await.body["orders_compared"], 6);
}

#[tokio::test]
async fn shadow_runs_record_differences_sqlite() {
    shadow_runs_record_differences(Backend::Sqlite).await;
}

#[tokio::test]
async fn shadow_runs_record_differences_postgres() {
    shadow_runs_record_differences(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------

/// Two hosts on one PostgreSQL: a deployment made through one is live on
/// the other within its poll interval, and so is the rollback.
#[tokio::test]
async fn a_deployment_reaches_every_host_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let a = db.start().await;
    let b = db.start().await;
    let (baseline, _) = priced(&b, "D-GD-0001", "b-before", 5).await;
    let rollout = a
        .post(
            HQ,
            "/v1/deployments",
            pricing_change("gd", generous_pricing()),
        )
        .await
        .expect(201);
    let id = rollout["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("host b to follow", || async {
        let policy = b.get(HQ, "/v1/policy?region=gd").await.body;
        slot(&policy, "gd", "pricing")["deployment_id"] == id.as_str()
    })
    .await;
    let (price, by) = priced(&b, "D-GD-0001", "b-after", 5).await;
    assert!(price < baseline);
    assert_eq!(by.as_deref(), Some(id.as_str()));
    b.post(HQ, "/v1/regions/gd/rollback", json!({}))
        .await
        .expect(200);
    eventually("host a to follow the rollback", || async {
        let policy = a.get(HQ, "/v1/policy?region=gd").await.body;
        slot(&policy, "gd", "pricing")["source"] == "config"
    })
    .await;
}
