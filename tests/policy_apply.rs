//! `chanhost policy apply` against the real server: a copy of the example
//! regions with gd's promotions and bj's pricing edited is planned without
//! touching the server, applied as one rollout that prices the next order,
//! then matches; a configuration the plugin rejects prints the server's
//! problems and changes nothing.

mod common;

use std::path::Path;
use std::process::Output;

use common::server::*;
use common::*;
use serde_json::Value;

/// `chanhost policy <args>` against `server` as HQ (URL and token from the
/// environment, as an operator's shell would have them).
async fn policy(server: &TestServer, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_chanhost"))
        .arg("policy")
        .args(args)
        .env("CHANHOST_URL", &server.base)
        .env("CHANHOST_TOKEN", HQ)
        .env(
            "CHANHOST_CACHE_DIR",
            workspace().join("target/test-component-cache"),
        )
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run chanhost policy")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The example regions, flat in a temporary folder (no hq.toml: only the
/// slots the files set are managed).
fn example_regions() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(examples().join("regions")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn append(dir: &Path, file: &str, toml: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n{toml}")).unwrap();
}

/// bj's own pricing: HQ's default with core dealers at `core_bp`.
fn bj_pricing(core_bp: i64) -> String {
    format!(
        "[plugins.pricing]\nplugin = \"builtin:pricing-tiered\"\n[plugins.pricing.config]\n\
         tier_discount_bp = {{ strategic = 600, core = {core_bp}, standard = 0 }}\n\
         quantity_breaks = [\n    {{ min_cases = 50, discount_bp = 100 }},\n    \
         {{ min_cases = 200, discount_bp = 200 }},\n]\n"
    )
}

/// A second promotion slot for gd: 50 yuan off from 1,000 yuan.
const GD_WEEKEND: &str = r#"[[plugins.promotions]]
id = "apply-weekend"
plugin = "builtin:promotions"
[[plugins.promotions.config.promotions]]
id = "weekend-50"
name = "满1000减50"
kind = { type = "spend_threshold", threshold = 100000, off = 5000 }
"#;

fn slot<'a>(policy: &'a Value, region: &str, slot: &str) -> &'a Value {
    policy["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["region"] == region)
        .and_then(|r| r["slots"].as_array())
        .and_then(|slots| slots.iter().find(|s| s["slot"] == slot))
        .unwrap_or_else(|| panic!("no slot {slot} in region {region}: {policy}"))
}

async fn plan_apply_and_price(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let folder = example_regions();
    let dir = folder.path();
    let dir_arg = dir.to_str().unwrap();
    edit(dir, "gd.toml", "threshold = 500000", "threshold = 400000");
    append(dir, "gd.toml", GD_WEEKEND);
    append(dir, "bj.toml", &bj_pricing(400));

    // The plan, in region then slot order; the server is untouched.
    let before = server.get(HQ, "/v1/policy").await.expect(200);
    let planned = succeeded(&policy(&server, &["apply", dir_arg, "--dry-run"]).await);
    let expected = [
        "region bj\n",
        "  ~ pricing  pricing-tiered@1.0.0: configuration\n",
        "      /tier_discount_bp/core: 300 → 400\n",
        "region gd\n",
        "  + promotions/apply-weekend  promotions@1.0.0 (new promotion)\n",
        "      /promotions: (none) → [{\"id\":\"weekend-50\",",
        "  ~ promotions/south-low-alcohol  promotions@1.0.0: configuration\n",
        "      /promotions/1/kind/threshold: 500000 → 400000\n",
        "Plan: 3 changes in 2 regions",
        "Dry run: nothing applied.",
    ];
    let mut at = 0;
    for line in expected {
        let found = planned[at..]
            .find(line)
            .unwrap_or_else(|| panic!("plan lacks {line:?} (in order):\n{planned}"));
        at += found + line.len();
    }
    assert!(!planned.contains("region sh"), "{planned}");
    let aliased = succeeded(&policy(&server, &["plan", dir_arg]).await);
    assert_eq!(aliased, planned);
    assert_eq!(server.get(HQ, "/v1/policy").await.expect(200), before);

    // Applied as one rollout.
    let applied = succeeded(
        &policy(
            &server,
            &["apply", dir_arg, "--yes", "--note", "policy_apply test"],
        )
        .await,
    );
    assert!(applied.contains("Rollout "), "{applied}");
    for deployed in [
        "bj pricing",
        "gd promotions/south-low-alcohol",
        "gd promotions/apply-weekend",
    ] {
        assert!(applied.contains(deployed), "{applied}");
    }
    let after = server.get(HQ, "/v1/policy").await.expect(200);
    let bj = slot(&after, "bj", "pricing");
    assert_eq!(bj["source"], "deployment", "{bj}");
    assert_eq!(bj["config"]["tier_discount_bp"]["core"], 400);
    let south = slot(&after, "gd", "promotions/south-low-alcohol");
    assert_eq!(south["source"], "deployment");
    assert_eq!(
        south["config"]["promotions"][1]["kind"]["threshold"],
        400000
    );
    let weekend = slot(&after, "gd", "promotions/apply-weekend");
    assert_eq!(weekend["source"], "deployment");
    assert_eq!(weekend["plugin"]["name"], "promotions");
    // Slots the folder leaves out stay as they were.
    assert_eq!(
        slot(&after, "bj", "sourcing"),
        slot(&before, "bj", "sourcing")
    );
    assert_eq!(
        slot(&after, "gd", "pricing"),
        slot(&before, "gd", "pricing")
    );

    // 4 cases of BJ-001 (475,200 fen before the tier discount) reach the
    // lowered spend threshold and the new promotion's.
    let order = server
        .place(GD_DEALER, "after-apply-1", one_line("BJ-001", 4))
        .await
        .expect(201);
    let id = order["id"].as_str().expect("order id");
    let decision = server
        .get(HQ, &format!("/v1/orders/{id}/decision"))
        .await
        .expect(200);
    let promotions: Vec<&str> = decision["decision"]["adjustments"]
        .as_array()
        .expect("adjustments")
        .iter()
        .filter_map(|a| a["promotion_id"].as_str())
        .collect();
    assert!(promotions.contains(&"weekend-50"), "{promotions:?}");
    assert!(promotions.contains(&"spend-5k"), "{promotions:?}");

    // Now the folder and the server agree.
    let again = succeeded(&policy(&server, &["apply", dir_arg, "--dry-run"]).await);
    assert!(again.starts_with("No changes"), "{again}");
}

async fn rejected_config_prints_the_problems(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let folder = example_regions();
    let dir = folder.path();
    append(dir, "bj.toml", &bj_pricing(9000));
    let before = server.get(HQ, "/v1/policy").await.expect(200);

    let output = policy(&server, &["apply", dir.to_str().unwrap(), "--yes"]).await;
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    assert!(
        stderr.contains("/changes/0/config/tier_discount_bp/core (bj pricing):"),
        "{stderr}"
    );
    assert!(stderr.contains("0..=5000"), "{stderr}");
    assert!(stderr.contains("nothing was deployed"), "{stderr}");
    assert_eq!(server.get(HQ, "/v1/policy").await.expect(200), before);

    // A region file the server does not know is refused before anything.
    std::fs::write(
        dir.join("xx.toml"),
        "[region]\nid = \"xx\"\nname = \"Nowhere\"\n",
    )
    .unwrap();
    let output = policy(&server, &["apply", dir.to_str().unwrap(), "--dry-run"]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("the server has no region xx"), "{stderr}");
}

#[tokio::test]
async fn plan_apply_and_price_sqlite() {
    plan_apply_and_price(Backend::Sqlite).await;
}

#[tokio::test]
async fn plan_apply_and_price_postgres() {
    plan_apply_and_price(Backend::Postgres).await;
}

#[tokio::test]
async fn rejected_config_prints_the_problems_sqlite() {
    rejected_config_prints_the_problems(Backend::Sqlite).await;
}

#[tokio::test]
async fn rejected_config_prints_the_problems_postgres() {
    rejected_config_prints_the_problems(Backend::Postgres).await;
}

/// A region file naming a local component: planned from the file itself,
/// refused without a signature, then uploaded signed with `--key` and
/// deployed; afterwards it is referenced by hash and nothing changes.
async fn local_component_is_uploaded_signed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let dir_arg = dir.to_str().unwrap();
    let wasm = std::fs::read(HOSTILE_PRICING).expect("the hostile pricing component");
    std::fs::write(dir.join("pricing.wasm"), &wasm).unwrap();
    let hash = chanhost::policy::plugin::content_hash(&wasm);
    std::fs::copy(examples().join("regions/bj.toml"), dir.join("bj.toml")).unwrap();
    append(
        dir,
        "bj.toml",
        "[plugins.pricing]\nplugin = \"pricing.wasm\"\nconfig = { mode = \"ok\" }\n",
    );

    let planned = succeeded(&policy(&server, &["plan", dir_arg]).await);
    assert!(
        planned.contains(
            "region bj\n  ~ pricing  pricing-tiered@1.0.0 → hostile-plugin@0.0.1 (uploads "
        ),
        "{planned}"
    );
    assert!(planned.contains("Plan: 1 change in 1 region"), "{planned}");
    let registered = format!("/v1/plugins/{hash}");
    server.get(HQ, &registered).await.problem(404);

    let unsigned = policy(&server, &["apply", dir_arg, "--yes"]).await;
    assert!(!unsigned.status.success());
    assert!(
        text(&unsigned.stderr).contains("has no signature"),
        "{}",
        text(&unsigned.stderr)
    );
    server.get(HQ, &registered).await.problem(404);

    let key = workspace().join("examples/keys/demo-publisher.key");
    let applied = succeeded(
        &policy(
            &server,
            &["apply", dir_arg, "--yes", "--key", key.to_str().unwrap()],
        )
        .await,
    );
    assert!(
        applied.contains("Uploaded hostile-plugin@0.0.1"),
        "{applied}"
    );
    assert!(applied.contains("signed by demo-publisher"), "{applied}");
    let manifest = server.get(HQ, &registered).await.expect(200);
    assert_eq!(manifest["publisher"], "demo-publisher");
    let after = server.get(HQ, "/v1/policy?region=bj").await.expect(200);
    let pricing = slot(&after, "bj", "pricing");
    assert_eq!(pricing["plugin"]["hash"], hash.as_str());
    assert_eq!(pricing["config"]["mode"], "ok");

    let again = succeeded(&policy(&server, &["plan", dir_arg]).await);
    assert!(again.starts_with("No changes"), "{again}");
}

#[tokio::test]
async fn local_component_is_uploaded_signed_sqlite() {
    local_component_is_uploaded_signed(Backend::Sqlite).await;
}

#[tokio::test]
async fn local_component_is_uploaded_signed_postgres() {
    local_component_is_uploaded_signed(Backend::Postgres).await;
}
