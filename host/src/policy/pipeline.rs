//! The one entry point that evaluates an order for a region:
//! anti-diversion → pricing → promotions → sourcing, each output checked
//! by HQ's guardrails, each fault handled by its kind's failure policy:
//!
//! | kind           | on a fault                                        |
//! |----------------|---------------------------------------------------|
//! | anti-diversion | fail closed: the order is held for review         |
//! | pricing        | fail closed: the order is rejected                |
//! | promotion      | that promotion is skipped, the rest apply         |
//! | sourcing       | HQ's fallback sourcing decides; if it faults too, |
//! |                | the order is held                                 |
//!
//! Everything the plugins need comes in as input and everything they
//! decide goes out in the [`Decision`], which is what makes a replay exact.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::convert::{self, wit_anti_diversion, wit_pricing, wit_promotion, wit_sourcing};
use super::decision::*;
use super::guardrails::PromotedSoFar;
use super::limits::Fault;
use super::plugin::Call;
use super::region::{PolicySet, RegionPolicy, Slot};
use super::types::{Adjustment, AdjustmentKind, Reason, SourcingPlan, Verdict};
use crate::domain::{Dealer, Fen, Order, OrderLine, Warehouse};

/// What the pipeline needs to know about one order beyond the brand's
/// configuration: the order, who placed it, and the stock it may draw on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderContext {
    pub order: Order,
    pub dealer: Dealer,
    /// Candidate warehouses with their available stock.
    pub warehouses: Vec<Warehouse>,
}

/// Input that cannot be evaluated at all (a 4xx, not a decision).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("unknown region {0}")]
    UnknownRegion(String),
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl EvalError {
    fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        EvalError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl PolicySet {
    /// Evaluates `context.order` with the plugins of its region.
    pub fn evaluate(&self, context: &OrderContext) -> Result<Decision, EvalError> {
        let started = Instant::now();
        let region = self.region_for(context)?;
        self.run(&region, context, started)
    }

    /// Evaluates `context.order` as it would be with `candidate` in its
    /// slot: a shadow run, whose decision is compared, never used.
    pub fn evaluate_shadow(
        &self,
        context: &OrderContext,
        candidate: &Slot,
    ) -> Result<Decision, EvalError> {
        let started = Instant::now();
        let region = self.region_for(context)?.with_slot(candidate.clone());
        self.run(&region, context, started)
    }

    /// The checked order's region policy as its dealer gets it: a canary
    /// replaces a slot for the dealers in its audience.
    fn region_for(&self, context: &OrderContext) -> Result<Cow<'_, RegionPolicy>, EvalError> {
        let order = &context.order;
        let region = self
            .regions
            .get(&order.region)
            .ok_or_else(|| EvalError::UnknownRegion(order.region.clone()))?;
        self.validate(context)?;
        Ok(region.for_dealer(&order.dealer_id))
    }

    fn run(
        &self,
        region: &RegionPolicy,
        context: &OrderContext,
        started: Instant,
    ) -> Result<Decision, EvalError> {
        let mut run = Run::new(self, region, context);

        run.host_checks();
        if run.status() != DecisionStatus::Rejected {
            run.anti_diversion();
        }
        if run.status() != DecisionStatus::Rejected {
            run.pricing();
        }
        if run.status() != DecisionStatus::Rejected {
            run.promotions();
            run.sourcing();
        }
        Ok(run.finish(started))
    }

    fn validate(&self, context: &OrderContext) -> Result<(), EvalError> {
        let order = &context.order;
        if let Some(problem) = order.problems().into_iter().next() {
            return Err(EvalError::invalid(
                format!("/order{}", problem.path),
                problem.message,
            ));
        }
        if context.dealer.id != order.dealer_id {
            return Err(EvalError::invalid(
                "/dealer/id",
                format!(
                    "dealer {} did not place order {}",
                    context.dealer.id, order.id
                ),
            ));
        }
        for (i, line) in order.lines.iter().enumerate() {
            if !self.catalogue.contains_key(&line.sku) {
                return Err(EvalError::invalid(
                    format!("/order/lines/{i}/sku"),
                    format!("unknown SKU {}", line.sku),
                ));
            }
        }
        let mut ids = BTreeSet::new();
        for (i, warehouse) in context.warehouses.iter().enumerate() {
            if !ids.insert(&warehouse.id) {
                return Err(EvalError::invalid(
                    format!("/warehouses/{i}/id"),
                    format!("warehouse {} listed twice", warehouse.id),
                ));
            }
        }
        let input_bytes = approx_input_bytes(context);
        let limit = self.engine.limits().max_input_bytes;
        if input_bytes > limit {
            return Err(EvalError::invalid(
                "",
                format!("order context of ~{input_bytes} bytes exceeds the {limit} byte limit"),
            ));
        }
        Ok(())
    }
}

