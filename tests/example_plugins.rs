//! The example plugins of `examples/plugins`, built as their README says
//! and run on their fixtures through the real `chanhost plugin test`:
//! the Rust ones with a nested cargo for `wasm32-wasip2`, the JavaScript
//! twin of the clearance with npm and componentize-js. Every case of every
//! fixture directory must pass, and the twins share one directory.
//!
//! The Rust components are built into `target/examples` (the outer cargo
//! holds the lock of the workspace's target directory while tests run).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use common::{chanhost, workspace};
use serde_json::Value;

fn examples() -> PathBuf {
    workspace().join("examples/plugins")
}

/// The fixtures of the near-expiry clearance, which both twins pass.
fn clearance_fixtures() -> PathBuf {
    examples().join("near-expiry-clearance/fixtures")
}

fn report(what: &str, output: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Builds an example crate's component with the workspace's `plugin`
/// profile (what `--release` is in a plugin crate of its own: LTO, one
/// codegen unit, abort on panic) and returns its path.
fn build_rust(package: &str) -> PathBuf {
    let target_dir = workspace().join("target/examples");
    let output = common::nested_cargo()
        .current_dir(workspace())
        .args(["build", "--locked", "--target", "wasm32-wasip2"])
        .args(["--profile", "plugin", "-p", package, "--target-dir"])
        .arg(&target_dir)
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "{}\n(is the target installed? `rustup target add wasm32-wasip2`)",
        report(&format!("building {package} for wasm32-wasip2"), &output)
    );
    let wasm = target_dir
        .join("wasm32-wasip2/plugin")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(wasm.exists(), "no {} after the build", wasm.display());
    wasm
}

/// npm in `dir`; a machine without npm fails the test, saying what to
/// install, rather than skipping the JavaScript example.
fn npm(dir: &Path, args: &[&str]) -> Output {
    Command::new("npm")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `npm {}` ({err}): building examples/plugins/near-expiry-clearance-js \
                 needs Node.js 20 or later with npm on the PATH",
                args.join(" ")
            )
        })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `output` exists and is newer than every one of `inputs` (and
/// every file directly in them, for directories).
fn up_to_date(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = modified(output) else {
        return false;
    };
    inputs.iter().all(|input| {
        let mut files = vec![input.clone()];
        if input.is_dir() {
            files.extend(
                std::fs::read_dir(input)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
        }
        files
            .iter()
            .all(|file| modified(file).is_some_and(|at| at <= built))
    })
}

/// `npm ci` then `npm run build` in the JavaScript example, as its README
/// says, each redone only when what it reads changed since it last ran
/// (as cargo does for the Rust ones); returns the component's path.
fn build_javascript() -> PathBuf {
    let dir = examples().join("near-expiry-clearance-js");
    let installed = dir.join("node_modules/.package-lock.json");
    if up_to_date(
        &installed,
        &[dir.join("package.json"), dir.join("package-lock.json")],
    ) {
        eprintln!("node_modules is up to date with package-lock.json: no `npm ci`");
    } else {
        let output = npm(&dir, &["ci", "--no-audit", "--no-fund"]);
        assert!(output.status.success(), "{}", report("npm ci", &output));
    }
    let wasm = dir.join("near-expiry-clearance.wasm");
    if up_to_date(
        &wasm,
        &[
            dir.join("src"),
            dir.join("package.json"),
            installed,
            workspace().join("wit/policy.wit"),
        ],
    ) {
        eprintln!("{} is newer than its sources: not rebuilt", wasm.display());
    } else {
        let output = npm(&dir, &["run", "build"]);
        assert!(
            output.status.success(),
            "{}",
            report("npm run build", &output)
        );
    }
    assert!(wasm.exists(), "no {} after the build", wasm.display());
    wasm
}

/// Runs `chanhost plugin test` on the component and the fixtures, text
/// and JSON, and checks that it exits 0 with every case (and there is one
/// per subdirectory) passed. Returns the JSON report.
fn assert_passes_fixtures(wasm: &Path, fixtures: &Path, plugin_name: &str) -> Value {
    let cases = std::fs::read_dir(fixtures)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().is_dir())
        .count();
    assert!(
        cases >= 4,
        "only {cases} fixtures in {}",
        fixtures.display()
    );

    let text = chanhost([
        OsStr::new("plugin"),
        OsStr::new("test"),
        wasm.as_os_str(),
        fixtures.as_os_str(),
    ]);
    let what = format!("plugin test {}", wasm.display());
    assert_eq!(text.status.code(), Some(0), "{}", report(&what, &text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("PASS")).count(),
        cases,
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{cases} cases: {cases} passed")),
        "{stdout}"
    );

    let json = chanhost([
        OsStr::new("plugin"),
        OsStr::new("test"),
        wasm.as_os_str(),
        fixtures.as_os_str(),
        OsStr::new("--json"),
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", report(&what, &json));
    let report: Value = serde_json::from_slice(&json.stdout).expect("plugin test --json");
    assert_eq!(report["plugin"]["name"], plugin_name, "{report:#}");
    assert_eq!(report["passed"], cases, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    for case in report["cases"].as_array().unwrap() {
        assert_eq!(case["passed"], true, "{case:#}");
        assert_eq!(case["fault"], Value::Null, "{case:#}");
    }
    report
}

/// The outputs of a report's cases, by case name.
fn outputs(report: &Value) -> Vec<(String, Value)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            (
                case["name"].as_str().unwrap().to_string(),
                case["output"].clone(),
            )
        })
        .collect()
}

#[test]
fn near_expiry_clearance_passes_its_fixtures() {
    let wasm = build_rust("near-expiry-clearance");
    assert_passes_fixtures(&wasm, &clearance_fixtures(), "near-expiry-clearance");
}

#[test]
fn dealer_stock_first_passes_its_fixtures() {
    let wasm = build_rust("dealer-stock-first");
    let report = assert_passes_fixtures(
        &wasm,
        &examples().join("dealer-stock-first/fixtures"),
        "dealer-stock-first",
    );
    // A key-account order that no warehouse covers alone ships nothing.
    let backordered = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == "04-key-account-no-warehouse-covers-alone-backorders")
        .expect("the key-account backorder case");
    assert_eq!(
        backordered["output"]["ok"]["allocations"],
        serde_json::json!([])
    );
}

