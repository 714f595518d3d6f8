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

use common::chanhost;

/// `chanhost plugin run <plugin> --input <input> <extra…>`.
fn plugin_run(plugin: &str, input: &Path, extra: &[&str]) -> Output {
    let args = ["plugin", "run", plugin, "--input", arg(input)];
    chanhost([&args[..], extra].concat())
}

/// `chanhost plugin test <plugin> <fixtures> <extra…>`.
fn plugin_test(plugin: &str, fixtures: &Path, extra: &[&str]) -> Output {
    let args = ["plugin", "test", plugin, arg(fixtures)];
    chanhost([&args[..], extra].concat())
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
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

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A reference plugin's component, as a file.
    fn reference(&self, name: &str) -> String {
        let plugin = chanhost_bundled_plugins::find(name).unwrap();
        let path = self.write(&format!("{name}.wasm"), plugin.wasm);
        path.to_str().unwrap().to_string()
    }

    /// What `plugin run --example-input <kind>` prints, as a file.
    fn example_input(&self, kind: &str) -> PathBuf {
        let output = chanhost(["plugin", "run", "--example-input", kind]);
        assert!(output.status.success(), "{}", stderr(&output));
        self.write(&format!("{kind}-input.json"), &output.stdout)
    }
}

#[test]
fn run_prints_output_fuel_time_memory_of_a_good_plugin() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let input = scratch.example_input("pricing");

    let output = plugin_run(&plugin, &input, &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["plugin"]["name"], "pricing-tiered");
    assert_eq!(report["ok"], true);
    assert_eq!(report["fault"], Value::Null);
    let lines = report["output"]["ok"].as_array().unwrap();
    let line_nos: Vec<&Value> = lines.iter().map(|l| &l["line-no"]).collect();
    assert_eq!(line_nos, [1, 2, 3]);
    // A core dealer gets 3% off by default: ¥1,188.00 → ¥1,152.36.
    assert_eq!(lines[0]["unit-price"], 115_236);
    assert!(report["fuel_used"].as_u64().unwrap() > 0);
    assert!(report["memory_high_water_bytes"].as_u64().unwrap() > 0);
    assert!(report["duration_us"].is_u64());
    assert_eq!(report["limits"]["fuel"], Limits::default().fuel);

    let output = plugin_run(&plugin, &input, &[]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for expected in [
        "plugin:    pricing-tiered 1.0.0 (pricing, WIT 0.2.0)\noutput:\n",
        "\"unit-price\": 115236",
        "\nfuel:      ",
        "\ntime:      ",
        "\nmemory:    ",
        "\nlog:       (none)",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
}

#[test]
fn every_example_input_runs_cleanly_through_its_reference_plugin() {
    let scratch = Scratch::new();
    let answer = |kind: &str, reference: &str| {
        let input = scratch.example_input(kind);
        let example: Value = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
        assert_eq!(example["order"]["lines"].as_array().unwrap().len(), 3);
        let output = plugin_run(&scratch.reference(reference), &input, &["--json"]);
        assert_eq!(output.status.code(), Some(0), "{kind}: {}", stderr(&output));
        json_of(&output)["output"]["ok"].clone()
    };

    assert_eq!(answer("anti-diversion", "anti-diversion"), "allow");
    assert_eq!(
        answer("pricing", "pricing-tiered")
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(answer("promotion", "promotions").is_array());
    // The order's 60 cases, all shipped: the region's warehouse first,
    // the low-alcohol line's shortfall from its neighbour.
    let plan = answer("sourcing", "sourcing-region-first");
    let shipped: u64 = plan["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(shipped, 60, "{plan}");
}

#[test]
fn run_of_a_plugin_built_against_an_older_wit_version() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let output = plugin_run(PRICING_WIT_0_1_0, &input, &["--json"]);
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
    let config = ["--config", arg(&config)];

    let output = plugin_run(HOSTILE_PLUGIN, &input, &[&config[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["ok"], false);
    assert_eq!(report["output"], Value::Null);
    assert_eq!(report["fault"]["code"], "trap");
    assert_eq!(report["fault"]["during"], "call");
    let message = report["fault"]["message"].as_str().unwrap();
    assert!(message.contains("unreachable"), "{message}");
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

    let output = plugin_run(HOSTILE_PLUGIN, &input, &config);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    for expected in [
        "fault:     trapped: wasm trap: wasm `unreachable` instruction executed (during the policy call)",
        "backtrace: (innermost first)",
        ": hostile_common::misbehave in hostile_plugin.wasm",
        "hostile-plugin panics on purpose",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
}

#[test]
fn run_of_a_plugin_out_of_fuel_names_the_limit() {
    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    let config = scratch.write("loop.toml", "mode = \"loop\"\n");
    let output = plugin_run(
        HOSTILE_PLUGIN,
        &input,
        &["--config", arg(&config), "--json"],
    );
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

    let mut negative: Value = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
    negative["order"]["lines"][0]["quantity"] = json!(-20);
    let negative = scratch.write("negative.json", negative.to_string());
    let output = plugin_run(&plugin, &negative, &[]);
    assert_eq!(output.status.code(), Some(2));
    let expected = "/order/lines/0/quantity: expected an integer that fits a u32, got -20";
    assert!(stderr(&output).contains(expected), "{}", stderr(&output));

    let config = scratch.write("config.toml", "[tier_discount_bp]\ncore = 9000\n");
    let output = plugin_run(&plugin, &input, &["--config", arg(&config), "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output);
    assert_eq!(report["config_errors"][0]["path"], "/tier_discount_bp/core");

    let output = plugin_run(&plugin, &scratch.path("missing.json"), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
}

/// A component exporting `export` as an instance of `functions` (each
/// returning a number: enough for the host to read the shape of the
/// interface), after the given imports (WAT).
fn component(imports: &str, export: &str, functions: &[&str]) -> Vec<u8> {
    let lifted: String = functions
        .iter()
        .map(|name| format!("(func ${name} (result u32) (canon lift (core func $i \"f\")))\n"))
        .collect();
    let exported: String = functions
        .iter()
        .map(|name| format!("(export \"{name}\" (func ${name}))"))
        .collect();
    wat::parse_str(format!(
        "(component {imports}
            (core module $m (func (export \"f\") (result i32) i32.const 0))
            (core instance $i (instantiate $m))
            {lifted}
            (instance $exports {exported})
            (export \"{export}\" (instance $exports)))"
    ))
    .unwrap()
}

/// `wasm` with a custom section appended so that it is `size` bytes long.
fn padded(wasm: &[u8], size: usize) -> Vec<u8> {
    let name = b"padding";
    let mut out = wasm.to_vec();
    out.push(0); // a custom section…
    // …whose length is a 5-byte LEB128, so the total comes out exact.
    let mut len = (size - wasm.len() - 1 - 5) as u32;
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
    const PRICING: &str = "chanhost:policy/pricing@0.2.0";
    let all = ["describe", "configure", "price"];
    let max = Limits::default().max_component_bytes;
    let pricing_tiered = chanhost_bundled_plugins::find("pricing-tiered").unwrap();
    let refused: [(&str, Vec<u8>, String); 6] = [
        (
            "wrong world",
            component("", "wasi:cli/run@0.2.0", &["run"]),
            "exports no chanhost policy interface (it exports: wasi:cli/run@0.2.0)".into(),
        ),
        (
            "missing export",
            component("", PRICING, &["describe", "configure"]),
            format!("exports {PRICING} without its `price` function (it has: describe, configure)"),
        ),
        (
            "forbidden import",
            component(
                r#"(import "acme:db/query" (instance (export "run" (func (result u32)))))"#,
                PRICING,
                &all,
            ),
            "imports `acme:db/query`, which this host does not offer".into(),
        ),
        (
            "wasi import the host lacks",
            component(
                r#"(import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func (result u32)))))"#,
                PRICING,
                &all,
            ),
            "cannot be linked: component imports instance `wasi:http/outgoing-handler@0.2.0`"
                .into(),
        ),
        (
            "wrong types",
            component("", PRICING, &all),
            format!(
                "its exports do not match the chanhost:policy/pricing-plugin@0.2.0 world: \
                 `describe` of {PRICING} has another type"
            ),
        ),
        (
            "oversize",
            padded(pricing_tiered.wasm, max + 1),
            format!("is {} bytes, above the {max} byte limit", max + 1),
        ),
    ];

    let scratch = Scratch::new();
    let input = scratch.example_input("pricing");
    scratch.write("fixtures/case/input.json", std::fs::read(&input).unwrap());
    for (what, wasm, named) in refused {
        let file = scratch.write(&format!("{}.wasm", what.replace(' ', "-")), wasm);
        let file = arg(&file);

        let run = plugin_run(file, &input, &[]);
        assert_eq!(run.status.code(), Some(2), "{what}: {}", stderr(&run));
        assert!(stderr(&run).contains(&named), "{what}: {}", stderr(&run));

        let test = plugin_test(file, &scratch.path("fixtures"), &["--json"]);
        assert_eq!(test.status.code(), Some(2), "{what}");
        let error = json_of(&test)["error"].as_str().unwrap().to_string();
        assert!(error.contains(&named), "{what}: {error}");

        // Uploads and region loading go through the same `Plugin::load`.
        let check = json_of(&chanhost(["plugin", "check", file]));
        let error = check["error"].as_str().unwrap();
        assert!(error.contains(&named), "{what}: {error}");
    }
}

/// What the reference pricing plugin answers for the example input, line
/// by line: (unit price, explanation).
type PricedLines = [(i64, &'static str); 3];

/// With its default configuration: a core dealer gets 3% off.
#[rustfmt::skip]
const CORE_DEALER: PricedLines = [
    (115_236, "base ¥1,188.00 → regional ¥1,188.00 (+0 bp) → core tier ¥1,152.36 (−300 bp)"),
    (92_926, "base ¥958.00 → regional ¥958.00 (+0 bp) → core tier ¥929.26 (−300 bp)"),
    (39_440, "base ¥428.00 → regional ¥406.60 (-500 bp) → core tier ¥394.40 (−300 bp)"),
];

/// With `tier_discount_bp.core = 0`.
#[rustfmt::skip]
const NO_TIER_DISCOUNT: PricedLines = [
    (118_800, "base ¥1,188.00 → regional ¥1,188.00 (+0 bp) → core tier ¥1,188.00 (−0 bp)"),
    (95_800, "base ¥958.00 → regional ¥958.00 (+0 bp) → core tier ¥958.00 (−0 bp)"),
    (40_660, "base ¥428.00 → regional ¥406.60 (-500 bp) → core tier ¥406.60 (−0 bp)"),
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
    let case = |name: &str, file: &str, contents: &[u8]| {
        scratch.write(&format!("{dir}/{name}/{file}"), contents);
    };
    case("core-dealer", "input.json", &input);
    case(
        "core-dealer",
        "expected.json",
        expected_json(core_dealer).as_bytes(),
    );
    case("no-tier-discount", "input.json", &input);
    case(
        "no-tier-discount",
        "config.toml",
        b"[tier_discount_bp]\ncore = 0\n",
    );
    case(
        "no-tier-discount",
        "expected.json",
        expected_json(NO_TIER_DISCOUNT).as_bytes(),
    );
    scratch.path(dir)
}

#[test]
fn plugin_test_passes_a_fixture_directory_that_matches() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let fixtures = pricing_fixtures(&scratch, "good", CORE_DEALER);

    let output = plugin_test(&plugin, &fixtures, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.contains("\nPASS  core-dealer       fuel "), "{text}");
    assert!(text.contains("\nPASS  no-tier-discount  fuel "), "{text}");
    assert!(text.ends_with("\n2 cases: 2 passed\n"), "{text}");
}

#[test]
fn plugin_test_fails_with_a_diff_of_the_differing_field() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    let mut wrong = CORE_DEALER;
    wrong[1].0 = 92_900;
    let fixtures = pricing_fixtures(&scratch, "bad", wrong);

    let output = plugin_test(&plugin, &fixtures, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("\nFAIL  core-dealer "), "{text}");
    assert!(
        text.contains("output differs (- expected, + actual):"),
        "{text}"
    );
    assert!(
        text.contains("\n      -      \"unit-price\": 92900\n"),
        "{text}"
    );
    assert!(
        text.contains("\n      +      \"unit-price\": 92926\n"),
        "{text}"
    );
    assert!(text.contains("\nPASS  no-tier-discount "), "{text}");
    assert!(text.ends_with("\n2 cases: 1 passed, 1 failed\n"), "{text}");

    let report = json_of(&plugin_test(&plugin, &fixtures, &["--json"]));
    assert_eq!(report["passed"], 1);
    assert_eq!(report["failed"], 1);
    let case = &report["cases"][0];
    assert_eq!(case["name"], "core-dealer");
    assert_eq!(case["passed"], false);
    assert_eq!(case["output"]["ok"][1]["unit-price"], 92_926);
    assert_eq!(case["expected"]["ok"][1]["unit-price"], 92_900);
    assert!(
        case["diff"]
            .as_str()
            .unwrap()
            .contains("-      \"unit-price\": 92900")
    );
}

#[test]
fn plugin_test_fails_a_case_that_traps_or_cannot_be_read() {
    let scratch = Scratch::new();
    let input = std::fs::read(scratch.example_input("pricing")).unwrap();
    scratch.write("cases/a-panic/input.json", &input);
    scratch.write("cases/a-panic/config.toml", "mode = \"panic\"\n");
    scratch.write("cases/a-panic/expected.json", "{\"ok\": []}");
    scratch.write("cases/b-no-expected/input.json", &input);

    let output = plugin_test(HOSTILE_PLUGIN, &scratch.path("cases"), &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    for expected in [
        "\nFAIL  a-panic ",
        "fault:     trapped: wasm trap: wasm `unreachable` instruction executed",
        ": hostile_common::misbehave in hostile_plugin.wasm",
        "\nFAIL  b-no-expected\n      not run: cannot read ",
        "b-no-expected/expected.json",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    assert!(text.ends_with("\n2 cases: 0 passed, 2 failed\n"), "{text}");
}

#[test]
fn plugin_test_with_nothing_to_run_exits_2() {
    let scratch = Scratch::new();
    let plugin = scratch.reference("pricing-tiered");
    std::fs::create_dir_all(scratch.path("empty")).unwrap();

    let output = plugin_test(&plugin, &scratch.path("empty"), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has no cases"),
        "{}",
        stderr(&output)
    );

    let output = plugin_test(&plugin, &scratch.path("missing"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let expected = "cannot read the fixture directory";
    assert!(stderr(&output).contains(expected), "{}", stderr(&output));
}