/// The state of one evaluation as it moves through the steps.
struct Run<'a> {
    set: &'a PolicySet,
    region: &'a RegionPolicy,
    context: &'a OrderContext,
    /// The order, dealer and ordered products as plugins get them: built
    /// once, moved into each call's input and back out of it after the call.
    lowered: Option<Lowered>,
    reasons: Vec<Reason>,
    rejected: bool,
    lines: Vec<DecidedLine>,
    adjustments: Vec<Adjustment>,
    free_goods: Vec<FreeGoodsLine>,
    order_discounts: Fen,
    sourcing: Option<SourcingPlan>,
    steps: Vec<TraceStep>,
}

impl<'a> Run<'a> {
    fn new(set: &'a PolicySet, region: &'a RegionPolicy, context: &'a OrderContext) -> Self {
        let products = ordered_products(set, context.order.lines.iter().map(|l| l.sku.as_str()));
        Run {
            set,
            region,
            context,
            lowered: Some(Lowered {
                order: convert::order(&context.order, &products),
                dealer: convert::dealer(&context.dealer),
                products,
            }),
            reasons: Vec::new(),
            rejected: false,
            lines: Vec::new(),
            adjustments: Vec::new(),
            free_goods: Vec::new(),
            order_discounts: 0,
            sourcing: None,
            steps: Vec::new(),
        }
    }

    fn status(&self) -> DecisionStatus {
        if self.rejected {
            DecisionStatus::Rejected
        } else if !self.reasons.is_empty() {
            DecisionStatus::Held
        } else {
            DecisionStatus::Accepted
        }
    }

    fn reject(&mut self, code: &str, message: String) {
        self.rejected = true;
        self.reasons.push(Reason {
            code: code.into(),
            message,
        });
    }

    fn hold(&mut self, code: &str, message: String) {
        self.reasons.push(Reason {
            code: code.into(),
            message,
        });
    }

    /// What the host itself refuses before any plugin: SKUs the region
    /// does not list.
    fn host_checks(&mut self) {
        for line in &self.context.order.lines {
            if !self.region.region.lists(&line.sku) {
                let message = format!(
                    "line {}: SKU {} is not listed in region {}",
                    line.line_no, line.sku, self.region.region.id
                );
                self.reject("sku-not-listed", message);
            }
        }
    }

    fn take_lowered(&mut self) -> Lowered {
        self.lowered
            .take()
            .expect("every step puts the lowered input back")
    }

    fn anti_diversion(&mut self) {
        let slot = &self.region.anti_diversion;
        let Lowered {
            order,
            dealer,
            products,
        } = self.take_lowered();
        let input = wit_anti_diversion::CheckInput {
            order,
            dealer,
            products,
        };
        let (verdict, step) = guarded(
            self.set,
            slot,
            || slot.check(&input),
            |_| Vec::new(),
            StepOutput::Verdict,
        );
        self.lowered = Some(Lowered {
            order: input.order,
            dealer: input.dealer,
            products: input.products,
        });
        match verdict {
            Some(Verdict::Allow) => {}
            Some(Verdict::Hold(reasons)) => self.reasons.extend(reasons),
            Some(Verdict::Reject(reasons)) => {
                self.rejected = true;
                self.reasons.extend(reasons);
            }
            None => {
                let why = step_failure(&step);
                self.hold(
                    "anti-diversion-unavailable",
                    format!(
                        "anti-diversion check {} ({why}); held for review",
                        slot.plugin.identity().name
                    ),
                );
            }
        }
        self.push(step, "order held for review");
    }

