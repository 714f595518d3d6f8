//! `chanhost bench pipeline`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};

use super::{brand, median, native::NativePipeline};
use crate::config::BrandConfig;
use crate::policy::{ComponentCache, DecisionStatus, PolicyEngine, PolicySet};

pub fn run(iterations: usize) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    brand::write(dir.path())?;
    let config = BrandConfig::load(dir.path())?;
    let engine = PolicyEngine::new(config.hq.limits.clone(), ComponentCache::default_location())?;
    let set = PolicySet::load(&config, engine)?;
    let region = set.regions.get("bench").context("bench region")?;
    let context = brand::ten_line_order();

    // Both must reach the same answer, or the comparison means nothing.
    let decision = set.evaluate(&context)?;
    let native = NativePipeline::new(&set, region)?;
    let native_decision = native.evaluate(&context);
    if decision.status != DecisionStatus::Accepted {
        bail!("bench order was not accepted: {:?}", decision.reasons);
    }
    if decision.totals.total != native_decision.total
        || decision
            .sourcing
            .as_ref()
            .map(|p| &p.allocations)
            .map(|a| a.len())
            != native_decision.plan.as_ref().map(|p| p.allocations.len())
    {
        bail!(
            "sandboxed and native pipelines disagree: total {} vs {}",
            decision.totals.total,
            native_decision.total
        );
    }
    println!(
        "order: 10 lines, {} adjustments, {} allocations, total {} fen",
        decision.adjustments.len(),
        decision
            .sourcing
            .as_ref()
            .map_or(0, |p| p.allocations.len()),
        decision.totals.total
    );
    for step in &decision.trace.steps {
        println!(
            "  {:<22} {:<24} fuel {:>8}",
            step.slot, step.plugin.name, step.fuel_used
        );
    }

    // The two sides alternate in blocks: each block keeps its own caches
    // warm, and both see the same machine over time (this one is shared).
    const BLOCK: usize = 100;
    let warmup = (iterations / 10).max(10);
    let mut per_step: Vec<Vec<f64>> = vec![Vec::new(); decision.trace.steps.len()];
    let mut sandboxed = Vec::with_capacity(iterations);
    let mut baseline = Vec::with_capacity(iterations);
    let mut done = 0;
    while done < warmup + iterations {
        let block = BLOCK.min(warmup + iterations - done);
        for k in 0..block {
            let measured = done + k >= warmup;
            let started = Instant::now();
            let decision = set.evaluate(&context)?;
            let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
            if measured {
                sandboxed.push(elapsed_us);
                for (samples, step) in per_step.iter_mut().zip(&decision.trace.steps) {
                    samples.push(step.duration_us as f64);
                }
            }
            std::hint::black_box(decision);
        }
        for k in 0..block {
            let measured = done + k >= warmup;
            let started = Instant::now();
            std::hint::black_box(native.evaluate(&context));
            let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
            if measured {
                baseline.push(elapsed_us);
            }
            // The native plugins log into a per-thread buffer; keep it empty.
            chanhost_sdk::log::take();
        }
        done += block;
    }
    let pipeline_us = median(&mut sandboxed);
    let native_us = median(&mut baseline);
    println!("{iterations} orders each, single thread, after {warmup} warm-up orders");
    for (step, samples) in decision.trace.steps.iter().zip(per_step.iter_mut()) {
        println!(
            "  {:<22} median {:>7.1} µs per call (lower input, run, lift output)",
            step.slot,
            median(samples)
        );
    }
    println!(
        "pipeline_us={pipeline_us:.1} native_us={native_us:.1} ratio={:.2}",
        pipeline_us / native_us
    );
    Ok(ExitCode::SUCCESS)
}
