//! How two decisions for the same order differ: what a shadow run or a
//! replay reports. A diff looks at what a dealer or a warehouse would
//! notice — verdict, prices, promotions, routing, total — while
//! [`same_decision`] answers the stricter question of whether a decision
//! was reproduced exactly (everything but wall-clock timings).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::decision::{DecidedLine, Decision, DecisionStatus, StepOutput, Trace, TraceStep};
use crate::domain::Fen;

/// A value in the active decision and in the candidate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    pub fn new(from: T, to: T) -> Self {
        Change { from, to }
    }

    pub fn changed(&self) -> bool {
        self.from != self.to
    }
}

/// One order's differences between the active policy (`from`) and a
/// candidate (`to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionDiff {
    pub order_id: String,
    /// Present only when the status differs.
    pub verdict: Option<Change<DecisionStatus>>,
    /// Lines whose unit price or line discount differs, by line number.
    pub prices: Vec<PriceChange>,
    pub promotions: PromotionChange,
    /// SKUs whose allocations or backorder differ, by SKU.
    pub routing: Vec<RoutingChange>,
    /// What the dealer pays in both decisions (equal when unchanged), 0
    /// for a rejected order.
    pub total: Change<Fen>,
}

/// A line's price in one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinePrice {
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub unit_price: Fen,
    /// Line discounts from promotions.
    #[schema(value_type = i64)]
    pub discount: Fen,
}

/// A line priced differently; `None` where one decision has no price for
/// it (e.g. the order was rejected before pricing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PriceChange {
    pub line_no: u32,
    pub sku: String,
    pub from: Option<LinePrice>,
    pub to: Option<LinePrice>,
}

/// Promotion ids that produced adjustments or free goods in the candidate
/// but not the active decision (`added`), and the reverse (`removed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromotionChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl PromotionChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Where one SKU's quantity is reserved, warehouse → quantity, and how
/// much of it is backordered, in both decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutingChange {
    pub sku: String,
    pub from: BTreeMap<String, u32>,
    pub to: BTreeMap<String, u32>,
    pub backordered: Change<u32>,
}

