//! `chanhost plugin test`: a plugin against a directory of fixtures, each
//! case an input, a configuration and the expected output, with a line
//! diff of expected and actual output for each case that differs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};

use super::run::{call_report, cannot_run, failure_text, indent, log_text, plugin_line, pretty};
use super::{exit, files};
use crate::policy::Plugin;
use crate::policy::dynamic::JsonCall;

pub const LONG_ABOUT: &str = "\
Run a plugin on every case of a fixture directory, each in a fresh instance \
under the production limits (as `chanhost plugin run`), and compare each \
output with the expected one. Prints one line per case, a line diff for each \
output that differs, and a summary.";

pub const EXIT_CODES: &str = "\
Exit codes: 0 every case passed, 1 a case failed, 2 nothing could run. More with --help.";

pub const AFTER_HELP: &str = "\
Fixture directory: every subdirectory is one case, run in name order:
  input.json     (required) the policy function's input, as for `plugin run --input`
  config.toml    (optional) the plugin's configuration as TOML [default: {}]
  expected.json  (required) the policy function's result: {\"ok\": ...} or {\"err\": ...}
Outputs are compared as JSON values (key order does not matter). A trap or a \
limit hit fails its case, shown with the fault and backtrace; so does a case \
whose files are missing or do not fit.

Output: text by default, one line per case (PASS or FAIL, name, fuel, time) \
then the diff (- expected, + actual) or the reason, then `N cases: P passed, \
F failed`. With --json, one JSON object: plugin, fixtures, passed, failed and \
cases, each {name, passed, error (why it did not run, or null), expected, \
diff} plus, when it ran, the fields of `plugin run --json` (ok, output, fault, \
backtrace, fuel_used, duration_us, memory_high_water_bytes, logs). When \
nothing could run: {\"error\": \"...\"}.

Exit codes:
  0  every case passed
  1  at least one case failed
  2  nothing could run: the component unreadable or refused at load, the \
directory missing or without any case";

#[derive(clap::Args)]
pub struct TestArgs {
    /// The component (.wasm) to test.
    file: PathBuf,
    /// The fixture directory: one subdirectory per case.
    fixtures: PathBuf,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
}

/// One case and how it went.
struct Case {
    name: String,
    outcome: Outcome,
}

enum Outcome {
    Passed(JsonCall),
    /// It answered, but not what `expected.json` says.
    Differs {
        call: JsonCall,
        expected: Value,
        diff: String,
    },
    /// A trap, a limit hit or an output too large.
    Faulted {
        call: JsonCall,
        expected: Value,
    },
    /// It could not run: a file missing or invalid, an input or a
    /// configuration that does not fit.
    NotRun(String),
}

impl Outcome {
    fn passed(&self) -> bool {
        matches!(self, Outcome::Passed(_))
    }

    fn call(&self) -> Option<&JsonCall> {
        match self {
            Outcome::Passed(call)
            | Outcome::Differs { call, .. }
            | Outcome::Faulted { call, .. } => Some(call),
            Outcome::NotRun(_) => None,
        }
    }
}

pub fn run(args: TestArgs) -> ExitCode {
    let plugin = match files::load_plugin(&args.file) {
        Ok(plugin) => plugin,
        Err(message) => return cannot_run(args.json, &message, &[]),
    };
    let dirs = match case_dirs(&args.fixtures) {
        Ok(dirs) => dirs,
        Err(message) => return cannot_run(args.json, &message, &[]),
    };
    if !args.json {
        println!("plugin:    {}", plugin_line(&plugin));
        println!("fixtures:  {}", args.fixtures.display());
    }
    let width = dirs.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut cases = Vec::with_capacity(dirs.len());
    for (name, dir) in dirs {
        let case = Case {
            outcome: run_case(&plugin, &dir),
            name,
        };
        if !args.json {
            print!("{}", case_text(&case, width));
        }
        cases.push(case);
    }
    let passed = cases.iter().filter(|c| c.outcome.passed()).count();
    let failed = cases.len() - passed;
    if args.json {
        let report = json!({
            "plugin": plugin.identity(),
            "fixtures": args.fixtures.display().to_string(),
            "passed": passed,
            "failed": failed,
            "cases": cases.iter().map(case_json).collect::<Vec<_>>(),
        });
        println!("{}", pretty(&report));
    } else if failed == 0 {
        println!("{} cases: {passed} passed", cases.len());
    } else {
        println!("{} cases: {passed} passed, {failed} failed", cases.len());
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::FAULT)
    }
}

