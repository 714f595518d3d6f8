//! The answer the pipeline gives for one order, and its trace.

use serde::{Deserialize, Serialize};

use super::limits::Fault;
use super::plugin::PluginIdentity;
use super::sandbox::LogLine;
use super::types::{Adjustment, PricedLine, Reason, SourcingPlan, Verdict};
use crate::domain::Fen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Every check passed: the order can be reserved.
    Accepted,
    /// A person must review it (anti-diversion said so, or a plugin that
    /// fails closed faulted).
    Held,
    /// Not accepted; nothing is to be persisted or reserved.
    Rejected,
}

/// One evaluated order: status, prices, promotions, sourcing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub order_id: String,
    pub region: String,
    pub status: DecisionStatus,
    /// Why the order is held or rejected.
    pub reasons: Vec<Reason>,
    pub lines: Vec<DecidedLine>,
    pub free_goods: Vec<FreeGoodsLine>,
    pub adjustments: Vec<Adjustment>,
    pub totals: Totals,
    pub sourcing: Option<SourcingPlan>,
    pub trace: Trace,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Fen,
    /// unit price × quantity.
    pub amount: Fen,
    /// Line discounts from promotions.
    pub discount: Fen,
    pub explanation: String,
}

/// A line given at no charge by a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeGoodsLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    pub promotion_id: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Fen,
    pub line_discounts: Fen,
    pub order_discounts: Fen,
    /// What the dealer pays: subtotal − all discounts.
    pub total: Fen,
}

/// Each plugin call that took part in the decision, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub steps: Vec<TraceStep>,
    /// Wall time of the whole evaluation.
    pub total_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// The output was used.
    Ok,
    /// The plugin faulted; its kind's failure policy applied.
    Fault,
    /// The plugin is quarantined and was not called.
    Quarantined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// `anti_diversion`, `pricing`, `promotions/<id>`, `sourcing`, or
    /// `fallback_sourcing`.
    pub slot: String,
    /// The deployment that put this plugin in the slot; absent when the
    /// slot runs the brand directory's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    pub plugin: PluginIdentity,
    pub status: StepStatus,
    pub fault: Option<Fault>,
    /// What the failure policy did about a fault, for a person.
    pub consequence: Option<String>,
    pub fuel_used: u64,
    pub duration_us: u64,
    pub output: Option<StepOutput>,
    /// HQ guardrail findings on the output (non-empty means a fault).
    pub guardrail_findings: Vec<String>,
    pub logs: Vec<LogLine>,
}

/// A plugin's output as the trace keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepOutput {
    Verdict(Verdict),
    Prices(Vec<PricedLine>),
    Adjustments(Vec<Adjustment>),
    Sourcing(SourcingPlan),
}