impl DecisionDiff {
    /// How `candidate` differs from `active` for the same order.
    pub fn between(active: &Decision, candidate: &Decision) -> Self {
        DecisionDiff {
            order_id: active.order_id.clone(),
            verdict: (active.status != candidate.status)
                .then(|| Change::new(active.status, candidate.status)),
            prices: price_changes(&active.lines, &candidate.lines),
            promotions: promotion_change(active, candidate),
            routing: routing_changes(active, candidate),
            total: Change::new(revenue(active), revenue(candidate)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.verdict.is_none()
            && self.prices.is_empty()
            && self.promotions.is_empty()
            && self.routing.is_empty()
            && !self.total.changed()
    }

    /// Candidate revenue − active revenue.
    pub fn revenue_impact(&self) -> Fen {
        self.total.to - self.total.from
    }
}

/// What the dealer pays for an order: nothing when it is rejected.
fn revenue(decision: &Decision) -> Fen {
    if decision.status == DecisionStatus::Rejected {
        0
    } else {
        decision.totals.total
    }
}

fn price_changes(active: &[DecidedLine], candidate: &[DecidedLine]) -> Vec<PriceChange> {
    let price = |l: &DecidedLine| LinePrice {
        unit_price: l.unit_price,
        discount: l.discount,
    };
    // Cheap and common: the same lines at the same prices.
    if active.len() == candidate.len()
        && active
            .iter()
            .zip(candidate)
            .all(|(a, c)| a.line_no == c.line_no && price(a) == price(c))
    {
        return Vec::new();
    }
    let mut by_line: BTreeMap<u32, (&str, Option<LinePrice>, Option<LinePrice>)> = BTreeMap::new();
    for line in active {
        by_line
            .entry(line.line_no)
            .or_insert((&line.sku, None, None))
            .1 = Some(price(line));
    }
    for line in candidate {
        by_line
            .entry(line.line_no)
            .or_insert((&line.sku, None, None))
            .2 = Some(price(line));
    }
    by_line
        .into_iter()
        .filter(|(_, (_, from, to))| from != to)
        .map(|(line_no, (sku, from, to))| PriceChange {
            line_no,
            sku: sku.to_string(),
            from,
            to,
        })
        .collect()
}

/// The promotions that did something to an order.
fn promotions_used(decision: &Decision) -> BTreeSet<&str> {
    let adjusting = decision.adjustments.iter().map(|a| a.promotion_id.as_str());
    let giving = decision.free_goods.iter().map(|f| f.promotion_id.as_str());
    adjusting.chain(giving).collect()
}

fn promotion_change(active: &Decision, candidate: &Decision) -> PromotionChange {
    let from = promotions_used(active);
    let to = promotions_used(candidate);
    PromotionChange {
        added: to.difference(&from).map(|id| id.to_string()).collect(),
        removed: from.difference(&to).map(|id| id.to_string()).collect(),
    }
}

/// Per SKU: warehouse → allocated quantity, and the backordered quantity.
type Routing<'a> = BTreeMap<&'a str, (BTreeMap<String, u32>, u32)>;

fn routing(decision: &Decision) -> Routing<'_> {
    let mut routing: Routing = BTreeMap::new();
    let Some(plan) = &decision.sourcing else {
        return routing;
    };
    for allocation in &plan.allocations {
        let (warehouses, _) = routing.entry(&allocation.sku).or_default();
        *warehouses
            .entry(allocation.warehouse_id.clone())
            .or_default() += allocation.quantity;
    }
    for backorder in &plan.backorders {
        routing.entry(&backorder.sku).or_default().1 += backorder.quantity;
    }
    routing
}

fn routing_changes(active: &Decision, candidate: &Decision) -> Vec<RoutingChange> {
    // Cheap and common: the same plan.
    if active.sourcing == candidate.sourcing {
        return Vec::new();
    }
    let mut from = routing(active);
    let mut to = routing(candidate);
    let skus: BTreeSet<&str> = from.keys().chain(to.keys()).copied().collect();
    skus.into_iter()
        .filter_map(|sku| {
            let (from_warehouses, from_backordered) = from.remove(sku).unwrap_or_default();
            let (to_warehouses, to_backordered) = to.remove(sku).unwrap_or_default();
            let change = RoutingChange {
                sku: sku.to_string(),
                from: from_warehouses,
                to: to_warehouses,
                backordered: Change::new(from_backordered, to_backordered),
            };
            (change.from != change.to || change.backordered.changed()).then_some(change)
        })
        .collect()
}

/// What a shadow run or a replay found over many orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiffSummary {
    pub orders_compared: u64,
    pub orders_differing: u64,
    pub verdict_changed: u64,
    pub price_changed: u64,
    pub promotions_changed: u64,
    pub routing_changed: u64,
    /// Σ candidate revenue − active revenue.
    pub revenue_impact_fen: i64,
    /// The first [`DiffSummary::KEPT`] differing orders, in the order
    /// recorded.
    pub differences: Vec<DecisionDiff>,
}

impl DiffSummary {
    /// How many differing orders a summary keeps in full.
    pub const KEPT: usize = 100;

    /// Counts one compared order (an empty diff counts as compared only).
    pub fn record(&mut self, diff: DecisionDiff) {
        self.orders_compared += 1;
        if diff.is_empty() {
            return;
        }
        self.orders_differing += 1;
        self.verdict_changed += u64::from(diff.verdict.is_some());
        self.price_changed += u64::from(!diff.prices.is_empty());
        self.promotions_changed += u64::from(!diff.promotions.is_empty());
        self.routing_changed += u64::from(!diff.routing.is_empty());
        self.revenue_impact_fen += diff.revenue_impact();
        if self.differences.len() < Self::KEPT {
            self.differences.push(diff);
        }
    }

    /// Adds the counts of `other`, recorded after this one's orders.
    pub fn merge(&mut self, other: DiffSummary) {
        self.orders_compared += other.orders_compared;
        self.orders_differing += other.orders_differing;
        self.verdict_changed += other.verdict_changed;
        self.price_changed += other.price_changed;
        self.promotions_changed += other.promotions_changed;
        self.routing_changed += other.routing_changed;
        self.revenue_impact_fen += other.revenue_impact_fen;
        let room = Self::KEPT.saturating_sub(self.differences.len());
        self.differences
            .extend(other.differences.into_iter().take(room));
    }
}

