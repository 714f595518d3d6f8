//! Hostile plugins are contained: each misbehaviour hits a limit or a
//! guardrail, the kind's failure policy decides, and the next order is
//! evaluated normally.

mod common;

use chanhost::policy::decision::{Decision, DecisionStatus, StepOutput, StepStatus};
use chanhost::policy::{Fault, PolicySet};
use common::*;

/// A brand whose region `r1` has one hostile slot; `r2` is all HQ defaults.
fn brand_with(slot: &str, wasm: &str, mode: &str) -> (TestBrand, PolicySet) {
    let brand = TestBrand::new(&hostile(slot, wasm, mode), "");
    let policies = brand.load().expect("test brand loads");
    (brand, policies)
}

fn step<'d>(decision: &'d Decision, slot: &str) -> &'d chanhost::policy::decision::TraceStep {
    decision
        .trace
        .steps
        .iter()
        .find(|s| s.slot == slot)
        .unwrap_or_else(|| panic!("no {slot} step in {:?}", decision.trace))
}

/// Evaluates a hostile pricing mode and checks the order was rejected with
/// `fault`'s code, and that the healthy region next door still works.
fn pricing_fault(mode: &str) -> (Fault, Decision) {
    let (_brand, policies) = brand_with("pricing", HOSTILE_PRICING, mode);
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    assert_eq!(
        decision.status,
        DecisionStatus::Rejected,
        "{mode}: {:?}",
        decision.reasons
    );
    assert_eq!(reason_codes(&decision), ["pricing-unavailable"], "{mode}");
    assert!(
        decision.lines.is_empty() && decision.sourcing.is_none(),
        "{mode}: nothing priced or sourced"
    );
    let pricing = step(&decision, "pricing");
    assert_eq!(pricing.status, StepStatus::Fault);
    assert_eq!(
        pricing.consequence.as_deref(),
        Some("order rejected; nothing persisted")
    );

    let next = policies.evaluate(&order_in("r2", "O-2")).unwrap();
    assert_eq!(
        next.status,
        DecisionStatus::Accepted,
        "{mode}: the next order is evaluated normally"
    );
    (pricing.fault.clone().unwrap(), decision)
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let (fault, decision) = pricing_fault("loop");
    assert_eq!(fault, Fault::OutOfFuel { limit: 11_000_000 });
    assert_eq!(step(&decision, "pricing").fuel_used, 11_000_000);
}

#[test]
fn a_call_past_its_wall_clock_deadline_is_interrupted() {
    let brand = TestBrand::new(&hostile("pricing", HOSTILE_PRICING, "loop"), "");
    // Enough fuel to loop for minutes: the epoch deadline must stop it.
    brand.edit_hq("fuel = 11000000", "fuel = 100000000000");
    brand.edit_hq("deadline_ms = 50", "deadline_ms = 20");
    let policies = brand.load().unwrap();
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    assert_eq!(
        step(&decision, "pricing").fault,
        Some(Fault::Deadline { limit_ms: 20 })
    );
    assert_eq!(decision.status, DecisionStatus::Rejected);
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let (fault, _) = pricing_fault("memory-bomb");
    assert_eq!(
        fault,
        Fault::Memory {
            limit_bytes: 16 << 20
        }
    );
}

#[test]
fn deep_recursion_is_stopped() {
    // Rust guests keep a shadow stack at the bottom of linear memory: when
    // it runs out first the trap is an out-of-bounds access below address
    // zero; when the host's wasm stack cap is hit first it is a stack
    // overflow. Either way the call is contained.
    let (fault, _) = pricing_fault("deep-recursion");
    assert!(
        matches!(&fault, Fault::Stack { .. })
            || matches!(&fault, Fault::Trap { message } if message.contains("out of bounds memory access")),
        "{fault:?}"
    );
}

#[test]
fn a_panic_is_a_trap_and_its_message_is_in_the_trace() {
    let (fault, decision) = pricing_fault("panic");
    assert!(matches!(fault, Fault::Trap { .. }), "{fault:?}");
    let logs = &step(&decision, "pricing").logs;
    assert!(
        logs.iter()
            .any(|l| l.level == "stderr" && l.message.contains("panics on purpose")),
        "{logs:?}"
    );
}