#[test]
fn the_javascript_twin_passes_the_same_fixtures_and_refuses_the_same_configurations() {
    let js = build_javascript();
    let js_report = assert_passes_fixtures(&js, &clearance_fixtures(), "near-expiry-clearance-js");
    let rust = build_rust("near-expiry-clearance");
    let rust_report = assert_passes_fixtures(&rust, &clearance_fixtures(), "near-expiry-clearance");
    assert_eq!(outputs(&js_report), outputs(&rust_report));

    // Both refuse a bad configuration with the same errors at the same paths.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        r#"promotion_id = ""
region = "r01"
steps = [{ days_left = 30, off_bp = 1000 }, { days_left = 90, off_bp = 9500 }]
"#,
    )
    .unwrap();
    let input = clearance_fixtures().join("01-no-flagged-lots/input.json");
    let refusals: Vec<Value> = [&js, &rust]
        .iter()
        .map(|wasm| {
            let run = chanhost([
                OsStr::new("plugin"),
                OsStr::new("run"),
                wasm.as_os_str(),
                OsStr::new("--input"),
                input.as_os_str(),
                OsStr::new("--config"),
                bad.as_os_str(),
                OsStr::new("--json"),
            ]);
            assert_eq!(run.status.code(), Some(2), "{}", report("plugin run", &run));
            let run: Value = serde_json::from_slice(&run.stdout).unwrap();
            run["config_errors"].clone()
        })
        .collect();
    assert_eq!(refusals[0], refusals[1]);
    let paths: Vec<&str> = refusals[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["/promotion_id", "/steps/1/off_bp", "/steps/1/days_left",]
    );

    // It loads as the promotion world, importing nothing the host lacks.
    let check = chanhost([OsStr::new("plugin"), OsStr::new("check"), js.as_os_str()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        report("plugin check", &check)
    );
    let check: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(check["world"], "chanhost:policy/promotion-plugin@0.2.0");
}