/// Whether two decisions are the same but for what they cost: a replay of
/// the policy that decided an order must give exactly this. Wall time and
/// fuel are measurements of a run, not part of the decision: fuel depends
/// on whether the instance was warm (a reused instance's allocator has
/// free lists a fresh one lacks), as time depends on the machine.
pub fn same_decision(a: &Decision, b: &Decision) -> bool {
    // Destructured so that a field added to `Decision` has to be placed here.
    let Decision {
        order_id,
        region,
        status,
        reasons,
        lines,
        free_goods,
        adjustments,
        totals,
        sourcing,
        trace,
    } = a;
    *order_id == b.order_id
        && *region == b.region
        && *status == b.status
        && *reasons == b.reasons
        && *lines == b.lines
        && *free_goods == b.free_goods
        && *adjustments == b.adjustments
        && *totals == b.totals
        && *sourcing == b.sourcing
        && same_trace(trace, &b.trace)
}

fn same_trace(a: &Trace, b: &Trace) -> bool {
    let Trace { steps, total_us: _ } = a;
    steps.len() == b.steps.len() && steps.iter().zip(&b.steps).all(|(a, b)| same_step(a, b))
}

fn same_step(a: &TraceStep, b: &TraceStep) -> bool {
    let TraceStep {
        slot,
        deployment_id,
        plugin,
        status,
        fault,
        consequence,
        fuel_used: _,
        duration_us: _,
        output,
        guardrail_findings,
        logs,
    } = a;
    *slot == b.slot
        && *deployment_id == b.deployment_id
        && *plugin == b.plugin
        && *status == b.status
        && *fault == b.fault
        && *consequence == b.consequence
        && same_output(output.as_ref(), b.output.as_ref())
        && *guardrail_findings == b.guardrail_findings
        && *logs == b.logs
}