#[test]
fn a_huge_output_is_refused() {
    let (fault, _) = pricing_fault("huge-output");
    assert!(
        matches!(fault, Fault::OutputTooLarge { .. } | Fault::Memory { .. }),
        "{fault:?}"
    );
}

#[test]
fn prices_outside_the_hq_band_are_guardrail_faults() {
    for mode in ["out-of-band-price", "negative-price", "missing-line"] {
        let (fault, decision) = pricing_fault(mode);
        assert_eq!(fault.code(), "guardrail", "{mode}");
        let pricing = step(&decision, "pricing");
        assert!(!pricing.guardrail_findings.is_empty());
        assert!(
            matches!(pricing.output, Some(StepOutput::Prices(_))),
            "the offending output is kept for review"
        );
    }
    let (_, decision) = pricing_fault("out-of-band-price");
    assert!(step(&decision, "pricing").guardrail_findings[0].contains("outside HQ's band"));
}

#[test]
fn the_sandbox_offers_no_files_env_or_network() {
    let (fault, _) = pricing_fault("read-file");
    assert!(
        matches!(&fault, Fault::PluginError { code, .. } if code == "read-file-failed"),
        "{fault:?}"
    );

    for (mode, expected) in [
        ("env-var", "HOME=Err(NotPresent), 0 environment variable(s)"),
        ("socket", "socket: connect 127.0.0.1:5432: Err("),
        // The wall clock reads the order's own timestamp, not now.
        ("clock", "clock: Ok(1789437600000) ms since epoch"),
    ] {
        let (_brand, policies) = brand_with("pricing", HOSTILE_PRICING, mode);
        let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
        let explanation = &decision.lines[0].explanation;
        assert!(explanation.contains(expected), "{mode}: {explanation}");
    }
}

#[test]
fn randomness_is_seeded_so_replays_agree() {
    let (_brand, policies) = brand_with("pricing", HOSTILE_PRICING, "random");
    let first = policies.evaluate(&order_in("r1", "O-1")).unwrap().lines[0]
        .explanation
        .clone();
    let (_brand, again) = brand_with("pricing", HOSTILE_PRICING, "random");
    assert_eq!(
        again.evaluate(&order_in("r1", "O-1")).unwrap().lines[0].explanation,
        first
    );
}

#[test]
fn a_failing_anti_diversion_check_holds_the_order() {
    let (_brand, policies) = brand_with("anti_diversion", HOSTILE_ANTI_DIVERSION, "panic");
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    assert_eq!(decision.status, DecisionStatus::Held);
    assert_eq!(reason_codes(&decision), ["anti-diversion-unavailable"]);
    assert_eq!(
        step(&decision, "anti_diversion").consequence.as_deref(),
        Some("order held for review")
    );
    // Fail closed, but the reviewer still gets prices and a sourcing plan.
    assert_eq!(decision.lines.len(), 5);
    assert!(decision.sourcing.is_some());

    let (_brand, policies) = brand_with("anti_diversion", HOSTILE_ANTI_DIVERSION, "loop");
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    assert_eq!(decision.status, DecisionStatus::Held);
}

#[test]
fn a_failing_promotion_is_skipped_and_the_others_apply() {
    for mode in [
        "excessive-discount",
        "below-zero",
        "negative-discount",
        "unknown-free-goods",
        "loop",
        "panic",
    ] {
        let plugins = format!(
            "{}\n[[plugins.promotions]]\nid = \"good\"\nplugin = \"builtin:promotions\"\n[[plugins.promotions.config.promotions]]\nid = \"spend-1k\"\nkind = {{ type = \"spend_threshold\", threshold = 100000, off = 5000 }}\n",
            hostile("promotions", HOSTILE_PROMOTION, mode)
        );
        let brand = TestBrand::new(&plugins, "");
        let decision = brand
            .load()
            .unwrap()
            .evaluate(&order_in("r1", "O-1"))
            .unwrap();
        assert_eq!(decision.status, DecisionStatus::Accepted, "{mode}");
        let hostile = step(&decision, "promotions/hostile");
        assert_eq!(hostile.status, StepStatus::Fault, "{mode}");
        assert_eq!(
            hostile.consequence.as_deref(),
            Some("promotion skipped; the order goes on without it")
        );
        let ids: Vec<&str> = decision
            .adjustments
            .iter()
            .map(|a| a.promotion_id.as_str())
            .collect();
        assert_eq!(ids, ["spend-1k"], "{mode}");
        assert_eq!(decision.totals.order_discounts, 5_000);
    }
}