    fn pricing(&mut self) {
        let slot = &self.region.pricing;
        let guardrails = &self.set.guardrails;
        let Lowered {
            order,
            dealer,
            products,
        } = self.take_lowered();
        // One price context per product, at the product's index.
        let prices = products
            .iter()
            .map(|product| {
                let (floor, ceiling) = guardrails.band(product.base_price);
                wit_pricing::PriceContext {
                    sku: product.sku.clone(),
                    base_price: product.base_price,
                    region_adjustment_bp: self.region.region.adjustment_bp(&product.sku),
                    floor,
                    ceiling,
                }
            })
            .collect();
        let input = wit_pricing::PricingInput {
            order,
            dealer,
            prices,
        };
        let order = &self.context.order;
        let (priced, step) = guarded(
            self.set,
            slot,
            || slot.price(&input),
            |lines| guardrails.check_prices(order, &self.set.catalogue, lines),
            StepOutput::Prices,
        );
        self.lowered = Some(Lowered {
            order: input.order,
            dealer: input.dealer,
            products,
        });
        match priced {
            Some(mut priced) => {
                self.lines = order
                    .lines
                    .iter()
                    .map(|line| {
                        let p = priced
                            .iter_mut()
                            .find(|p| p.line_no == line.line_no)
                            .expect("guardrails: every line priced");
                        DecidedLine {
                            line_no: line.line_no,
                            sku: line.sku.clone(),
                            quantity: line.quantity,
                            unit_price: p.unit_price,
                            amount: p.unit_price.saturating_mul(i64::from(line.quantity)),
                            discount: 0,
                            // The trace keeps its own copy of the priced lines.
                            explanation: std::mem::take(&mut p.explanation),
                        }
                    })
                    .collect();
                self.push(step, "");
            }
            None => {
                let why = step_failure(&step);
                self.reject(
                    "pricing-unavailable",
                    format!(
                        "pricing plugin {} {why}; the order cannot be priced",
                        slot.plugin.identity().name
                    ),
                );
                self.push(step, "order rejected; nothing persisted");
            }
        }
    }

    fn subtotal(&self) -> Fen {
        self.lines.iter().map(|l| l.amount).sum()
    }

    fn promotions(&mut self) {
        if self.region.promotions.is_empty() {
            return;
        }
        let subtotal = self.subtotal();
        let Lowered {
            order,
            dealer,
            products,
        } = self.take_lowered();
        let lines = self
            .lines
            .iter()
            .map(|l| wit_promotion::PricedOrderLine {
                line_no: l.line_no,
                product: convert::product_index(&products, &l.sku),
                quantity: l.quantity,
                unit_price: l.unit_price,
                amount: l.amount,
            })
            .collect();
        let near_expiry_lots = near_expiry_lots(self.set, &products);
        let input = wit_promotion::PromotionInput {
            order,
            dealer,
            products,
            lines,
            subtotal,
            near_expiry_lots,
        };
        for slot in &self.region.promotions {
            let so_far = PromotedSoFar {
                line_amounts: self
                    .lines
                    .iter()
                    .map(|l| (l.line_no, l.amount - l.discount))
                    .collect(),
                subtotal,
                discount: self.lines.iter().map(|l| l.discount).sum::<Fen>() + self.order_discounts,
                free_goods: self.free_goods_value(),
            };
            let set = self.set;
            let region = self.region;
            let (adjustments, step) = guarded(
                set,
                slot,
                || slot.apply(&input),
                |adjustments| {
                    set.guardrails
                        .check_adjustments(adjustments, &so_far, &set.catalogue, |sku| {
                            region.region.lists(sku)
                        })
                },
                StepOutput::Adjustments,
            );
            match adjustments {
                Some(adjustments) => {
                    for adjustment in adjustments {
                        self.apply_adjustment(adjustment);
                    }
                    self.push(step, "");
                }
                None => self.push(step, "promotion skipped; the order goes on without it"),
            }
        }
        self.lowered = Some(Lowered {
            order: input.order,
            dealer: input.dealer,
            products: input.products,
        });
    }

