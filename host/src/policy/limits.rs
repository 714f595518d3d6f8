//! The bounds every plugin call runs inside, and how a broken bound is named.

use serde::{Deserialize, Serialize};

/// Per-call sandbox limits. HQ sets them in `hq.toml` under `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Instruction budget per call (wasmtime fuel, about one unit per
    /// instruction). Shopify Functions allow 11M.
    pub fuel: u64,
    /// Linear memory a plugin may grow to.
    pub memory_bytes: usize,
    /// WebAssembly stack a plugin may use (deep recursion traps here).
    pub stack_bytes: usize,
    /// Wall-clock budget per call, enforced by epoch interruption.
    pub deadline_ms: u64,
    /// Wall-clock budget of the `describe` and `configure` calls that
    /// check a plugin while it is loaded or deployed. They run once per
    /// slot, not per order, so they get room for a busy machine: a start
    /// or a deployment should not fail because the host was loaded.
    pub setup_deadline_ms: u64,
    /// Largest input the host sends to one call (approximate wire size).
    pub max_input_bytes: usize,
    /// Largest output the host accepts from one call.
    pub max_output_bytes: usize,
    /// Log lines kept per call; the rest are counted, not kept.
    pub max_log_lines: usize,
    /// Bytes kept of each log line.
    pub max_log_line_bytes: usize,
    /// Largest component file accepted.
    pub max_component_bytes: usize,
    /// Keep instances warm between calls of the same slot (see
    /// `plugin::InstancePool`); `false` instantiates afresh for every call.
    pub reuse_instances: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 11_000_000,
            memory_bytes: 16 << 20,
            stack_bytes: 512 << 10,
            deadline_ms: 50,
            setup_deadline_ms: 2_000,
            max_input_bytes: 1 << 20,
            max_output_bytes: 256 << 10,
            max_log_lines: 32,
            max_log_line_bytes: 512,
            max_component_bytes: 16 << 20,
            reuse_instances: true,
        }
    }
}

/// Which bound a call broke, or how else it failed. Every fault is handled
/// by the failure policy of the plugin's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    #[error("ran out of fuel (instruction budget of {limit})")]
    OutOfFuel { limit: u64 },
    #[error("exceeded its wall-clock deadline of {limit_ms} ms")]
    Deadline { limit_ms: u64 },
    #[error("tried to grow memory beyond {limit_bytes} bytes")]
    Memory { limit_bytes: usize },
    #[error("overflowed its stack ({limit_bytes} bytes)")]
    Stack { limit_bytes: usize },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("input of {bytes} bytes exceeds the {limit} byte limit")]
    InputTooLarge { bytes: usize, limit: usize },
    #[error("output of {bytes} bytes exceeds the {limit} byte limit")]
    OutputTooLarge { bytes: usize, limit: usize },
    #[error("returned error {code}: {message}")]
    PluginError { code: String, message: String },
    #[error("broke HQ guardrails: {}", findings.join("; "))]
    Guardrail { findings: Vec<String> },
    #[error("is quarantined after repeated faults")]
    Quarantined,
}

impl Fault {
    /// A stable code for traces and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::OutOfFuel { .. } => "out-of-fuel",
            Fault::Deadline { .. } => "deadline",
            Fault::Memory { .. } => "memory-limit",
            Fault::Stack { .. } => "stack-overflow",
            Fault::Trap { .. } => "trap",
            Fault::InputTooLarge { .. } => "input-too-large",
            Fault::OutputTooLarge { .. } => "output-too-large",
            Fault::PluginError { .. } => "plugin-error",
            Fault::Guardrail { .. } => "guardrail",
            Fault::Quarantined => "quarantined",
        }
    }

    /// Whether this fault counts against the plugin's health (a plugin that
    /// says "I can't price this" on purpose is not broken).
    pub fn counts_against_health(&self) -> bool {
        !matches!(
            self,
            Fault::PluginError { .. } | Fault::Quarantined | Fault::InputTooLarge { .. }
        )
    }
}
