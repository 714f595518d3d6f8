//! Region-first sourcing: every order line is served from the order's own
//! region (neighbour rank 0) first, then from neighbour regions in
//! increasing rank, split over several warehouses when one cannot cover it;
//! whatever no warehouse can ship becomes an explicit backorder.
//!
//! Within one rank the warehouse with the most remaining stock of the SKU
//! goes first (fewer, larger shipments), ties broken by warehouse id. Stock
//! taken by an earlier line is gone for later lines of the same order.
//!
//! The plan also carries the order's supply priority (customer class,
//! urgency, new products) with a reason per contribution, a production
//! alert per SKU whose demand outruns the own region's stock by the
//! configured margin, and a transfer suggestion per neighbour allocation.

use chanhost_sdk::log::{debug, info};
use chanhost_sdk::sourcing::{
    Allocation, Backorder, ProductionAlert, Signal, Sourcing, SourcingInput, SourcingPlan,
    TransferSuggestion,
};
use chanhost_sdk::text::push_int;
use chanhost_sdk::{ConfigError, CustomerClass, Plugin, PluginError, Urgency, WarehouseLevel};
use schemars::JsonSchema;
use serde::Deserialize;

/// A warehouse level, as a region names it in its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Hq,
    Region,
    Dealer,
    Store,
}

impl Level {
    fn matches(self, level: WarehouseLevel) -> bool {
        matches!(
            (self, level),
            (Level::Hq, WarehouseLevel::Hq)
                | (Level::Region, WarehouseLevel::Region)
                | (Level::Dealer, WarehouseLevel::Dealer)
                | (Level::Store, WarehouseLevel::Store)
        )
    }
}

/// Priority points per customer class and per circumstance.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityWeights {
    pub key_account: u32,
    pub dealer: u32,
    pub shop: u32,
    pub restaurant: u32,
    /// Added when the order is expedited.
    pub expedited: u32,
    /// Added once when any ordered SKU is a new product.
    pub new_product: u32,
}

impl Default for PriorityWeights {
    fn default() -> Self {
        PriorityWeights {
            key_account: 300,
            dealer: 200,
            shop: 100,
            restaurant: 100,
            expedited: 50,
            new_product: 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// When false, an order that cannot be fully covered fails with
    /// `insufficient-stock` instead of carrying backorders.
    pub allow_backorder: bool,
    /// Neighbours ranked beyond this are not used; none means all.
    pub max_neighbour_rank: Option<u32>,
    /// At most this many warehouses ship one line.
    pub max_split: u32,
    /// Warehouse levels that may ship; dealer and store stock belongs to
    /// someone else, so it is left out by default.
    pub source_levels: Vec<Level>,
    /// Alert production when demand ≥ own-region available × (1 + this).
    pub production_alert_threshold_bp: u32,
    pub production_lead_days: u32,
    pub new_product_lead_days: u32,
    pub transfer_suggestions: bool,
    pub priority: PriorityWeights,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allow_backorder: true,
            max_neighbour_rank: None,
            max_split: 3,
            source_levels: vec![Level::Region, Level::Hq],
            production_alert_threshold_bp: 3_000,
            production_lead_days: 14,
            new_product_lead_days: 21,
            transfer_suggestions: true,
            priority: PriorityWeights::default(),
        }
    }
}

pub struct RegionFirst;

impl Plugin for RegionFirst {
    type Config = Config;
    const NAME: &'static str = "sourcing-region-first";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Own region first, then neighbours by rank; splits lines, backorders the rest, flags production and transfers.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !(1..=32).contains(&config.max_split) {
            errors.push(ConfigError::new(
                "/max_split",
                format!("must be 1..=32, got {}", config.max_split),
            ));
        }
        if config.source_levels.is_empty() {
            errors.push(ConfigError::new(
                "/source_levels",
                "at least one warehouse level must be allowed",
            ));
        }
        for (i, level) in config.source_levels.iter().enumerate() {
            if config.source_levels[..i].contains(level) {
                errors.push(ConfigError::new(
                    format!("/source_levels/{i}"),
                    format!("{level:?} is listed twice"),
                ));
            }
        }
        if config.production_alert_threshold_bp > 100_000 {
            errors.push(ConfigError::new(
                "/production_alert_threshold_bp",
                format!(
                    "must be 0..=100000 basis points, got {}",
                    config.production_alert_threshold_bp
                ),
            ));
        }
        for (name, days) in [
            ("production_lead_days", config.production_lead_days),
            ("new_product_lead_days", config.new_product_lead_days),
        ] {
            if !(1..=365).contains(&days) {
                errors.push(ConfigError::new(
                    format!("/{name}"),
                    format!("must be 1..=365 days, got {days}"),
                ));
            }
        }
        let w = &config.priority;
        for (name, points) in [
            ("key_account", w.key_account),
            ("dealer", w.dealer),
            ("shop", w.shop),
            ("restaurant", w.restaurant),
            ("expedited", w.expedited),
            ("new_product", w.new_product),
        ] {
            // Keeps the sum of three weights far from u32::MAX.
            if points > 1_000_000 {
                errors.push(ConfigError::new(
                    format!("/priority/{name}"),
                    format!("must be 0..=1000000, got {points}"),
                ));
            }
        }
        errors
    }
}

