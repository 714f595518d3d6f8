//! The `chanhost` binary: eval, plugin check, and the benches' last lines.

mod common;

use std::process::Output;

use common::*;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `chanhost eval` of an example order with the example brand.
fn eval_example(region: &str, order: &str) -> Output {
    let examples = examples();
    let order = examples.join(format!("orders/{order}.json"));
    chanhost([
        "eval",
        "--config",
        examples.to_str().unwrap(),
        "--region",
        region,
        "--order",
        order.to_str().unwrap(),
    ])
}

#[test]
fn eval_prints_the_decision_and_trace_as_json() {
    let output = eval_example("hl", "hl-mid-autumn");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["status"], "accepted");
    assert_eq!(decision["free_goods"][0]["promotion_id"], "mid-autumn-10-2");
    assert_eq!(decision["trace"]["steps"].as_array().unwrap().len(), 4);
}

#[test]
fn eval_refuses_an_order_for_another_region() {
    let output = eval_example("gd", "hl-mid-autumn");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("belongs to region hl, not gd"));
}

#[test]
fn plugin_check_describes_a_good_component() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pricing.wasm");
    std::fs::write(
        &file,
        chanhost_bundled_plugins::find("pricing-tiered")
            .unwrap()
            .wasm,
    )
    .unwrap();
    let output = chanhost(["plugin", "check", file.to_str().unwrap()]);
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["loads"], true);
    assert_eq!(report["world"], "chanhost:policy/pricing-plugin@0.2.0");
    assert_eq!(report["description"]["name"], "pricing-tiered");
    assert!(report["description"]["config_schema"]["properties"]["quantity_breaks"].is_object());
    assert!(report["size_bytes"].as_u64().unwrap() > 10_000);
}

#[test]
fn plugin_check_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let not_wasm = dir.path().join("notes.wasm");
    std::fs::write(&not_wasm, "hello").unwrap();
    let output = chanhost(["plugin", "check", not_wasm.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["loads"], false);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .starts_with("not a valid WebAssembly component")
    );

    // A component that exports no policy interface.
    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, wat_component("(component)")).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&chanhost(["plugin", "check", empty.to_str().unwrap()]).stdout)
            .unwrap();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .starts_with("exports no chanhost policy interface"),
        "{report}"
    );
}

#[test]
fn plugin_check_loads_a_plugin_built_against_an_older_wit_version() {
    let file = chanhost_bundled_plugins::test_fixtures::PRICING_WIT_0_1_0;
    let output = chanhost(["plugin", "check", file]);
    assert!(output.status.success(), "{}", stdout(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["loads"], true);
    assert_eq!(report["world"], "chanhost:policy/pricing-plugin@0.1.0");
    assert_eq!(report["description"]["name"], "pricing-wit-0-1-0");
}

#[test]
fn plugin_check_refuses_a_wit_version_the_host_does_not_support() {
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("future.wasm");
    std::fs::write(
        &future,
        wat_component(
            r#"(component
                (core module $m (func (export "f") (result i32) i32.const 0))
                (core instance $i (instantiate $m))
                (func $describe (result u32) (canon lift (core func $i "f")))
                (instance $pricing (export "describe" (func $describe)))
                (export "chanhost:policy/pricing@0.9.0" (instance $pricing)))"#,
        ),
    )
    .unwrap();
    let output = chanhost(["plugin", "check", future.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["error"],
        "implements chanhost:policy/pricing@0.9.0, but this host supports versions 0.2.0, 0.1.0"
    );
}

/// Builds a component binary from WAT text.
fn wat_component(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// Runs a bench; returns its whole output and its last line as
/// `(key, value)` pairs, each value a positive number.
fn bench(args: &[&str]) -> (String, Vec<(String, f64)>) {
    let output = chanhost(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    let last = text.lines().last().unwrap().to_string();
    let pairs = last
        .split(' ')
        .map(|kv| {
            let (key, value) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {last}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {last}"));
            assert!(value > 0.0, "{last}");
            (key.to_string(), value)
        })
        .collect();
    (text, pairs)
}

fn keys(pairs: &[(String, f64)]) -> Vec<&str> {
    pairs.iter().map(|(key, _)| key.as_str()).collect()
}

#[test]
fn bench_pipeline_ends_with_its_machine_readable_line() {
    let (_, last) = bench(&["bench", "pipeline", "--iterations", "20"]);
    assert_eq!(keys(&last), ["pipeline_us", "native_us", "ratio"]);
}

#[test]
fn bench_pipeline_runs_a_given_plugin_set_on_the_bench_order() {
    use chanhost_bundled_plugins::test_fixtures as fixtures;
    // One plugin next to the file (a relative path), the others absolute.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures::HOSTILE_SOURCING, dir.path().join("sourcing.wasm")).unwrap();
    let file = dir.path().join("plugins.toml");
    std::fs::write(
        &file,
        format!(
            "[plugins.anti_diversion]\nplugin = {:?}\n\
             [plugins.pricing]\nplugin = {:?}\n\
             [[plugins.promotions]]\nid = \"one-percent\"\nplugin = {:?}\n\
             [plugins.sourcing]\nplugin = \"sourcing.wasm\"\n",
            fixtures::HOSTILE_ANTI_DIVERSION,
            fixtures::HOSTILE_PLUGIN,
            fixtures::HOSTILE_PROMOTION,
        ),
    )
    .unwrap();
    let (text, last) = bench(&[
        "bench",
        "pipeline",
        "--iterations",
        "20",
        "--plugins",
        file.to_str().unwrap(),
    ]);
    assert_eq!(keys(&last), ["pipeline_us"]);
    assert!(text.contains("order: 10 lines, Accepted"), "{text}");
    for (slot, plugin) in [
        ("anti_diversion", "hostile-anti-diversion"),
        ("pricing", "hostile-plugin"),
        ("promotions/one-percent", "hostile-promotion"),
        ("sourcing", "hostile-sourcing"),
    ] {
        let step = format!("{slot:<22} {plugin}");
        assert!(text.contains(&step), "{step} in {text}");
    }
}

#[test]
fn bench_pipeline_refuses_a_plugins_file_with_other_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("region.toml");
    std::fs::write(
        &file,
        "[region]\nid = \"x\"\n[plugins.pricing]\nplugin = \"builtin:pricing-tiered\"\n",
    )
    .unwrap();
    let output = chanhost(["bench", "pipeline", "--plugins", file.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "unexpected table `region`; the file holds only a region's `[plugins…]` tables"
        ),
        "{stderr}"
    );
}

#[test]
fn bench_load_ends_with_its_machine_readable_line() {
    let (text, last) = bench(&["bench", "load", "--regions", "2"]);
    assert_eq!(keys(&last), ["load_ms", "rss_mb"]);
    assert!(text.contains("warm load: 2 regions, 8 slots"), "{text}");
}