/// The case subdirectories of `dir`, by name.
fn case_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the fixture directory {}: {e}", dir.display()))?;
    let mut cases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') {
            cases.push((name, entry.path()));
        }
    }
    if cases.is_empty() {
        return Err(format!(
            "{} has no cases: each case is a subdirectory with input.json, expected.json and optionally config.toml",
            dir.display()
        ));
    }
    cases.sort();
    Ok(cases)
}

fn run_case(plugin: &Plugin, dir: &Path) -> Outcome {
    let files = (|| {
        let input = files::read_json(&dir.join("input.json"))?;
        let config = dir.join("config.toml");
        let config = files::read_config(config.exists().then_some(config.as_path()))?;
        let expected = files::read_json(&dir.join("expected.json"))?;
        Ok::<_, String>((input, config, expected))
    })();
    let (input, config, expected) = match files {
        Ok(files) => files,
        Err(message) => return Outcome::NotRun(message),
    };
    let call = match plugin.call_json(&config, &input) {
        Ok(call) => call,
        Err(refused) => return Outcome::NotRun(refused.to_string()),
    };
    match &call.result {
        Err(_) => Outcome::Faulted { call, expected },
        Ok(actual) if *actual == expected => Outcome::Passed(call),
        Ok(actual) => Outcome::Differs {
            diff: diff(&expected, actual),
            call,
            expected,
        },
    }
}

/// A unified line diff of the two values printed as pretty JSON (keys
/// sorted), `-` for expected and `+` for actual.
fn diff(expected: &Value, actual: &Value) -> String {
    let expected = pretty(expected) + "\n";
    let actual = pretty(actual) + "\n";
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("expected.json", "actual")
        .to_string()
}

fn case_text(case: &Case, width: usize) -> String {
    let verdict = if case.outcome.passed() {
        "PASS"
    } else {
        "FAIL"
    };
    let mut text = format!("{verdict}  {:<width$}", case.name);
    if let Some(call) = case.outcome.call() {
        text.push_str(&format!(
            "  fuel {:>9}  {:>8.3} ms",
            call.fuel_used,
            call.duration.as_secs_f64() * 1000.0
        ));
    }
    text.push('\n');
    let detail = match &case.outcome {
        Outcome::Passed(_) => String::new(),
        Outcome::NotRun(reason) => format!("not run: {reason}\n"),
        Outcome::Differs { diff, .. } => {
            format!("output differs (- expected, + actual):\n{diff}")
        }
        Outcome::Faulted { call, .. } => {
            let mut text = call
                .result
                .as_ref()
                .err()
                .map(failure_text)
                .unwrap_or_default();
            if !call.logs.is_empty() {
                text.push_str("log:\n");
                text.push_str(&log_text(call));
            }
            text
        }
    };
    text + &indent(&detail, "      ")
}

fn case_json(case: &Case) -> Value {
    let mut report = match case.outcome.call() {
        Some(call) => call_report(call),
        None => json!({}),
    };
    let (error, expected, diff) = match &case.outcome {
        Outcome::Passed(_) => (None, None, None),
        Outcome::NotRun(reason) => (Some(reason.as_str()), None, None),
        Outcome::Differs { expected, diff, .. } => (None, Some(expected), Some(diff)),
        Outcome::Faulted { expected, .. } => (None, Some(expected), None),
    };
    report["name"] = json!(case.name);
    report["passed"] = json!(case.outcome.passed());
    report["error"] = json!(error);
    report["expected"] = match (&case.outcome, expected) {
        (Outcome::Passed(call), _) => call.result.as_ref().ok().cloned().unwrap_or_default(),
        (_, expected) => json!(expected),
    };
    report["diff"] = json!(diff);
    report
}
