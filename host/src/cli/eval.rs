//! `chanhost eval`: evaluate one order with a region's plugins and print
//! the decision and its trace as JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::config::BrandConfig;
use crate::policy::{ComponentCache, OrderContext, PolicyEngine, PolicySet};

#[derive(Args)]
pub struct EvalArgs {
    /// The brand directory (hq.toml, catalogue.toml, regions/).
    #[arg(long)]
    config: PathBuf,
    /// The regional center to evaluate with (must match the order's region).
    #[arg(long)]
    region: String,
    /// A JSON file: {"order": …, "dealer": …, "warehouses": […]}.
    #[arg(long)]
    order: PathBuf,
}

impl EvalArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let policies = load_policies(&self.config)?;
        let text = std::fs::read_to_string(&self.order)
            .with_context(|| format!("reading {}", self.order.display()))?;
        let context: OrderContext = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid order context", self.order.display()))?;
        if context.order.region != self.region {
            bail!(
                "order {} belongs to region {}, not {}",
                context.order.id,
                context.order.region,
                self.region
            );
        }
        let decision = policies.evaluate(&context)?;
        println!("{}", serde_json::to_string_pretty(&decision)?);
        Ok(ExitCode::SUCCESS)
    }
}

/// Reads a brand directory and loads every region's plugins.
pub fn load_policies(dir: &Path) -> anyhow::Result<PolicySet> {
    let brand = BrandConfig::load(dir)?;
    let engine = PolicyEngine::new(brand.hq.limits.clone(), ComponentCache::default_location())?;
    Ok(PolicySet::load(&brand, engine)?)
}