/// `StepOutput` is untagged: an empty list reads back from a stored trace
/// as `Prices([])` whichever kind of plugin returned it, so a promotion
/// that gave nothing is stored as `[]` and must equal `Adjustments([])`.
fn same_output(a: Option<&StepOutput>, b: Option<&StepOutput>) -> bool {
    let empty = |o: Option<&StepOutput>| match o {
        Some(StepOutput::Prices(lines)) => lines.is_empty(),
        Some(StepOutput::Adjustments(adjustments)) => adjustments.is_empty(),
        _ => false,
    };
    a == b || (empty(a) && empty(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::decision::{FreeGoodsLine, StepStatus, Totals};
    use crate::policy::plugin::PluginIdentity;
    use crate::policy::types::{
        Adjustment, AdjustmentKind, Allocation, Backorder, PluginKind, Reason, SourcingPlan,
    };

    fn line(line_no: u32, sku: &str, quantity: u32, unit_price: Fen, discount: Fen) -> DecidedLine {
        DecidedLine {
            line_no,
            sku: sku.into(),
            quantity,
            unit_price,
            amount: unit_price * Fen::from(quantity),
            discount,
            explanation: format!("{sku} at {unit_price}"),
        }
    }

    fn allocation(warehouse: &str, sku: &str, quantity: u32) -> Allocation {
        Allocation {
            warehouse_id: warehouse.into(),
            sku: sku.into(),
            quantity,
        }
    }

    fn step(slot: &str, duration_us: u64) -> TraceStep {
        TraceStep {
            slot: slot.into(),
            deployment_id: None,
            plugin: PluginIdentity {
                name: "pricing-tiered".into(),
                version: "0.1.0".into(),
                kind: PluginKind::Pricing,
                hash: "ab".repeat(32),
                wit_version: "0.1.0".into(),
            },
            status: StepStatus::Ok,
            fault: None,
            consequence: None,
            fuel_used: 12_345,
            duration_us,
            output: None,
            guardrail_findings: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// Two lines, a 10-bottle promotion on line 1, stock from two warehouses.
    fn decision() -> Decision {
        let lines = vec![
            line(1, "BJ-001", 5, 10_000, 500),
            line(2, "LA-001", 30, 2_000, 0),
        ];
        let subtotal = lines.iter().map(|l| l.amount).sum::<Fen>();
        Decision {
            order_id: "ord-1".into(),
            region: "gd".into(),
            status: DecisionStatus::Accepted,
            reasons: Vec::new(),
            lines,
            free_goods: Vec::new(),
            adjustments: vec![Adjustment {
                promotion_id: "spring".into(),
                kind: AdjustmentKind::LineDiscount {
                    line_no: 1,
                    amount: 500,
                },
                description: "spring".into(),
            }],
            totals: Totals {
                subtotal,
                line_discounts: 500,
                order_discounts: 0,
                total: subtotal - 500,
            },
            sourcing: Some(SourcingPlan {
                allocations: vec![
                    allocation("wh-gd-1", "BJ-001", 5),
                    allocation("wh-gd-1", "LA-001", 20),
                    allocation("wh-gd-2", "LA-001", 10),
                ],
                backorders: Vec::new(),
                priority: 1,
                priority_reasons: Vec::new(),
                signals: Vec::new(),
            }),
            trace: Trace {
                steps: vec![step("pricing", 40), step("sourcing", 30)],
                total_us: 90,
            },
        }
    }

    fn set_total(d: &mut Decision) {
        d.totals.subtotal = d.lines.iter().map(|l| l.amount).sum();
        d.totals.line_discounts = d.lines.iter().map(|l| l.discount).sum();
        d.totals.total = d.totals.subtotal - d.totals.line_discounts - d.totals.order_discounts;
    }

    #[test]
    fn identical_decisions_have_an_empty_diff() {
        let diff = DecisionDiff::between(&decision(), &decision());
        assert!(diff.is_empty(), "{diff:?}");
        assert_eq!(diff.revenue_impact(), 0);
        assert_eq!(
            diff.total,
            Change::new(decision().totals.total, decision().totals.total)
        );
    }

    #[test]
    fn a_changed_unit_price_and_discount_are_reported_per_line() {
        let active = decision();
        let mut candidate = decision();
        candidate.lines[1] = line(2, "LA-001", 30, 2_100, 0);
        candidate.lines[0].discount = 700;
        set_total(&mut candidate);
        let diff = DecisionDiff::between(&active, &candidate);
        assert_eq!(
            diff.prices,
            vec![
                PriceChange {
                    line_no: 1,
                    sku: "BJ-001".into(),
                    from: Some(LinePrice {
                        unit_price: 10_000,
                        discount: 500
                    }),
                    to: Some(LinePrice {
                        unit_price: 10_000,
                        discount: 700
                    }),
                },
                PriceChange {
                    line_no: 2,
                    sku: "LA-001".into(),
                    from: Some(LinePrice {
                        unit_price: 2_000,
                        discount: 0
                    }),
                    to: Some(LinePrice {
                        unit_price: 2_100,
                        discount: 0
                    }),
                },
            ]
        );
        assert!(diff.verdict.is_none());
        assert!(diff.promotions.is_empty());
        assert!(diff.routing.is_empty());
        // +100 fen × 30 − 200 fen more discount.
        assert_eq!(diff.revenue_impact(), 2_800);
        assert!(!diff.is_empty());
    }

    #[test]
    fn an_explanation_alone_is_no_difference_but_not_the_same_decision() {
        let mut candidate = decision();
        candidate.lines[0].explanation = "worded otherwise".into();
        assert!(DecisionDiff::between(&decision(), &candidate).is_empty());
        assert!(!same_decision(&decision(), &candidate));
    }

    #[test]
    fn promotions_compare_by_the_ids_that_did_something() {
        let active = decision();
        let mut candidate = decision();
        candidate.adjustments.clear();
        candidate.free_goods.push(FreeGoodsLine {
            line_no: 3,
            sku: "LA-001".into(),
            quantity: 1,
            promotion_id: "gift".into(),
        });
        candidate.adjustments.push(Adjustment {
            promotion_id: "gift".into(),
            kind: AdjustmentKind::FreeGoods {
                sku: "LA-001".into(),
                quantity: 1,
            },
            description: "gift".into(),
        });
        let diff = DecisionDiff::between(&active, &candidate);
        assert_eq!(
            diff.promotions,
            PromotionChange {
                added: vec!["gift".into()],
                removed: vec!["spring".into()],
            }
        );
    }

    #[test]
    fn routing_compares_per_sku_allocations_and_backorders() {
        let active = decision();
        let mut candidate = decision();
        let plan = candidate.sourcing.as_mut().unwrap();
        // Same LA-001 split listed in another order: no difference.
        plan.allocations.swap(1, 2);
        assert!(
            DecisionDiff::between(&active, &candidate)
                .routing
                .is_empty()
        );
        // BJ-001 moves to another warehouse, partly backordered.
        let plan = candidate.sourcing.as_mut().unwrap();
        plan.allocations[0] = allocation("wh-hq", "BJ-001", 3);
        plan.backorders.push(Backorder {
            sku: "BJ-001".into(),
            quantity: 2,
        });
        let diff = DecisionDiff::between(&active, &candidate);
        assert_eq!(
            diff.routing,
            vec![RoutingChange {
                sku: "BJ-001".into(),
                from: BTreeMap::from([("wh-gd-1".to_string(), 5)]),
                to: BTreeMap::from([("wh-hq".to_string(), 3)]),
                backordered: Change::new(0, 2),
            }]
        );
        assert_eq!(diff.revenue_impact(), 0);
    }

    #[test]
    fn a_rejection_loses_the_whole_order_revenue() {
        let active = decision();
        let mut candidate = decision();
        candidate.status = DecisionStatus::Rejected;
        candidate.reasons.push(Reason {
            code: "pricing-unavailable".into(),
            message: "no".into(),
        });
        candidate.lines.clear();
        candidate.adjustments.clear();
        candidate.sourcing = None;
        set_total(&mut candidate);
        let diff = DecisionDiff::between(&active, &candidate);
        assert_eq!(
            diff.verdict,
            Some(Change::new(
                DecisionStatus::Accepted,
                DecisionStatus::Rejected
            ))
        );
        assert_eq!(diff.prices.len(), 2);
        assert!(
            diff.prices
                .iter()
                .all(|p| p.from.is_some() && p.to.is_none())
        );
        assert_eq!(diff.routing.len(), 2);
        assert_eq!(diff.revenue_impact(), -active.totals.total);
        // And back: a rejected active decision counts 0 even with a total.
        let mut rejected = decision();
        rejected.status = DecisionStatus::Rejected;
        let back = DecisionDiff::between(&rejected, &active);
        assert_eq!(back.revenue_impact(), active.totals.total);
        // A hold keeps the revenue.
        let mut held = decision();
        held.status = DecisionStatus::Held;
        assert_eq!(DecisionDiff::between(&active, &held).revenue_impact(), 0);
    }

    #[test]
    fn same_decision_ignores_only_what_a_run_cost() {
        let a = decision();
        let mut b = decision();
        b.trace.total_us = 9_999;
        b.trace.steps[0].duration_us = 1;
        b.trace.steps[1].fuel_used += 1;
        assert!(same_decision(&a, &b));
        b.trace.steps[1].logs.push(crate::policy::sandbox::LogLine {
            level: "info".into(),
            message: "extra".into(),
        });
        assert!(!same_decision(&a, &b));
        let mut c = decision();
        c.trace.steps.pop();
        assert!(!same_decision(&a, &c));
        let mut d = decision();
        d.sourcing.as_mut().unwrap().priority = 2;
        assert!(!same_decision(&a, &d));
    }

    #[test]
    fn a_promotion_that_gave_nothing_is_the_same_after_a_trip_through_json() {
        let mut a = decision();
        a.trace.steps[1].output = Some(StepOutput::Adjustments(Vec::new()));
        let stored: Decision = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert!(same_decision(&stored, &a));
        let mut b = a.clone();
        b.trace.steps[1].output = None;
        assert!(!same_decision(&a, &b));
    }

    #[test]
    fn the_summary_counts_every_order_and_keeps_the_first_hundred() {
        let active = decision();
        let mut cheaper = decision();
        cheaper.lines[1].unit_price = 1_900;
        cheaper.lines[1].amount = 1_900 * 30;
        set_total(&mut cheaper);
        let mut summary = DiffSummary::default();
        let mut later = DiffSummary::default();
        for i in 0..150 {
            let (mut a, mut c) = (active.clone(), cheaper.clone());
            a.order_id = format!("ord-{i}");
            c.order_id = a.order_id.clone();
            let target = if i < 80 { &mut summary } else { &mut later };
            target.record(DecisionDiff::between(&a, &a));
            target.record(DecisionDiff::between(&a, &c));
        }
        assert_eq!(summary.differences.len(), 80);
        summary.merge(later);
        assert_eq!(summary.orders_compared, 300);
        assert_eq!(summary.orders_differing, 150);
        assert_eq!(summary.price_changed, 150);
        assert_eq!(summary.verdict_changed, 0);
        assert_eq!(summary.promotions_changed, 0);
        assert_eq!(summary.routing_changed, 0);
        assert_eq!(summary.revenue_impact_fen, 150 * -100 * 30);
        assert_eq!(summary.differences.len(), DiffSummary::KEPT);
        assert_eq!(summary.differences[0].order_id, "ord-0");
        assert_eq!(summary.differences[99].order_id, "ord-99");
        let json = serde_json::to_string(&summary).unwrap();
        let back: DiffSummary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, summary);
    }
}
