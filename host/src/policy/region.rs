//! A brand's loaded policy: every region's plugin set, configured and
//! validated, HQ's guardrails and fallback, and the shared breaker.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::breaker::Breaker;
use super::convert;
use super::engine::PolicyEngine;
use super::guardrails::Guardrails;
use super::plugin::{Call, InstancePool, Plugin};
use super::types::{Adjustment, PluginKind, PricedLine, SourcingPlan, Verdict};
use crate::config::{BrandConfig, ConfigError, PluginSlot, RegionSection, error::line_column};
use crate::domain::Product;

/// A plugin in a slot of a region, with the configuration it validated.
#[derive(Debug, Clone)]
pub struct Slot {
    /// `anti_diversion`, `pricing`, `sourcing` or `promotions/<id>`.
    pub name: String,
    pub plugin: Arc<Plugin>,
    /// The slot's configuration as JSON, given to each of its instances
    /// once, before the instance's first call.
    pub config_json: String,
    /// Warm instances of this plugin with this configuration.
    pub instances: Arc<InstancePool>,
}

impl Slot {
    fn pool(&self) -> Option<&InstancePool> {
        self.plugin.reuses_instances().then_some(&*self.instances)
    }

    pub fn check(&self, input: &convert::wit_anti_diversion::CheckInput) -> Call<Verdict> {
        self.plugin.check(self.pool(), &self.config_json, input)
    }

    pub fn price(&self, input: &convert::wit_pricing::PricingInput) -> Call<Vec<PricedLine>> {
        self.plugin.price(self.pool(), &self.config_json, input)
    }

    pub fn apply(&self, input: &convert::wit_promotion::PromotionInput) -> Call<Vec<Adjustment>> {
        self.plugin.apply(self.pool(), &self.config_json, input)
    }

    pub fn source(&self, input: &convert::wit_sourcing::SourcingInput) -> Call<SourcingPlan> {
        self.plugin.source(self.pool(), &self.config_json, input)
    }
}

/// One regional center's plugins and price settings.
#[derive(Debug)]
pub struct RegionPolicy {
    pub region: RegionSection,
    pub anti_diversion: Slot,
    pub pricing: Slot,
    pub promotions: Vec<Slot>,
    pub sourcing: Slot,
}

/// Everything the pipeline needs that does not change per order.
#[derive(Debug)]
pub struct PolicySet {
    pub engine: PolicyEngine,
    pub guardrails: Guardrails,
    pub catalogue: BTreeMap<String, Product>,
    pub regions: BTreeMap<String, Arc<RegionPolicy>>,
    /// HQ's sourcing, used when a region's sourcing plugin faults.
    pub fallback_sourcing: Slot,
    pub breaker: Breaker,
}

impl PolicySet {
    /// Loads every plugin a brand names (each distinct component once),
    /// fills region slots from HQ's defaults and has each plugin validate
    /// its configuration. The first problem stops the load, located.
    pub fn load(brand: &BrandConfig, engine: PolicyEngine) -> Result<PolicySet, ConfigError> {
        let mut loader = Loader {
            engine: &engine,
            dir: &brand.dir,
            loaded: HashMap::new(),
        };
        let hq_path = brand.dir.join("hq.toml");
        let defaults = &brand.hq.defaults;
        let fallback_sourcing = loader.slot(
            &hq_path,
            "fallback_sourcing",
            &brand.hq.fallback_sourcing,
            PluginKind::Sourcing,
        )?;

        let mut regions = BTreeMap::new();
        for (id, file) in &brand.regions {
            let own = &file.plugins;
            let pick = |own: &Option<PluginSlot>,
                        default: &Option<PluginSlot>,
                        table: &str|
             -> Result<(PathBuf, PluginSlot), ConfigError> {
                match (own, default) {
                    (Some(slot), _) => Ok((file.path.clone(), slot.clone())),
                    (None, Some(slot)) => Ok((hq_path.clone(), slot.clone())),
                    (None, None) => Err(ConfigError::field(
                        &file.path,
                        format!("plugins.{table}"),
                        "no plugin set here and no HQ default in hq.toml",
                    )),
                }
            };
            let (path, slot) = pick(
                &own.anti_diversion,
                &defaults.anti_diversion,
                "anti_diversion",
            )?;
            let anti_diversion =
                loader.slot(&path, "anti_diversion", &slot, PluginKind::AntiDiversion)?;
            let (path, slot) = pick(&own.pricing, &defaults.pricing, "pricing")?;
            let pricing = loader.slot(&path, "pricing", &slot, PluginKind::Pricing)?;
            let (path, slot) = pick(&own.sourcing, &defaults.sourcing, "sourcing")?;
            let sourcing = loader.slot(&path, "sourcing", &slot, PluginKind::Sourcing)?;
            let (path, promotion_slots) = match (&own.promotions, &defaults.promotions) {
                (Some(slots), _) => (file.path.clone(), slots.clone()),
                (None, Some(slots)) => (hq_path.clone(), slots.clone()),
                (None, None) => (file.path.clone(), Vec::new()),
            };
            let mut promotions = Vec::new();
            for (i, slot) in promotion_slots.iter().enumerate() {
                let name = format!(
                    "promotions/{}",
                    slot.id.clone().unwrap_or_else(|| i.to_string())
                );
                if promotions.iter().any(|s: &Slot| s.name == name) {
                    return Err(ConfigError::field(
                        &path,
                        format!("plugins.promotions[{i}].id"),
                        format!("{name} appears twice"),
                    ));
                }
                let mut loaded = loader.slot(
                    &path,
                    &format!("plugins.promotions[{i}]"),
                    slot,
                    PluginKind::Promotion,
                )?;
                loaded.name = name;
                promotions.push(loaded);
            }
            let region = RegionPolicy {
                region: file.region.clone(),
                anti_diversion,
                pricing,
                promotions,
                sourcing,
            };
            regions.insert(id.clone(), Arc::new(region));
        }
        Ok(PolicySet {
            guardrails: brand.hq.hq.guardrails.clone(),
            catalogue: brand.catalogue.clone(),
            regions,
            fallback_sourcing,
            breaker: Breaker::new(brand.hq.breaker.clone()),
            engine,
        })
    }
}

