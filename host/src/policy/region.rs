//! A brand's loaded policy: every region's plugin set, configured and
//! validated, HQ's guardrails and fallback, and the shared breaker.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::breaker::Breaker;
use super::convert;
use super::engine::PolicyEngine;
use super::guard::DeploymentTag;
use super::guardrails::Guardrails;
use super::limits::Fault;
use super::plugin::{Call, InstancePool, Plugin};
use super::types::{
    Adjustment, ConfigError as ConfigProblem, PluginKind, PricedLine, SourcingPlan, Verdict,
};
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
    /// The deployment that put the plugin here; `None` for the brand
    /// directory's configuration.
    pub deployment: Option<Arc<DeploymentTag>>,
}

/// Why a plugin cannot take a slot with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("is a {found} plugin, but this slot needs a {expected} plugin")]
    WrongKind {
        found: PluginKind,
        expected: PluginKind,
    },
    #[error("rejected its configuration")]
    Config(Vec<ConfigProblem>),
    #[error("configure call failed: {0}")]
    Fault(Fault),
}

impl Slot {
    /// The slot's configuration as a JSON value.
    pub fn config(&self) -> serde_json::Value {
        serde_json::from_str(&self.config_json).unwrap_or_default()
    }

    /// Has `plugin` validate `config_json` and makes it the plugin of the
    /// slot `name`, whose kind the slot name says.
    pub fn configured(
        name: &str,
        plugin: Arc<Plugin>,
        config_json: String,
        deployment: Option<Arc<DeploymentTag>>,
    ) -> Result<Slot, SlotError> {
        let expected = slot_kind(name);
        if plugin.kind() != expected {
            return Err(SlotError::WrongKind {
                found: plugin.kind(),
                expected,
            });
        }
        let instances: Arc<InstancePool> = Arc::default();
        let pool = plugin.reuses_instances().then_some(&*instances);
        match plugin.configure(&config_json, pool).result {
            Ok(Ok(())) => {}
            Ok(Err(problems)) => return Err(SlotError::Config(problems)),
            Err(fault) => return Err(SlotError::Fault(fault)),
        }
        Ok(Slot {
            name: name.to_string(),
            plugin,
            config_json,
            instances,
            deployment,
        })
    }

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
#[derive(Debug, Clone)]
pub struct RegionPolicy {
    pub region: RegionSection,
    pub anti_diversion: Slot,
    pub pricing: Slot,
    pub promotions: Vec<Slot>,
    pub sourcing: Slot,
    /// Candidates that replace a slot for part of the region's dealers.
    pub canaries: Vec<Canary>,
    /// Candidates run beside their slot on live orders, never deciding.
    pub shadows: Vec<Slot>,
}

/// A slot's candidate for the dealers of an audience.
#[derive(Debug, Clone)]
pub struct Canary {
    pub audience: Audience,
    pub slot: Slot,
}

/// Which dealers a canary applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Audience {
    /// A share of the region's dealers, in basis points (1000 = 10%),
    /// picked by a stable hash of the dealer id: the same dealer is always
    /// in or out, on every host and in every replay.
    Share { share_bp: u32 },
    /// Exactly these dealers.
    Dealers { dealers: BTreeSet<String> },
}

impl Audience {
    pub fn includes(&self, salt: &str, dealer_id: &str) -> bool {
        match self {
            Audience::Share { share_bp } => {
                let digest = Sha256::new()
                    .chain_update(salt.as_bytes())
                    .chain_update([0])
                    .chain_update(dealer_id.as_bytes())
                    .finalize();
                let bucket = u16::from_be_bytes([digest[0], digest[1]]) as u32 % 10_000;
                bucket < *share_bp
            }
            Audience::Dealers { dealers } => dealers.contains(dealer_id),
        }
    }
}

