//! Shared helpers of the integration tests: the example brand, small test
//! brands written to a temporary directory, the hostile plugins, and (in
//! `server`) the real service over HTTP on a database of its own.
#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};

use chanhost::config::{BrandConfig, ConfigError};
use chanhost::policy::decision::Decision;
use chanhost::policy::{ComponentCache, OrderContext, PolicyEngine, PolicySet};
#[allow(unused_imports)]
pub use chanhost_bundled_plugins::test_fixtures::{
    HOSTILE_ANTI_DIVERSION, HOSTILE_PLUGIN as HOSTILE_PRICING, HOSTILE_PROMOTION, HOSTILE_SOURCING,
};

/// The `chanhost` binary under test, sharing the tests' compiled-component
/// cache (so no test compiles a plugin another already compiled).
pub fn chanhost_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chanhost"));
    command.env(
        "CHANHOST_CACHE_DIR",
        workspace().join("target/test-component-cache"),
    );
    command
}

/// Runs `chanhost <args>` to completion.
pub fn chanhost<I: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = I>,
) -> std::process::Output {
    chanhost_command()
        .args(args)
        .output()
        .expect("run chanhost")
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A cargo for a build of its own inside a test (a plugin crate for
/// `wasm32-wasip2`), without the outer cargo's variables: they describe the
/// host's test build, not this one.
pub fn nested_cargo() -> std::process::Command {
    let mut command =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && key != "CARGO_HOME"
            || key.starts_with("__CARGO")
            || key == "CARGO"
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS"
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
        {
            command.env_remove(key.as_ref());
        }
    }
    command
}

pub fn examples() -> PathBuf {
    workspace().join("examples/brand")
}

/// A compiled-component cache shared by the test runs.
pub fn cache() -> ComponentCache {
    ComponentCache::at(workspace().join("target/test-component-cache"))
}

pub fn load(dir: &Path) -> Result<PolicySet, ConfigError> {
    let brand = BrandConfig::load(dir)?;
    let engine = PolicyEngine::new(brand.hq.limits.clone(), cache()).expect("engine");
    PolicySet::load(&brand, engine)
}

pub fn example_policies() -> PolicySet {
    load(&examples()).expect("the example brand loads")
}

pub fn example_order(name: &str) -> OrderContext {
    let path = examples().join(format!("orders/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A small brand in a temporary directory: the example HQ and catalogue,
/// a region `r1` whose `[plugins…]` tables are `plugins_toml`, and its
/// neighbour `r2` on HQ's defaults. `hq_extra` is appended to `hq.toml`.
pub struct TestBrand {
    pub dir: tempfile::TempDir,
}

impl TestBrand {
    pub fn new(plugins_toml: &str, hq_extra: &str) -> TestBrand {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("regions")).unwrap();
        let hq = std::fs::read_to_string(examples().join("hq.toml")).unwrap();
        std::fs::write(root.join("hq.toml"), format!("{hq}\n{hq_extra}")).unwrap();
        std::fs::copy(
            examples().join("catalogue.toml"),
            root.join("catalogue.toml"),
        )
        .unwrap();
        std::fs::write(
            root.join("regions/r1.toml"),
            format!("[region]\nid = \"r1\"\nname = \"Region One\"\nneighbours = [\"r2\"]\n\n{plugins_toml}"),
        )
        .unwrap();
        std::fs::write(
            root.join("regions/r2.toml"),
            "[region]\nid = \"r2\"\nname = \"Region Two\"\nneighbours = [\"r1\"]\n",
        )
        .unwrap();
        TestBrand { dir }
    }

    /// Replaces `from` with `to` in `hq.toml` (which must contain it).
    pub fn edit_hq(&self, from: &str, to: &str) {
        let path = self.path().join("hq.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "hq.toml has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn load(&self) -> Result<PolicySet, ConfigError> {
        load(self.path())
    }
}

/// A `[plugins.<slot>]` table naming a hostile plugin in `mode`.
pub fn hostile(slot: &str, wasm: &str, mode: &str) -> String {
    if slot == "promotions" {
        format!(
            "[[plugins.promotions]]\nid = \"hostile\"\nplugin = \"{wasm}\"\nconfig = {{ mode = \"{mode}\" }}\n"
        )
    } else {
        format!("[plugins.{slot}]\nplugin = \"{wasm}\"\nconfig = {{ mode = \"{mode}\" }}\n")
    }
}

/// A five-line order in region `r` with stock in `r` and its neighbour.
pub fn order_in(region: &str, id: &str) -> OrderContext {
    let neighbour = if region == "r1" { "r2" } else { "r1" };
    let json = serde_json::json!({
        "order": {
            "id": id, "dealer_id": "D-1", "region": region, "ship_to": region,
            "placed_at": 1_789_437_600_000i64,
            "lines": [
                {"line_no": 1, "sku": "BJ-001", "quantity": 12},
                {"line_no": 2, "sku": "WN-001", "quantity": 6},
                {"line_no": 3, "sku": "LA-001", "quantity": 20},
                {"line_no": 4, "sku": "BJ-002", "quantity": 3},
                {"line_no": 5, "sku": "WN-002", "quantity": 2},
            ]
        },
        "dealer": {
            "id": "D-1", "region": region, "tier": "core", "class": "dealer", "territory": [region],
            "credit_limit": 100_000_000i64, "outstanding_balance": 0, "usual_order_cases": 40
        },
        "warehouses": [
            {"id": format!("WH-{region}"), "region": region, "level": "region",
             "available": {"BJ-001": 10, "WN-001": 100, "LA-001": 100, "BJ-002": 100, "WN-002": 100}},
            {"id": format!("WH-{neighbour}"), "region": neighbour, "level": "region",
             "available": {"BJ-001": 100, "WN-001": 100, "LA-001": 100, "BJ-002": 100, "WN-002": 100}},
        ]
    });
    serde_json::from_value(json).unwrap()
}

/// The decision with what the calls cost (time, fuel) zeroed: a warm
/// instance spends less than a fresh one on the same answer.
pub fn without_costs(mut decision: Decision) -> Decision {
    decision.trace.total_us = 0;
    for step in &mut decision.trace.steps {
        step.duration_us = 0;
        step.fuel_used = 0;
    }
    decision
}

pub fn reason_codes(decision: &Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| r.code.as_str()).collect()
}
