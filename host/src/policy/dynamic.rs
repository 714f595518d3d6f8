//! A policy call made from JSON, for `chanhost plugin run` and
//! `chanhost plugin test`: the plugin's exported functions are looked up by
//! name and called with `Val`s built from the JSON input, following the
//! component's own function types (see [`super::json_val`]).
//!
//! It runs in the production sandbox — the same engine, limits, store,
//! WASI context and log capture as an order's calls — on a fresh instance
//! configured once, as a deployment does; orders keep their typed calls
//! (`Plugin::check`, `price`, …). What it adds is what a plugin's author
//! needs: the instance's memory high-water mark and, on a trap, the
//! plugin's backtrace.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use wasmtime::component::{Func, Instance, Val};
use wasmtime::{Store, WasmBacktrace};

use super::json_val::{self, ValueError};
use super::limits::{Fault, Limits};
use super::plugin::{Plugin, policy_function};
use super::sandbox::{LogLine, Sandbox, classify};
use super::types::ConfigError;

/// Why a call could not be made at all; the plugin is not at fault.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the input does not fit {function}'s parameter: {error}")]
    Input {
        function: &'static str,
        error: ValueError,
    },
    #[error("the input is ~{bytes} bytes, above the {limit} byte limit (limits.max_input_bytes)")]
    InputTooLarge { bytes: usize, limit: usize },
    #[error("configure refused the configuration: {}", list_config_errors(.0))]
    Config(Vec<ConfigError>),
}

fn list_config_errors(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One call, with what it cost.
#[derive(Debug)]
pub struct JsonCall {
    /// The policy function's result as JSON, `{"ok": …}` or `{"err": …}`
    /// (an error the plugin chose to return), or how it faulted.
    pub result: Result<Value, Failure>,
    /// Fuel the policy call used (instantiation and `configure` excluded).
    pub fuel_used: u64,
    /// Wall time of the policy call.
    pub duration: Duration,
    /// The most linear memory the instance held, from its instantiation to
    /// the end of the call.
    pub memory_peak_bytes: usize,
    /// Lines the plugin logged, from `configure` and the call, then its
    /// stderr (a panic message).
    pub logs: Vec<LogLine>,
}

/// A plugin fault, where it happened, and the plugin's stack at that point.
#[derive(Debug, Clone)]
pub struct Failure {
    pub fault: Fault,
    pub during: Phase,
    /// Innermost frame first; empty when the fault is not a trap in the
    /// plugin's code (say, an output too large).
    pub backtrace: Vec<Frame>,
}

/// The step of a call a fault happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Instantiate,
    Configure,
    Call,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Instantiate => "instantiation",
            Phase::Configure => "configure",
            Phase::Call => "the policy call",
        })
    }
}

/// One frame of a plugin's wasm backtrace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// The core module's name, when it has one.
    pub module: Option<String>,
    /// The function's name from the module's name section, demangled; the
    /// plugin build profile keeps these.
    pub function: Option<String>,
    pub func_index: u32,
    /// Byte offset of the trapping instruction within the function.
    pub offset: Option<usize>,
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.function {
            Some(name) => f.write_str(name)?,
            None => write!(f, "<function {}>", self.func_index)?,
        }
        if let Some(module) = &self.module {
            write!(f, " in {module}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " at +{offset:#x}")?;
        }
        Ok(())
    }
}