impl RegionPolicy {
    /// The slot named `name` (`anti_diversion`, `pricing`, `sourcing`,
    /// `promotions/<id>`).
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        match name {
            "anti_diversion" => Some(&self.anti_diversion),
            "pricing" => Some(&self.pricing),
            "sourcing" => Some(&self.sourcing),
            _ => self.promotions.iter().find(|s| s.name == name),
        }
    }

    /// Every slot, in pipeline order.
    pub fn slots(&self) -> Vec<&Slot> {
        let mut slots = vec![&self.anti_diversion, &self.pricing];
        slots.extend(&self.promotions);
        slots.push(&self.sourcing);
        slots
    }

    /// This policy with `slot` in its place (a new promotion is added last).
    pub fn with_slot(&self, slot: Slot) -> RegionPolicy {
        let mut region = self.clone();
        region.set_slot(slot);
        region
    }

    pub fn set_slot(&mut self, slot: Slot) {
        match slot.name.as_str() {
            "anti_diversion" => self.anti_diversion = slot,
            "pricing" => self.pricing = slot,
            "sourcing" => self.sourcing = slot,
            name => match self.promotions.iter_mut().find(|s| s.name == name) {
                Some(existing) => *existing = slot,
                None => self.promotions.push(slot),
            },
        }
    }

    /// Puts `slot` in place of the slot `name`, or with `None` removes that
    /// promotion: what a deployment does to a region.
    pub fn put(&mut self, name: &str, slot: Option<Slot>) {
        match slot {
            Some(slot) => self.set_slot(slot),
            None => {
                self.remove_promotion(name);
            }
        }
    }

    /// Removes a promotion slot; the three fixed slots cannot be removed.
    pub fn remove_promotion(&mut self, name: &str) -> bool {
        let before = self.promotions.len();
        self.promotions.retain(|s| s.name != name);
        self.promotions.len() != before
    }

    /// The policy a dealer's order runs: canaries whose audience includes
    /// the dealer take their slots.
    pub fn for_dealer(&self, dealer_id: &str) -> Cow<'_, RegionPolicy> {
        let mut chosen = self.canaries.iter().filter(|canary| {
            let salt = canary
                .slot
                .deployment
                .as_ref()
                .map_or(canary.slot.name.as_str(), |d| d.id.as_str());
            canary.audience.includes(salt, dealer_id)
        });
        let Some(first) = chosen.next() else {
            return Cow::Borrowed(self);
        };
        let mut region = self.clone();
        region.canaries.clear();
        region.set_slot(first.slot.clone());
        for canary in chosen {
            region.set_slot(canary.slot.clone());
        }
        Cow::Owned(region)
    }
}

/// Everything the pipeline needs that does not change per order. Cheap to
/// clone: plugins, instances and the breaker are shared, so a changed set
/// can be built beside the live one and swapped in.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub engine: PolicyEngine,
    pub guardrails: Guardrails,
    pub catalogue: Arc<BTreeMap<String, Product>>,
    pub regions: BTreeMap<String, Arc<RegionPolicy>>,
    /// HQ's sourcing, used when a region's sourcing plugin faults.
    pub fallback_sourcing: Slot,
    pub breaker: Arc<Breaker>,
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
                canaries: Vec::new(),
                shadows: Vec::new(),
            };
            regions.insert(id.clone(), Arc::new(region));
        }
        Ok(PolicySet {
            guardrails: brand.hq.hq.guardrails.clone(),
            catalogue: Arc::new(brand.catalogue.clone()),
            regions,
            fallback_sourcing,
            breaker: Arc::new(Breaker::new(brand.hq.breaker.clone())),
            engine,
        })
    }
}

impl PolicySet {
    /// This set with one region's policy replaced.
    pub fn with_region(&self, policy: RegionPolicy) -> PolicySet {
        let mut set = self.clone();
        set.regions
            .insert(policy.region.id.clone(), Arc::new(policy));
        set
    }

    /// This set for replays: the same plugins and configuration, but no
    /// circuit breaker, so a re-run does not depend on what faulted lately.
    pub fn for_replay(&self) -> PolicySet {
        PolicySet {
            breaker: Arc::new(Breaker::disabled()),
            ..self.clone()
        }
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
        let config = slot
            .config
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_default();
        let config_json = serde_json::to_string(&config).expect("a TOML table is valid JSON");
        let slot_name = match kind {
            PluginKind::Promotion => "promotions/",
            _ => table,
        };
        let plugin_name = plugin.identity().name.clone();
        Slot::configured(slot_name, plugin, config_json, None)
            .map(|mut configured| {
                configured.name = table.to_string();
                configured
            })
            .map_err(|err| match err {
                SlotError::Config(problems) => {
                    // Only an error needs the line: that costs a re-read of the file.
                    let offset = slot
                        .config
                        .as_ref()
                        .map_or(slot.plugin.span().start, |c| c.span().start);
                    ConfigError::PluginConfig {
                        path: path.to_path_buf(),
                        line: line_of(path, offset),
                        table: table.to_string(),
                        plugin: plugin_name,
                        problems: problems.into_iter().map(|p| (p.path, p.message)).collect(),
                    }
                }
                other => plugin_error(other.to_string()),
            })
    }
}

/// The kind of plugin a slot takes: `promotions/<id>` takes a promotion.
pub fn slot_kind(slot: &str) -> PluginKind {
    match slot {
        "anti_diversion" => PluginKind::AntiDiversion,
        "pricing" => PluginKind::Pricing,
        "sourcing" | "fallback_sourcing" => PluginKind::Sourcing,
        _ => PluginKind::Promotion,
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