struct Loader<'a> {
    engine: &'a PolicyEngine,
    dir: &'a Path,
    /// Resolved plugin reference → loaded component.
    loaded: HashMap<String, Arc<Plugin>>,
}

impl Loader<'_> {
    fn slot(
        &mut self,
        path: &Path,
        table: &str,
        slot: &PluginSlot,
        kind: PluginKind,
    ) -> Result<Slot, ConfigError> {
        let reference = slot.plugin.get_ref();
        let plugin_error = |message: String| ConfigError::Plugin {
            path: path.to_path_buf(),
            line: line_of(path, slot.plugin.span().start),
            table: table.to_string(),
            plugin: reference.clone(),
            message,
        };
        let plugin = match self.loaded.get(reference) {
            Some(plugin) => plugin.clone(),
            None => {
                let wasm = read_plugin(self.dir, reference).map_err(&plugin_error)?;
                let plugin = Arc::new(
                    Plugin::load(self.engine, &wasm).map_err(|e| plugin_error(e.to_string()))?,
                );
                self.loaded.insert(reference.clone(), plugin.clone());
                plugin
            }
        };
        if plugin.kind() != kind {
            return Err(plugin_error(format!(
                "is a {} plugin, but this slot needs a {kind} plugin",
                plugin.kind()
            )));
        }
        let config = slot
            .config
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_default();
        let config_json = serde_json::to_string(&config).expect("a TOML table is valid JSON");
        let instances: Arc<InstancePool> = Arc::default();
        let pool = plugin.reuses_instances().then_some(&*instances);
        match plugin.configure(&config_json, pool).result {
            Ok(Ok(())) => {}
            Ok(Err(problems)) => {
                // Only an error needs the line: that costs a re-read of the file.
                let offset = slot
                    .config
                    .as_ref()
                    .map_or(slot.plugin.span().start, |c| c.span().start);
                return Err(ConfigError::PluginConfig {
                    path: path.to_path_buf(),
                    line: line_of(path, offset),
                    table: table.to_string(),
                    plugin: plugin.identity().name.clone(),
                    problems: problems.into_iter().map(|p| (p.path, p.message)).collect(),
                });
            }
            Err(fault) => return Err(plugin_error(format!("configure call failed: {fault}"))),
        }
        Ok(Slot {
            name: table.to_string(),
            plugin,
            config_json,
            instances,
        })
    }
}

/// `builtin:<name>` from the binary, anything else a path relative to the
/// brand directory.
fn read_plugin(dir: &Path, reference: &str) -> Result<Vec<u8>, String> {
    if let Some(name) = reference.strip_prefix("builtin:") {
        let names: Vec<_> = chanhost_bundled_plugins::ALL
            .iter()
            .map(|p| p.name)
            .collect();
        return chanhost_bundled_plugins::find(name)
            .map(|p| p.wasm.to_vec())
            .ok_or_else(|| format!("no built-in plugin {name} (built-in: {})", names.join(", ")));
    }
    let path = dir.join(reference);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn line_of(path: &Path, offset: usize) -> usize {
    std::fs::read_to_string(path)
        .map(|text| line_column(&text, offset).0)
        .unwrap_or(0)
}