/// A warehouse the plan may draw from, with what is left of its stock.
struct Pool<'a> {
    id: &'a str,
    rank: u32,
    /// Cases still available of each of the order's SKUs (indexed like
    /// [`Skus`]), summed over duplicate stock entries.
    left: Vec<u32>,
}

impl<'a> Pool<'a> {
    fn left(&self, sku: usize) -> u32 {
        self.left[sku]
    }

    fn take(&mut self, sku: usize, quantity: u32) {
        self.left[sku] -= quantity;
    }
}

/// The order's distinct SKUs in order of first appearance, so that every
/// later lookup is an index, not a string compare.
struct Skus<'a> {
    names: Vec<&'a str>,
    /// Per input product, its index in `names` if the order has it.
    of_product: Vec<Option<usize>>,
}

impl<'a> Skus<'a> {
    fn of(
        lines: &[chanhost_sdk::OrderLine],
        products: &'a [chanhost_sdk::Product],
    ) -> Result<Self, PluginError> {
        let mut skus = Skus {
            names: Vec::new(),
            of_product: vec![None; products.len()],
        };
        for line in lines {
            let product = products.get(line.product as usize).ok_or_else(|| {
                PluginError::new(
                    "unknown-product",
                    format!(
                        "line {} refers to product {}, which is not in the input",
                        line.line_no, line.product
                    ),
                )
            })?;
            let slot = &mut skus.of_product[line.product as usize];
            if slot.is_none() {
                *slot = Some(skus.names.len());
                skus.names.push(&product.sku);
            }
        }
        Ok(skus)
    }

    /// The index in `names` of input product `product`.
    fn index(&self, product: u32) -> Option<usize> {
        self.of_product.get(product as usize).copied().flatten()
    }
}

