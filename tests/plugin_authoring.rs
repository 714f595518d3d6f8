//! `chanhost plugin run` and `chanhost plugin test` on good and bad
//! plugins, through the real binary: the output and the exit codes the
//! help text documents (0 ran / passed, 1 faulted / a case failed, 2
//! nothing could run), and load errors that name what is wrong.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use chanhost::policy::Limits;
use chanhost_bundled_plugins::test_fixtures::{HOSTILE_PLUGIN, PRICING_WIT_0_1_0};
use serde_json::{Value, json};

use common::workspace;

fn chanhost(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chanhost"))
        .args(args)
        .env(
            "CHANHOST_CACHE_DIR",
            workspace().join("target/test-component-cache"),
        )
        .output()
        .expect("run chanhost")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(output), stderr(output)))
}

/// A temporary directory to write components, inputs and fixtures in.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A reference plugin's component, as a file.
    fn reference(&self, name: &str) -> PathBuf {
        let plugin = chanhost_bundled_plugins::find(name).unwrap();
        self.write(&format!("{name}.wasm"), plugin.wasm)
    }

    /// What `plugin run --example-input <kind>` prints, as a file.
    fn example_input(&self, kind: &str) -> PathBuf {
        let output = chanhost(&["plugin", "run", "--example-input", kind]);
        assert!(output.status.success(), "{}", stderr(&output));
        self.write(&format!("{kind}-input.json"), &output.stdout)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn run_prints_output_fuel_time_memory_of_a_good_plugin() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let input = scratch.example_input("pricing");

    let output = chanhost(&[
        "plugin",
        "run",
        arg(&plugin),
        "--input",
        arg(&input),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["plugin"]["name"], "pricing-tiered");
    assert_eq!(report["ok"], true);
    assert_eq!(report["fault"], Value::Null);
    let lines = report["output"]["ok"].as_array().unwrap();
    let line_nos: Vec<&Value> = lines.iter().map(|l| &l["line-no"]).collect();
    assert_eq!(line_nos, [1, 2, 3]);
    // A core dealer gets 3% off the base price by default: ¥1,188.00 → ¥1,152.36.
    assert_eq!(lines[0]["unit-price"], 115_236);
    assert!(report["fuel_used"].as_u64().unwrap() > 0);
    assert!(report["memory_high_water_bytes"].as_u64().unwrap() > 0);
    assert!(report["duration_us"].is_u64());
    assert_eq!(report["limits"]["fuel"], Limits::default().fuel);

    let text = chanhost(&["plugin", "run", arg(&plugin), "--input", arg(&input)]);
    assert_eq!(text.status.code(), Some(0));
    let text = stdout(&text);
    for label in [
        "plugin:    pricing-tiered 1.0.0 (pricing, WIT 0.2.0)",
        "output:",
        "\"unit-price\": 115236",
        "fuel:",
        "time:",
        "memory:",
        "log:",
    ] {
        assert!(text.contains(label), "no {label:?} in:\n{text}");
    }
}

#[test]
fn every_example_input_runs_cleanly_through_its_reference_plugin() {
    let scratch = Scratch::new();
    for (kind, reference) in [
        ("anti-diversion", "anti-diversion"),
        ("pricing", "pricing-tiered"),
        ("promotion", "promotions"),
        ("sourcing", "sourcing-region-first"),
    ] {
        let plugin = scratch.reference(reference);
        let input = scratch.example_input(kind);
        let output = chanhost(&[
            "plugin",
            "run",
            arg(&plugin),
            "--input",
            arg(&input),
            "--json",
        ]);
        assert_eq!(output.status.code(), Some(0), "{kind}: {}", stderr(&output));
        let report = json_of(&output);
        assert!(
            report["output"]["ok"].is_object()
                || report["output"]["ok"].is_array()
                || report["output"]["ok"].is_string(),
            "{kind}: {report}"
        );
        let example: Value = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
        assert_eq!(
            example["order"]["lines"].as_array().unwrap().len(),
            3,
            "{kind}"
        );
    }
}

#[test]
fn run_of_a_plugin_built_against_an_older_wit_version() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let output = chanhost(&[
        "plugin",
        "run",
        PRICING_WIT_0_1_0,
        "--input",
        arg(&input),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["plugin"]["wit_version"], "0.1.0");
    assert_eq!(report["output"]["ok"].as_array().unwrap().len(), 3);
}

#[test]
fn run_of_a_trapping_plugin_shows_the_trap_and_its_backtrace() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let config = scratch.write("panic.toml", "mode = \"panic\"\n");
    let args = [
        "plugin",
        "run",
        HOSTILE_PLUGIN,
        "--input",
        arg(&input),
        "--config",
        arg(&config),
    ];

    let output = chanhost(&[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["ok"], false);
    assert_eq!(report["output"], Value::Null);
    assert_eq!(report["fault"]["code"], "trap");
    assert_eq!(report["fault"]["during"], "call");
    assert!(
        report["fault"]["message"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{report}"
    );
    let functions: Vec<&str> = report["backtrace"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|frame| frame["function"].as_str())
        .collect();
    assert!(
        functions.contains(&"hostile_common::misbehave"),
        "{functions:?}"
    );
    let logs = report["logs"].to_string();
    assert!(logs.contains("hostile-plugin panics on purpose"), "{logs}");

    let text = chanhost(&args);
    assert_eq!(text.status.code(), Some(1));
    let text = stdout(&text);
    assert!(
        text.contains("fault:     trapped: wasm trap: wasm `unreachable` instruction executed"),
        "{text}"
    );
    assert!(text.contains("backtrace:"), "{text}");
    assert!(
        text.contains(": hostile_common::misbehave in hostile_plugin.wasm"),
        "{text}"
    );
}

#[test]
fn run_of_a_plugin_out_of_fuel_names_the_limit() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let config = scratch.write("loop.toml", "mode = \"loop\"\n");
    let output = chanhost(&[
        "plugin",
        "run",
        HOSTILE_PLUGIN,
        "--input",
        arg(&input),
        "--config",
        arg(&config),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["fault"]["code"], "out-of-fuel");
    assert_eq!(report["fuel_used"], Limits::default().fuel);
}

#[test]
fn run_refuses_an_input_or_a_configuration_that_does_not_fit() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let input = scratch.example_input("pricing");

    let mut negative = serde_json::from_slice::<Value>(&std::fs::read(&input).unwrap()).unwrap();
    negative["order"]["lines"][0]["quantity"] = json!(-20);
    let negative = scratch.write("negative.json", negative.to_string());
    let output = chanhost(&["plugin", "run", arg(&plugin), "--input", arg(&negative)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("/order/lines/0/quantity: expected an integer that fits a u32, got -20"),
        "{}",
        stderr(&output)
    );

    let config = scratch.write("config.toml", "[tier_discount_bp]\ncore = 9000\n");
    let output = chanhost(&[
        "plugin",
        "run",
        arg(&plugin),
        "--input",
        arg(&input),
        "--config",
        arg(&config),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output);
    assert_eq!(report["config_errors"][0]["path"], "/tier_discount_bp/core");

    let output = chanhost(&[
        "plugin",
        "run",
        arg(&plugin),
        "--input",
        arg(&scratch.path("missing.json")),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
}

/// Components the host refuses, each with the name its error must give.
fn refused_components() -> Vec<(&'static str, Vec<u8>, String)> {
    // Functions that return a number: enough for the host to read the
    // interface's shape before it checks the types.
    let funcs = |names: &[&str]| {
        let mut wat = String::from(
            "(core module $m (func (export \"f\") (result i32) i32.const 0))\n\
             (core instance $i (instantiate $m))\n",
        );
        for name in names {
            wat.push_str(&format!(
                "(func ${name} (result u32) (canon lift (core func $i \"f\")))\n"
            ));
        }
        let exports: String = names
            .iter()
            .map(|name| format!("(export \"{name}\" (func ${name}))"))
            .collect();
        format!("{wat}(instance $exports {exports})\n")
    };
    let component = |body: String| wat::parse_str(format!("(component {body})")).unwrap();
    let max = Limits::default().max_component_bytes;
    vec![
        (
            "wrong world",
            component(format!(
                "{}(export \"wasi:cli/run@0.2.0\" (instance $exports))",
                funcs(&["run"])
            )),
            "exports no chanhost policy interface (it exports: wasi:cli/run@0.2.0)".to_string(),
        ),
        (
            "missing export",
            component(format!(
                "{}(export \"chanhost:policy/pricing@0.2.0\" (instance $exports))",
                funcs(&["describe", "configure"])
            )),
            "exports chanhost:policy/pricing@0.2.0 without its `price` function".to_string(),
        ),
        (
            "forbidden import",
            component(format!(
                "(import \"acme:db/query\" (instance (export \"run\" (func (result u32)))))\n{}\
                 (export \"chanhost:policy/pricing@0.2.0\" (instance $exports))",
                funcs(&["describe", "configure", "price"])
            )),
            "imports `acme:db/query`, which this host does not offer".to_string(),
        ),
        (
            "wasi import the host lacks",
            component(format!(
                "(import \"wasi:http/outgoing-handler@0.2.0\" (instance (export \"handle\" (func (result u32)))))\n{}\
                 (export \"chanhost:policy/pricing@0.2.0\" (instance $exports))",
                funcs(&["describe", "configure", "price"])
            )),
            "cannot be linked: component imports instance `wasi:http/outgoing-handler@0.2.0`".to_string(),
        ),
        (
            "wrong types",
            component(format!(
                "{}(export \"chanhost:policy/pricing@0.2.0\" (instance $exports))",
                funcs(&["describe", "configure", "price"])
            )),
            "its exports do not match the chanhost:policy/pricing-plugin@0.2.0 world: `describe` of chanhost:policy/pricing@0.2.0 has another type".to_string(),
        ),
        (
            "oversize",
            padded(
                &chanhost_bundled_plugins::find("pricing-tiered")
                    .unwrap()
                    .wasm,
                max + 1,
            ),
            format!("above the {max} byte limit"),
        ),
    ]
}

/// `wasm` with a custom section appended so that it is `size` bytes long.
fn padded(wasm: &[u8], size: usize) -> Vec<u8> {
    let name = b"padding";
    let payload_len = size - wasm.len() - 1 - 5 - 1 - name.len();
    let mut out = wasm.to_vec();
    out.push(0); // custom section
    // A 5-byte LEB128 length, so the total is exact.
    let mut len = (1 + name.len() + payload_len) as u32;
    for i in 0..5 {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        out.push(if i < 4 { byte | 0x80 } else { byte });
    }
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.resize(size, 0);
    out
}

#[test]
fn refused_components_are_named_with_what_is_wrong() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let fixtures = scratch.write("fixtures/case/input.json", std::fs::read(&input).unwrap());
    let fixtures = fixtures.parent().unwrap().parent().unwrap().to_path_buf();
    for (what, wasm, named) in refused_components() {
        let file = scratch.write(&format!("{}.wasm", what.replace(' ', "-")), wasm);

        let run = chanhost(&["plugin", "run", arg(&file), "--input", arg(&input)]);
        assert_eq!(run.status.code(), Some(2), "{what}: {}", stderr(&run));
        assert!(stderr(&run).contains(&named), "{what}: {}", stderr(&run));

        let test = chanhost(&["plugin", "test", arg(&file), arg(&fixtures), "--json"]);
        assert_eq!(test.status.code(), Some(2), "{what}");
        assert!(
            json_of(&test)["error"].as_str().unwrap().contains(&named),
            "{what}"
        );

        // Upload and region loading share the check's `Plugin::load`.
        let check = json_of(&chanhost(&["plugin", "check", arg(&file)]));
        assert!(
            check["error"].as_str().unwrap().contains(&named),
            "{what}: {check}"
        );
    }
}

/// What the reference pricing plugin answers for the example input, line
/// by line: (unit price, explanation).
type PricedLines = [(i64, &'static str); 3];

/// With its default configuration: a core dealer gets 3% off.
const CORE_DEALER: PricedLines = [
    (
        115_236,
        "base ¥1,188.00 → regional ¥1,188.00 (+0 bp) → core tier ¥1,152.36 (−300 bp)",
    ),
    (
        92_926,
        "base ¥958.00 → regional ¥958.00 (+0 bp) → core tier ¥929.26 (−300 bp)",
    ),
    (
        39_440,
        "base ¥428.00 → regional ¥406.60 (-500 bp) → core tier ¥394.40 (−300 bp)",
    ),
];

/// With `tier_discount_bp.core = 0`.
const NO_TIER_DISCOUNT: PricedLines = [
    (
        118_800,
        "base ¥1,188.00 → regional ¥1,188.00 (+0 bp) → core tier ¥1,188.00 (−0 bp)",
    ),
    (
        95_800,
        "base ¥958.00 → regional ¥958.00 (+0 bp) → core tier ¥958.00 (−0 bp)",
    ),
    (
        40_660,
        "base ¥428.00 → regional ¥406.60 (-500 bp) → core tier ¥406.60 (−0 bp)",
    ),
];

fn expected_json(lines: PricedLines) -> String {
    let lines: Vec<Value> = lines
        .iter()
        .zip(1..)
        .map(|((price, explanation), line_no)| {
            json!({"line-no": line_no, "unit-price": price, "explanation": explanation})
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "ok": lines })).unwrap()
}

/// A fixture directory `dir` for the reference pricing plugin with the
/// example input: cases `core-dealer` (expecting `core_dealer`) and
/// `no-tier-discount`.
fn pricing_fixtures(scratch: &Scratch, dir: &str, core_dealer: PricedLines) -> PathBuf {
    let input = std::fs::read(scratch.example_input("pricing")).unwrap();
    scratch.write(&format!("{dir}/core-dealer/input.json"), &input);
    scratch.write(
        &format!("{dir}/core-dealer/expected.json"),
        expected_json(core_dealer),
    );
    scratch.write(&format!("{dir}/no-tier-discount/input.json"), &input);
    scratch.write(
        &format!("{dir}/no-tier-discount/config.toml"),
        "[tier_discount_bp]\ncore = 0\n",
    );
    scratch.write(
        &format!("{dir}/no-tier-discount/expected.json"),
        expected_json(NO_TIER_DISCOUNT),
    );
    scratch.path(dir)
}

#[test]
fn plugin_test_passes_a_fixture_directory_that_matches() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let fixtures = pricing_fixtures(&scratch, "good", CORE_DEALER);

    let output = chanhost(&["plugin", "test", arg(&plugin), arg(&fixtures)]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.contains("PASS  core-dealer"), "{text}");
    assert!(text.contains("PASS  no-tier-discount"), "{text}");
    assert!(text.trim_end().ends_with("2 cases: 2 passed"), "{text}");
}

#[test]
fn plugin_test_fails_with_a_diff_of_the_differing_field() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let mut wrong = CORE_DEALER;
    wrong[1].0 = 92_900;
    let fixtures = pricing_fixtures(&scratch, "bad", wrong);

    let output = chanhost(&["plugin", "test", arg(&plugin), arg(&fixtures)]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("FAIL  core-dealer"), "{text}");
    assert!(text.contains("PASS  no-tier-discount"), "{text}");
    assert!(text.contains("-      \"unit-price\": 92900"), "{text}");
    assert!(text.contains("+      \"unit-price\": 92926"), "{text}");
    assert!(
        text.trim_end().ends_with("2 cases: 1 passed, 1 failed"),
        "{text}"
    );

    let report = json_of(&chanhost(&[
        "plugin",
        "test",
        arg(&plugin),
        arg(&fixtures),
        "--json",
    ]));
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let case = &report["cases"][0];
    assert_eq!(case["name"], "core-dealer");
    assert_eq!(case["passed"], false);
    assert_eq!(case["output"]["ok"][1]["unit-price"], 92_926);
    assert_eq!(case["expected"]["ok"][1]["unit-price"], 92_900);
}

#[test]
fn plugin_test_fails_a_case_that_traps_or_cannot_be_read() {
    let scratch = Scratch::new();
    let input = std::fs::read(scratch.example_input("pricing")).unwrap();
    scratch.write("cases/a-panic/input.json", &input);
    scratch.write("cases/a-panic/config.toml", "mode = \"panic\"\n");
    scratch.write("cases/a-panic/expected.json", "{\"ok\": []}");
    scratch.write("cases/b-no-expected/input.json", &input);

    let output = chanhost(&[
        "plugin",
        "test",
        HOSTILE_PLUGIN,
        arg(&scratch.path("cases")),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("FAIL  a-panic"), "{text}");
    assert!(text.contains("trapped: wasm trap"), "{text}");
    assert!(text.contains("hostile_common::misbehave"), "{text}");
    assert!(text.contains("FAIL  b-no-expected"), "{text}");
    assert!(text.contains("expected.json"), "{text}");
    assert!(
        text.trim_end().ends_with("2 cases: 0 passed, 2 failed"),
        "{text}"
    );
}

#[test]
fn plugin_test_with_nothing_to_run_exits_2() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    std::fs::create_dir_all(scratch.path("empty")).unwrap();
    let output = chanhost(&["plugin", "test", arg(&plugin), arg(&scratch.path("empty"))]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has no cases"),
        "{}",
        stderr(&output)
    );

    let output = chanhost(&[
        "plugin",
        "test",
        arg(&plugin),
        arg(&scratch.path("missing")),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the fixture directory"),
        "{}",
        stderr(&output)
    );
}
