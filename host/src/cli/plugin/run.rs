//! `chanhost plugin run`: one call of a plugin on an input, under the
//! production limits, with everything its author wants to see: the output,
//! fuel, time, memory high-water mark and log lines, and on a trap the
//! plugin's backtrace.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::{example, exit, files};
use crate::policy::dynamic::{Failure, JsonCall, Refused};
use crate::policy::{Limits, Plugin, PluginKind};

pub const LONG_ABOUT: &str = "\
Run a plugin once on an input, under the production limits (fuel, memory, \
deadline, deny-all WASI), and show its output, fuel used, time, memory \
high-water mark and log lines; on a trap, the trap and the plugin's wasm \
backtrace.

The component is loaded as a server loads it, so a component the server \
would refuse is refused here with the same reason. A fresh instance is \
configured with --config, then the kind's policy function (check, price, \
apply or source) is called once with the input.";

pub const USAGE: &str = "\
chanhost plugin run <FILE> --input <FILE> [--config <FILE>] [--json]
       chanhost plugin run --example-input <KIND>";

pub const EXIT_CODES: &str = "\
Exit codes: 0 the plugin answered, 1 it faulted (trap or limit), 2 nothing could run. \
More with --help.";

pub const AFTER_HELP: &str = "\
Input (--input): the policy function's argument as JSON (check-input, \
pricing-input, promotion-input or sourcing-input): records are objects with \
the WIT field names (\"line-no\"), enums and payload-less variant cases are \
strings (\"core\"), a case with a payload is a one-key object \
({\"hold\": [...]}), options are null or the value, results {\"ok\": v} or \
{\"err\": e}. `--example-input <kind>` prints a valid one.

Configuration (--config): TOML, as the `config` table of a region file; \
without it the plugin is configured with {}.