    fn apply_adjustment(&mut self, adjustment: Adjustment) {
        match &adjustment.kind {
            AdjustmentKind::LineDiscount { line_no, amount } => {
                if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == *line_no) {
                    line.discount += amount;
                }
            }
            AdjustmentKind::OrderDiscount { amount } => self.order_discounts += amount,
            AdjustmentKind::FreeGoods { sku, quantity } => {
                let last = self
                    .lines
                    .iter()
                    .map(|l| l.line_no)
                    .chain(self.free_goods.iter().map(|f| f.line_no))
                    .max();
                self.free_goods.push(FreeGoodsLine {
                    line_no: last.unwrap_or(0) + 1,
                    sku: sku.clone(),
                    quantity: *quantity,
                    promotion_id: adjustment.promotion_id.clone(),
                });
            }
        }
        self.adjustments.push(adjustment);
    }

    fn free_goods_value(&self) -> Fen {
        self.free_goods
            .iter()
            .filter_map(|f| {
                self.set
                    .catalogue
                    .get(&f.sku)
                    .map(|p| p.base_price.saturating_mul(i64::from(f.quantity)))
            })
            .sum()
    }

    fn sourcing(&mut self) {
        // The last step: the lowered input is not put back.
        let Lowered {
            mut order,
            dealer,
            mut products,
        } = self.take_lowered();
        // Free goods ship too: the sourcing plugin sees them as lines, and
        // their SKUs among the products (which renumbers them).
        let skus = || {
            let ordered = self.context.order.lines.iter().map(|l| l.sku.as_str());
            ordered.chain(self.free_goods.iter().map(|f| f.sku.as_str()))
        };
        if self
            .free_goods
            .iter()
            .any(|f| !products.iter().any(|p| p.sku == f.sku))
        {
            products = ordered_products(self.set, skus());
            order = convert::order(&self.context.order, &products);
        }
        order
            .lines
            .extend(self.free_goods.iter().map(|f| convert::WitOrderLine {
                line_no: f.line_no,
                product: convert::product_index(&products, &f.sku),
                quantity: f.quantity,
            }));
        let mut demand: BTreeMap<String, u64> = BTreeMap::new();
        let quantities = self
            .context
            .order
            .lines
            .iter()
            .map(|l| (&l.sku, l.quantity));
        for (sku, quantity) in
            quantities.chain(self.free_goods.iter().map(|f| (&f.sku, f.quantity)))
        {
            *demand.entry(sku.clone()).or_default() += u64::from(quantity);
        }
        let neighbours = &self.region.region.neighbours;
        let rank = |region: &str| -> u32 {
            if region == self.region.region.id {
                0
            } else {
                neighbours
                    .iter()
                    .position(|n| n == region)
                    .map_or(neighbours.len() as u32 + 1, |i| i as u32 + 1)
            }
        };
        let warehouses = self
            .context
            .warehouses
            .iter()
            .map(|w| convert::warehouse(w, rank(&w.region), &products))
            .collect();
        let input = wit_sourcing::SourcingInput {
            products,
            order,
            dealer,
            warehouses,
        };
        let warehouses = &self.context.warehouses;
        let guardrails = &self.set.guardrails;
        let check = |plan: &SourcingPlan| guardrails.check_sourcing(plan, &demand, warehouses);
        let slot = &self.region.sourcing;
        let (plan, step) = guarded(
            self.set,
            slot,
            || slot.source(&input),
            check,
            StepOutput::Sourcing,
        );
        if let Some(plan) = plan {
            self.sourcing = Some(plan);
            self.push(step, "");
            return;
        }
        self.push(step, "HQ's fallback sourcing decides instead");
        let fallback = &self.set.fallback_sourcing;
        let (plan, step) = guarded(
            self.set,
            fallback,
            || fallback.source(&input),
            check,
            StepOutput::Sourcing,
        );
        match plan {
            Some(plan) => {
                self.sourcing = Some(plan);
                self.push(step, "");
            }
            None => {
                let why = step_failure(&step);
                self.hold("sourcing-unavailable", format!("no sourcing plan: region and HQ fallback sourcing both failed ({why}); held for review"));
                self.push(step, "order held for review");
            }
        }
    }

    fn push(&mut self, mut step: TraceStep, consequence: &str) {
        if step.status != StepStatus::Ok && !consequence.is_empty() {
            step.consequence = Some(consequence.to_string());
        }
        self.steps.push(step);
    }

    fn finish(self, started: Instant) -> Decision {
        let status = self.status();
        let subtotal = self.subtotal();
        let line_discounts: Fen = self.lines.iter().map(|l| l.discount).sum();
        let totals = Totals {
            subtotal,
            line_discounts,
            order_discounts: self.order_discounts,
            total: subtotal - line_discounts - self.order_discounts,
        };
        Decision {
            order_id: self.context.order.id.clone(),
            region: self.region.region.id.clone(),
            status,
            reasons: self.reasons,
            lines: self.lines,
            free_goods: self.free_goods,
            adjustments: self.adjustments,
            totals,
            sourcing: self.sourcing,
            trace: Trace {
                steps: self.steps,
                total_us: started.elapsed().as_micros() as u64,
            },
        }
    }
}

