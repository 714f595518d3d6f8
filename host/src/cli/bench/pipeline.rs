//! `chanhost bench pipeline`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};

use super::{brand, load_policies, median, native::NativePipeline};
use crate::config::BrandConfig;
use crate::policy::{Decision, DecisionStatus, OrderContext, PolicySet};

pub fn run(iterations: usize) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let set = load(dir.path(), brand::REGION_TOML)?;
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
    print_steps(&decision);

    // The two sides alternate in blocks: each block keeps its own caches
    // warm, and both see the same machine over time (this one is shared).
    let warmup = warmup(iterations);
    let mut sandboxed = Sandboxed::new(&decision, iterations);
    let mut baseline = Vec::with_capacity(iterations);
    let mut done = 0;
    while done < warmup + iterations {
        let block = BLOCK.min(warmup + iterations - done);
        for k in 0..block {
            sandboxed.evaluate(&set, &context, done + k >= warmup)?;
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
    let native_us = median(&mut baseline);
    println!("{iterations} orders each, single thread, after {warmup} warm-up orders");
    let pipeline_us = sandboxed.report(&decision);
    println!(
        "pipeline_us={pipeline_us:.1} native_us={native_us:.1} ratio={:.2}",
        pipeline_us / native_us
    );
    Ok(ExitCode::SUCCESS)
}

/// `--plugins FILE`: the plugin set of `file` on the bench order, in the
/// sandbox only (there is no native build of someone else's plugins).
pub fn run_plugins(iterations: usize, file: &Path) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let set = load(dir.path(), &brand::region_with_plugins(file)?)?;
    let context = brand::ten_line_order();
    let decision = set.evaluate(&context)?;
    println!(
        "order: 10 lines, {:?}{}, total {} fen",
        decision.status,
        decision
            .reasons
            .iter()
            .map(|r| format!("; {}: {}", r.code, r.message))
            .collect::<String>(),
        decision.totals.total
    );
    print_steps(&decision);
    let warmup = warmup(iterations);
    let mut sandboxed = Sandboxed::new(&decision, iterations);
    for i in 0..warmup + iterations {
        sandboxed.evaluate(&set, &context, i >= warmup)?;
    }
    println!("{iterations} orders, single thread, after {warmup} warm-up orders");
    let pipeline_us = sandboxed.report(&decision);
    println!("pipeline_us={pipeline_us:.1}");
    Ok(ExitCode::SUCCESS)
}

/// Orders evaluated by each side before and between measured blocks.
const BLOCK: usize = 100;

fn warmup(iterations: usize) -> usize {
    (iterations / 10).max(10)
}

/// The bench brand in `dir` with `region_toml` as its bench region, loaded.
fn load(dir: &Path, region_toml: &str) -> anyhow::Result<PolicySet> {
    brand::write(dir, region_toml)?;
    load_policies(&BrandConfig::load(dir)?)
}

fn print_steps(decision: &Decision) {
    for step in &decision.trace.steps {
        println!(
            "  {:<22} {:<24} fuel {:>8}",
            step.slot, step.plugin.name, step.fuel_used
        );
    }
}

/// Times of the sandboxed pipeline: whole orders and each step's call.
struct Sandboxed {
    orders: Vec<f64>,
    per_step: Vec<Vec<f64>>,
}

impl Sandboxed {
    fn new(first: &Decision, iterations: usize) -> Self {
        Sandboxed {
            orders: Vec::with_capacity(iterations),
            per_step: vec![Vec::with_capacity(iterations); first.trace.steps.len()],
        }
    }

    fn evaluate(
        &mut self,
        set: &PolicySet,
        context: &OrderContext,
        measured: bool,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let decision = set.evaluate(context)?;
        let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
        if measured {
            self.orders.push(elapsed_us);
            for (samples, step) in self.per_step.iter_mut().zip(&decision.trace.steps) {
                samples.push(step.duration_us as f64);
            }
        }
        std::hint::black_box(decision);
        Ok(())
    }

    /// Prints each step's median and returns the median per order.
    fn report(&mut self, first: &Decision) -> f64 {
        for (step, samples) in first.trace.steps.iter().zip(self.per_step.iter_mut()) {
            println!(
                "  {:<22} median {:>7.1} µs per call (lower input, run, lift output)",
                step.slot,
                median(samples)
            );
        }
        median(&mut self.orders)
    }
}