impl Sourcing for RegionFirst {
    fn source(config: &Config, input: SourcingInput) -> Result<SourcingPlan, PluginError> {
        let order = &input.order;
        let skus = Skus::of(&order.lines, &input.products)?;
        let line_skus: Vec<usize> = order
            .lines
            .iter()
            .map(|l| skus.index(l.product).expect("every line's SKU is indexed"))
            .collect();
        // Whether each of the order's SKUs is a new product.
        let mut new_product = vec![false; skus.names.len()];
        for (p, sku) in input.products.iter().zip(&skus.of_product) {
            if let Some(i) = sku {
                new_product[*i] |= p.new_product;
            }
        }
        let mut pools: Vec<Pool> = input
            .warehouses
            .iter()
            .filter(|w| config.source_levels.iter().any(|l| l.matches(w.level)))
            .filter(|w| {
                config
                    .max_neighbour_rank
                    .is_none_or(|max| w.neighbour_rank <= max)
            })
            .map(|w| {
                let mut left = vec![0u32; skus.names.len()];
                for s in &w.stock {
                    if let Some(i) = skus.index(s.product) {
                        left[i] = left[i].saturating_add(s.available);
                    }
                }
                Pool {
                    id: &w.id,
                    rank: w.neighbour_rank,
                    left,
                }
            })
            .collect();

        // Demand and own-region stock per SKU, before anything is taken.
        let mut demand: Vec<(&str, u32, u32)> = skus
            .names
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                let own = pools
                    .iter()
                    .filter(|p| p.rank == 0)
                    .fold(0u32, |sum, p| sum.saturating_add(p.left(i)));
                (*sku, 0, own)
            })
            .collect();
        for (line, &sku) in order.lines.iter().zip(&line_skus) {
            demand[sku].1 = demand[sku].1.saturating_add(line.quantity);
        }

        let mut allocations: Vec<(Allocation, u32)> = Vec::new();
        // (pool, SKU index) of each allocation, to merge without comparing strings.
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut backorders: Vec<Backorder> = Vec::new();
        for (line, &sku) in order.lines.iter().zip(&line_skus) {
            let mut need = line.quantity;
            let mut candidates: Vec<usize> = (0..pools.len())
                .filter(|&i| pools[i].left(sku) > 0)
                .collect();
            candidates.sort_by(|&a, &b| {
                let (a, b) = (&pools[a], &pools[b]);
                a.rank
                    .cmp(&b.rank)
                    .then(b.left(sku).cmp(&a.left(sku)))
                    .then_with(|| a.id.cmp(b.id))
            });
            for &i in candidates.iter().take(config.max_split as usize) {
                if need == 0 {
                    break;
                }
                let pool = &mut pools[i];
                let take = need.min(pool.left(sku));
                pool.take(sku, take);
                need -= take;
                // One line per allocation step: appended, not formatted.
                let mut note = String::with_capacity(64);
                note.push_str("line ");
                push_int(&mut note, line.line_no);
                note.push_str(": ");
                push_int(&mut note, take);
                note.push_str(" × ");
                note.push_str(skus.names[sku]);
                note.push_str(" from ");
                note.push_str(pool.id);
                note.push_str(" (rank ");
                push_int(&mut note, pool.rank);
                note.push(')');
                debug(&note);
                // One allocation per warehouse and SKU: one shipment per warehouse.
                match taken.iter().position(|&(p, k)| p == i && k == sku) {
                    Some(at) => allocations[at].0.quantity += take,
                    None => {
                        taken.push((i, sku));
                        allocations.push((
                            Allocation {
                                warehouse_id: pool.id.to_string(),
                                sku: skus.names[sku].to_string(),
                                quantity: take,
                            },
                            pool.rank,
                        ));
                    }
                }
            }
            if need > 0 {
                debug(&format!(
                    "line {}: {} × {} backordered",
                    line.line_no, need, skus.names[sku]
                ));
                match backorders.iter_mut().find(|b| b.sku == skus.names[sku]) {
                    Some(b) => b.quantity = b.quantity.saturating_add(need),
                    None => backorders.push(Backorder {
                        sku: skus.names[sku].to_string(),
                        quantity: need,
                    }),
                }
            }
        }

        if !config.allow_backorder && !backorders.is_empty() {
            let short: Vec<String> = backorders
                .iter()
                .map(|b| format!("{} short {} cases", b.sku, b.quantity))
                .collect();
            return Err(PluginError::new(
                "insufficient-stock",
                format!(
                    "order {} cannot be fully covered and backorders are not allowed: {}",
                    order.id,
                    short.join(", ")
                ),
            ));
        }

        let mut signals = Vec::new();
        for (i, &(sku, demand, available)) in demand.iter().enumerate() {
            let margin = 10_000 + u64::from(config.production_alert_threshold_bp);
            if demand > available && u64::from(demand) * 10_000 >= u64::from(available) * margin {
                let lead = if new_product[i] {
                    config.new_product_lead_days
                } else {
                    config.production_lead_days
                };
                signals.push(Signal::ProductionAlert(ProductionAlert {
                    sku: sku.to_string(),
                    region: order.region.clone(),
                    shortfall: demand - available,
                    demand,
                    available,
                    suggested_lead_days: lead,
                }));
            }
        }
        if config.transfer_suggestions {
            for (a, _) in allocations.iter().filter(|(_, rank)| *rank > 0) {
                signals.push(Signal::TransferSuggestion(TransferSuggestion {
                    sku: a.sku.clone(),
                    from_warehouse: a.warehouse_id.clone(),
                    to_region: order.region.clone(),
                    quantity: a.quantity,
                }));
            }
        }

        let new_skus: Vec<&str> = skus
            .names
            .iter()
            .zip(&new_product)
            .filter(|(_, new)| **new)
            .map(|(sku, _)| *sku)
            .collect();
        let (priority, priority_reasons) = priority(config, &input, &new_skus);
        info(&format!(
            "order {}: {} allocation(s), {} backorder(s), priority {}, {} signal(s)",
            order.id,
            allocations.len(),
            backorders.len(),
            priority,
            signals.len()
        ));
        Ok(SourcingPlan {
            allocations: allocations.into_iter().map(|(a, _)| a).collect(),
            backorders,
            priority,
            priority_reasons,
            signals,
        })
    }
}

/// Supply priority and a sentence per contribution; `new_skus` are the
/// ordered SKUs that are new products, in order of first appearance.
fn priority(config: &Config, input: &SourcingInput, new_skus: &[&str]) -> (u32, Vec<String>) {
    let w = &config.priority;
    let (class, points) = match input.dealer.class {
        CustomerClass::KeyAccount => ("key-account", w.key_account),
        CustomerClass::Dealer => ("dealer", w.dealer),
        CustomerClass::Shop => ("shop", w.shop),
        CustomerClass::Restaurant => ("restaurant", w.restaurant),
    };
    let mut total = points;
    let mut reasons = vec![format!("customer class {class}: +{points}")];
    if input.order.urgency == Urgency::Expedited {
        total += w.expedited;
        reasons.push(format!("expedited order: +{}", w.expedited));
    }
    if !new_skus.is_empty() {
        total += w.new_product;
        reasons.push(format!(
            "new product in order ({}): +{}",
            new_skus.join(", "),
            w.new_product
        ));
    }
    (total, reasons)
}

chanhost_sdk::export_sourcing!(RegionFirst);

#[cfg(test)]
mod tests;