Output: text by default. With --json, one JSON object: plugin (name, \
version, kind, hash, wit_version), ok (no fault), output (the result, \
{\"ok\": ...} or {\"err\": ...}, or null), fault (null or {code, message, \
during}), backtrace ([{module, function, func_index, offset}], innermost \
first), fuel_used, duration_us, memory_high_water_bytes, logs ([{level, \
message}]) and limits. When nothing could run: {\"error\": \"...\"}, with \
config_errors ([{path, message}]) when the configuration was refused.

Exit codes:
  0  the plugin ran and answered (its answer may be an {\"err\": ...} it chose)
  1  the plugin faulted: a trap, a limit hit (fuel, memory, stack, deadline) \
or an output too large
  2  nothing could run: a file unreadable, the component refused at load (the \
reason names what is wrong), an input or configuration that does not fit";

#[derive(clap::Args)]
pub struct RunArgs {
    /// The component (.wasm) to run.
    #[arg(required_unless_present = "example_input", requires = "input")]
    file: Option<PathBuf>,
    /// The policy function's input as JSON; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The plugin's configuration as TOML [default: {}].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Print a valid example input for a kind and exit.
    #[arg(long, value_name = "KIND", conflicts_with_all = ["file", "input", "config"])]
    example_input: Option<PluginKind>,
}

pub fn run(args: RunArgs) -> ExitCode {
    if let Some(kind) = args.example_input {
        print!("{}", example::input(kind));
        return ExitCode::SUCCESS;
    }
    let (Some(file), Some(input)) = (&args.file, &args.input) else {
        unreachable!("clap requires a file and --input without --example-input");
    };
    let prepared = files::load_plugin(file).and_then(|plugin| {
        let input = files::read_json(input)?;
        let config = files::read_config(args.config.as_deref())?;
        Ok((plugin, input, config))
    });
    let (plugin, input, config) = match prepared {
        Ok(prepared) => prepared,
        Err(message) => return cannot_run(args.json, &message, &[]),
    };
    let call = match plugin.call_json(&config, &input) {
        Ok(call) => call,
        Err(refused) => {
            let config_errors = match &refused {
                Refused::Config(errors) => errors.as_slice(),
                Refused::Input { .. } | Refused::InputTooLarge { .. } => &[],
            };
            return cannot_run(args.json, &refused.to_string(), config_errors);
        }
    };
    if args.json {
        let mut report = call_report(&call);
        report["plugin"] = json!(plugin.identity());
        report["limits"] = json!(plugin_limits());
        println!("{}", pretty(&report));
    } else {
        print!("{}", text_report(&plugin, &call));
    }
    if call.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::FAULT)
    }
}

/// The limits every call runs under (the production defaults).
fn plugin_limits() -> Limits {
    Limits::default()
}

/// Says why nothing ran, on stderr (or as JSON on stdout), and exits 2.
pub(super) fn cannot_run(
    json: bool,
    message: &str,
    config_errors: &[crate::policy::ConfigError],
) -> ExitCode {
    if json {
        let mut report = json!({ "error": message });
        if !config_errors.is_empty() {
            report["config_errors"] = json!(config_errors);
        }
        println!("{}", pretty(&report));
    } else if config_errors.is_empty() {
        eprintln!("error: {message}");
    } else {
        eprintln!("error: configure refused the configuration:");
        for error in config_errors {
            eprintln!("  {}: {}", error.path, error.message);
        }
    }
    ExitCode::from(exit::CANNOT_RUN)
}

/// A call as JSON: what `--json` prints for `run` and for each case of
/// `test`.
pub(super) fn call_report(call: &JsonCall) -> Value {
    let (output, fault, backtrace) = match &call.result {
        Ok(output) => (output.clone(), Value::Null, json!([])),
        Err(failure) => (Value::Null, fault_json(failure), json!(failure.backtrace)),
    };
    json!({
        "ok": call.result.is_ok(),
        "output": output,
        "fault": fault,
        "backtrace": backtrace,
        "fuel_used": call.fuel_used,
        "duration_us": call.duration.as_micros() as u64,
        "memory_high_water_bytes": call.memory_peak_bytes,
        "logs": call.logs,
    })
}

fn fault_json(failure: &Failure) -> Value {
    json!({
        "code": failure.fault.code(),
        "message": failure.fault.to_string(),
        "during": failure.during,
    })
}

/// `pricing-tiered 1.0.0 (pricing, WIT 0.2.0)`.
pub(super) fn plugin_line(plugin: &Plugin) -> String {
    let identity = plugin.identity();
    format!(
        "{} {} ({}, WIT {})",
        identity.name, identity.version, identity.kind, identity.wit_version
    )
}

fn text_report(plugin: &Plugin, call: &JsonCall) -> String {
    let limits = plugin_limits();
    let mut text = format!("plugin:    {}\n", plugin_line(plugin));
    match &call.result {
        Ok(output) => {
            text.push_str("output:\n");
            text.push_str(&indent(&pretty(output), "  "));
        }
        Err(failure) => text.push_str(&failure_text(failure)),
    }
    text.push_str(&format!(
        "fuel:      {} (limit {})\n",
        call.fuel_used, limits.fuel
    ));
    text.push_str(&format!(
        "time:      {:.3} ms (deadline {} ms)\n",
        call.duration.as_secs_f64() * 1000.0,
        limits.deadline_ms
    ));
    text.push_str(&format!(
        "memory:    {} bytes high-water (limit {})\n",
        call.memory_peak_bytes, limits.memory_bytes
    ));
    if call.logs.is_empty() {
        text.push_str("log:       (none)\n");
    } else {
        text.push_str("log:\n");
        text.push_str(&log_text(call));
    }
    text
}

/// The fault and the backtrace, as `run` prints them (and `test` under a
/// failed case).
pub(super) fn failure_text(failure: &Failure) -> String {
    let mut text = format!("fault:     {} (during {})\n", failure.fault, failure.during);
    if !failure.backtrace.is_empty() {
        text.push_str("backtrace: (innermost first)\n");
        for (i, frame) in failure.backtrace.iter().enumerate() {
            text.push_str(&format!("  {i:>3}: {frame}\n"));
        }
    }
    text
}

/// The call's log lines, `  <level> <message>`, a message of several
/// lines (a panic message on stderr) indented under its first.
pub(super) fn log_text(call: &JsonCall) -> String {
    let mut text = String::new();
    for line in &call.logs {
        let mut lines = line.message.trim().lines();
        let first = lines.next().unwrap_or("");
        text.push_str(&format!("  {:<6} {first}\n", line.level));
        for more in lines {
            text.push_str(&format!("         {more}\n"));
        }
    }
    text
}

pub(super) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value prints")
}

/// Each line of `text` prefixed, every line ending in a newline.
pub(super) fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}\n"))
        .collect()
}