/// The plugins' view of an order: see [`Run::lowered`].
struct Lowered {
    order: convert::WitOrder,
    dealer: convert::WitDealer,
    /// The catalogue entries of the ordered SKUs, by SKU.
    products: Vec<convert::WitProduct>,
}

/// The catalogue entries of `skus`, each once, by SKU.
fn ordered_products<'s>(
    set: &PolicySet,
    skus: impl IntoIterator<Item = &'s str>,
) -> Vec<convert::WitProduct> {
    let skus: BTreeSet<&str> = skus.into_iter().collect();
    skus.into_iter()
        .filter_map(|sku| set.catalogue.get(sku))
        .map(convert::product)
        .collect()
}

/// The clearance lots HQ flagged for the input's products, by index.
fn near_expiry_lots(
    set: &PolicySet,
    products: &[convert::WitProduct],
) -> Vec<wit_promotion::NearExpiryLot> {
    let mut lots = Vec::new();
    for (index, product) in products.iter().enumerate() {
        let Some(entry) = set.catalogue.get(&product.sku) else {
            continue;
        };
        lots.extend(
            entry
                .near_expiry_lots
                .iter()
                .map(|lot| wit_promotion::NearExpiryLot {
                    product: index as u32,
                    lot: lot.lot.clone(),
                    best_before: lot.best_before,
                }),
        );
    }
    lots
}

/// Calls a slot's plugin through the breaker, checks the output with the
/// guardrails and records the step. `None` when the output cannot be used.
fn guarded<T: Clone>(
    set: &PolicySet,
    slot: &Slot,
    call: impl FnOnce() -> Call<T>,
    check: impl FnOnce(&T) -> Vec<String>,
    to_output: impl Fn(T) -> StepOutput,
) -> (Option<T>, TraceStep) {
    let identity = slot.plugin.identity();
    let mut step = TraceStep {
        slot: slot.name.clone(),
        deployment_id: slot.deployment.as_ref().map(|d| d.id.clone()),
        plugin: identity.clone(),
        status: StepStatus::Quarantined,
        fault: Some(Fault::Quarantined),
        consequence: None,
        fuel_used: 0,
        duration_us: 0,
        output: None,
        guardrail_findings: Vec::new(),
        logs: Vec::new(),
    };
    if !set.breaker.admits(identity) {
        if let Some(deployment) = &slot.deployment {
            deployment.record(true);
        }
        return (None, step);
    }
    let call = call();
    step.fuel_used = call.fuel_used;
    step.duration_us = call.duration.as_micros() as u64;
    step.logs = call.logs;
    let result = call.result.and_then(|output| {
        let to_output = &to_output;
        let findings = check(&output);
        if findings.is_empty() {
            Ok(output)
        } else {
            step.guardrail_findings = findings.clone();
            step.output = Some(to_output(output));
            Err(Fault::Guardrail { findings })
        }
    });
    set.breaker.record(identity, result.as_ref().err());
    if let Some(deployment) = &slot.deployment {
        deployment.record(
            result
                .as_ref()
                .err()
                .is_some_and(Fault::counts_against_health),
        );
    }
    match result {
        Ok(output) => {
            step.status = StepStatus::Ok;
            step.fault = None;
            step.output = Some(to_output(output.clone()));
            (Some(output), step)
        }
        Err(fault) => {
            step.status = StepStatus::Fault;
            step.fault = Some(fault);
            (None, step)
        }
    }
}

/// "faulted: ran out of fuel…" or "is quarantined…", for reasons.
fn step_failure(step: &TraceStep) -> String {
    match &step.fault {
        Some(fault) => fault.to_string(),
        None => "failed".into(),
    }
}

/// A rough wire size of what the plugins will be sent.
fn approx_input_bytes(context: &OrderContext) -> usize {
    let lines: usize = context
        .order
        .lines
        .iter()
        .map(|l: &OrderLine| l.sku.len() + 12)
        .sum();
    let warehouses: usize = context
        .warehouses
        .iter()
        .map(|w| {
            w.id.len() + w.region.len() + w.available.keys().map(|sku| sku.len() + 8).sum::<usize>()
        })
        .sum();
    let dealer = context
        .dealer
        .territory
        .iter()
        .map(|t| t.len() + 4)
        .sum::<usize>()
        + 64;
    lines + warehouses + dealer + 256
}