impl Plugin {
    /// Configures a fresh instance with `config_json` and calls its policy
    /// function once with `input`, under the production limits:
    /// instantiation and `configure` under the setup deadline (as when a
    /// region is deployed), the call with a fresh fuel budget and the call
    /// deadline, its WASI clock at the input's `order.placed-at`.
    pub fn call_json(&self, config_json: &str, input: &Value) -> Result<JsonCall, Refused> {
        let engine = self.engine();
        let call_limits = engine.limits().clone();
        let setup_limits = Limits {
            deadline_ms: call_limits.setup_deadline_ms,
            ..call_limits.clone()
        };
        let function = policy_function(self.kind());
        let mut store = match self.new_store() {
            Ok(store) => store,
            Err(error) => {
                return Ok(faulted(
                    None,
                    Failure::of(&error, &setup_limits, Phase::Instantiate),
                ));
            }
        };
        store.set_epoch_deadline(engine.setup_deadline_ticks());

        let instance = match self.instance_pre().instantiate(&mut store) {
            Ok(instance) => instance,
            Err(error) => {
                let failure = Failure::of(&error, &setup_limits, Phase::Instantiate);
                return Ok(faulted(Some(&mut store), failure));
            }
        };
        let (configure, policy) = match self.exported_functions(&mut store, &instance) {
            Ok(functions) => functions,
            Err(message) => {
                let failure = Failure::host(message, Phase::Instantiate);
                return Ok(faulted(Some(&mut store), failure));
            }
        };
        let input = {
            let ty = policy.ty(&store);
            let Some((_, param)) = ty.params().next() else {
                let message = format!("{function} takes no parameter");
                return Ok(faulted(
                    Some(&mut store),
                    Failure::host(message, Phase::Call),
                ));
            };
            json_val::to_val(&param, input).map_err(|error| Refused::Input { function, error })?
        };
        let bytes = json_val::wire_size(&input);
        if bytes > call_limits.max_input_bytes {
            return Err(Refused::InputTooLarge {
                bytes,
                limit: call_limits.max_input_bytes,
            });
        }

        let mut answer = [Val::Bool(false)];
        if let Err(error) = configure.call(
            &mut store,
            &[Val::String(config_json.to_string())],
            &mut answer,
        ) {
            let failure = Failure::of(&error, &setup_limits, Phase::Configure);
            return Ok(faulted(Some(&mut store), failure));
        }
        if let Val::Result(Err(errors)) = &answer[0] {
            let errors = errors.as_deref().map_or(Value::Null, json_val::to_json);
            return Err(Refused::Config(
                serde_json::from_value(errors).unwrap_or_default(),
            ));
        }

        // The call itself, with a budget of its own, as an order's call.
        if let Some(placed_at) = placed_at(&input) {
            store.data_mut().set_clock(placed_at);
        }
        store
            .set_fuel(call_limits.fuel)
            .expect("fuel is enabled on the engine");
        store.set_epoch_deadline(engine.deadline_ticks());
        let started = Instant::now();
        let outcome = policy.call(&mut store, &[input], &mut answer);
        let duration = started.elapsed();
        let fuel_used = call_limits.fuel - store.get_fuel().unwrap_or(0);
        let result = match outcome {
            Err(error) => Err(Failure::of(&error, &call_limits, Phase::Call)),
            Ok(()) => {
                let bytes = json_val::wire_size(&answer[0]);
                if bytes > call_limits.max_output_bytes {
                    Err(Failure {
                        fault: Fault::OutputTooLarge {
                            bytes,
                            limit: call_limits.max_output_bytes,
                        },
                        during: Phase::Call,
                        backtrace: Vec::new(),
                    })
                } else {
                    Ok(json_val::to_json(&answer[0]))
                }
            }
        };
        Ok(JsonCall {
            result,
            fuel_used,
            duration,
            memory_peak_bytes: store.data().memory_peak_bytes(),
            logs: store.data_mut().take_logs(),
        })
    }

    /// `configure` and the policy function of the instance's exported
    /// interface. `Plugin::load` checked they exist.
    fn exported_functions(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
    ) -> Result<(Func, Func), String> {
        let identity = self.identity();
        let interface = format!("chanhost:policy/{}@{}", identity.kind, identity.wit_version);
        let exported = instance
            .get_export_index(&mut *store, None, &interface)
            .ok_or_else(|| format!("the instance does not export {interface}"))?;
        let mut func = |name: &str| {
            instance
                .get_export_index(&mut *store, Some(&exported), name)
                .and_then(|index| instance.get_func(&mut *store, index))
                .ok_or_else(|| format!("{interface} has no function `{name}`"))
        };
        Ok((func("configure")?, func(policy_function(identity.kind))?))
    }
}

impl Failure {
    fn of(error: &wasmtime::Error, limits: &Limits, during: Phase) -> Failure {
        Failure {
            fault: classify(error, limits),
            during,
            backtrace: error
                .downcast_ref::<WasmBacktrace>()
                .map(frames)
                .unwrap_or_default(),
        }
    }

    /// A failure of the host's own making, reported as a trap.
    fn host(message: String, during: Phase) -> Failure {
        Failure {
            fault: Fault::Trap { message },
            during,
            backtrace: Vec::new(),
        }
    }
}

/// A call that faulted before the policy function ran.
fn faulted(store: Option<&mut Store<Sandbox>>, failure: Failure) -> JsonCall {
    let (memory_peak_bytes, logs) = match store {
        Some(store) => (
            store.data().memory_peak_bytes(),
            store.data_mut().take_logs(),
        ),
        None => (0, Vec::new()),
    };
    JsonCall {
        result: Err(failure),
        fuel_used: 0,
        duration: Duration::ZERO,
        memory_peak_bytes,
        logs,
    }
}

fn frames(backtrace: &WasmBacktrace) -> Vec<Frame> {
    backtrace
        .frames()
        .iter()
        .map(|frame| Frame {
            module: frame.module().name().map(str::to_string),
            function: frame
                .func_name()
                .map(|name| format!("{:#}", rustc_demangle::demangle(name))),
            func_index: frame.func_index(),
            offset: frame.func_offset(),
        })
        .collect()
}

/// The input's `order.placed-at`, which every kind's input carries: the
/// plugin's WASI wall clock reads it, as in production.
fn placed_at(input: &Val) -> Option<i64> {
    fn field<'v>(val: &'v Val, name: &str) -> Option<&'v Val> {
        match val {
            Val::Record(fields) => fields.iter().find(|(f, _)| f == name).map(|(_, v)| v),
            _ => None,
        }
    }
    match field(field(input, "order")?, "placed-at")? {
        Val::S64(ms) => Some(*ms),
        _ => None,
    }
}