/// WIT 0.2.0 gives promotions the lots HQ flagged near expiry (the example
/// catalogue flags one lot of WN-002), each pointing at its product.
#[test]
fn promotions_see_the_lots_hq_flagged_near_expiry() {
    let (_brand, policies) = brand_with("promotions", HOSTILE_PROMOTION, "near-expiry");
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    let step = step(&decision, "promotions/hostile");
    assert_eq!(step.status, StepStatus::Ok, "{step:?}");
    let adjustment = &decision.adjustments[0];
    assert_eq!(adjustment.description, "WN-002/L20220930/1801353600000");
}

#[test]
fn a_failing_sourcing_plugin_falls_back_to_hq_sourcing() {
    for (mode, finding) in [
        ("over-allocation", "available"),
        ("unknown-warehouse", "unknown warehouse WH-NOWHERE"),
        ("under-cover", "allocated or backordered"),
    ] {
        let (_brand, policies) = brand_with("sourcing", HOSTILE_SOURCING, mode);
        let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
        assert_eq!(
            decision.status,
            DecisionStatus::Accepted,
            "{mode}: {:?}",
            decision.reasons
        );
        let failed = step(&decision, "sourcing");
        assert_eq!(failed.status, StepStatus::Fault, "{mode}");
        assert!(
            failed
                .guardrail_findings
                .iter()
                .any(|f| f.contains(finding)),
            "{mode}: {:?}",
            failed.guardrail_findings
        );
        assert_eq!(step(&decision, "fallback_sourcing").status, StepStatus::Ok);
        // HQ's region-first plan: 10 of BJ-001 at home, 2 from the neighbour.
        let plan = decision.sourcing.unwrap();
        let bj: Vec<(&str, u32)> = plan
            .allocations
            .iter()
            .filter(|a| a.sku == "BJ-001")
            .map(|a| (a.warehouse_id.as_str(), a.quantity))
            .collect();
        assert_eq!(bj, [("WH-r1", 10), ("WH-r2", 2)], "{mode}");
    }
}

#[test]
fn a_sourcing_plugin_that_never_returns_falls_back_too() {
    let (_brand, policies) = brand_with("sourcing", HOSTILE_SOURCING, "loop");
    let decision = policies.evaluate(&order_in("r1", "O-1")).unwrap();
    assert_eq!(decision.status, DecisionStatus::Accepted);
    assert_eq!(
        step(&decision, "sourcing").fault,
        Some(Fault::OutOfFuel { limit: 11_000_000 })
    );
    assert_eq!(step(&decision, "fallback_sourcing").status, StepStatus::Ok);
}

#[test]
fn a_plugin_that_keeps_failing_is_quarantined_visibly() {
    let brand = TestBrand::new(
        &hostile("pricing", HOSTILE_PRICING, "panic"),
        "", // the example HQ quarantines after 5 consecutive faults
    );
    let policies = brand.load().unwrap();
    for i in 0..5 {
        let decision = policies
            .evaluate(&order_in("r1", &format!("O-{i}")))
            .unwrap();
        assert_eq!(step(&decision, "pricing").status, StepStatus::Fault);
    }
    let decision = policies.evaluate(&order_in("r1", "O-6")).unwrap();
    let pricing = step(&decision, "pricing");
    assert_eq!(pricing.status, StepStatus::Quarantined);
    assert_eq!(pricing.fault, Some(Fault::Quarantined));
    assert_eq!(pricing.fuel_used, 0, "a quarantined plugin is not called");
    assert_eq!(decision.status, DecisionStatus::Rejected);

    let health = policies.breaker.snapshot();
    let hostile = health
        .iter()
        .find(|h| h.plugin.name == "hostile-plugin")
        .unwrap();
    assert!(hostile.quarantined);
    assert_eq!(hostile.faults, 5);
    assert!(hostile.last_fault.as_deref().unwrap().contains("trapped"));
    // Healthy plugins are listed too, and not quarantined.
    assert!(
        health
            .iter()
            .filter(|h| h.plugin.name != "hostile-plugin")
            .all(|h| !h.quarantined)
    );
}
