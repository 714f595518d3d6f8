//! What a region configures: which warehouse levels ship, in which order,
//! how far a splittable line may be split, and the priority weights.
//!
//! ```toml
//! own_region_levels = ["dealer", "region"] # dealer-held stock first
//! neighbour_levels = ["region"]            # then neighbours' warehouses
//! max_neighbour_rank = 2
//! max_split = 3
//! [priority]
//! key_account = 300
//! dealer = 200
//! ```

use chanhost_sdk::{ConfigError, WarehouseLevel};
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
    pub fn of(level: WarehouseLevel) -> Level {
        match level {
            WarehouseLevel::Hq => Level::Hq,
            WarehouseLevel::Region => Level::Region,
            WarehouseLevel::Dealer => Level::Dealer,
            WarehouseLevel::Store => Level::Store,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Hq => "hq",
            Level::Region => "region",
            Level::Dealer => "dealer",
            Level::Store => "store",
        }
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
    /// Warehouse levels that ship in the order's own region (neighbour
    /// rank 0), most preferred first.
    pub own_region_levels: Vec<Level>,
    /// Warehouse levels that ship in neighbouring regions, by neighbour
    /// rank, then in this order within a rank; empty: no neighbour ships.
    pub neighbour_levels: Vec<Level>,
    /// Neighbours ranked beyond this do not ship; none: every rank.
    pub max_neighbour_rank: Option<u32>,
    /// At most this many warehouses ship one line of an order that may be
    /// split (key-account orders never are).
    pub max_split: u32,
    pub priority: PriorityWeights,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            own_region_levels: vec![Level::Dealer, Level::Region],
            neighbour_levels: vec![Level::Region],
            max_neighbour_rank: None,
            max_split: 3,
            priority: PriorityWeights::default(),
        }
    }
}

impl Config {
    /// Where a warehouse at `rank` of `level` stands in the order of
    /// preference (lower first), or `None` when it does not ship.
    pub fn preference(&self, rank: u32, level: WarehouseLevel) -> Option<(u32, usize)> {
        let level = Level::of(level);
        let levels = if rank == 0 {
            &self.own_region_levels
        } else if self.max_neighbour_rank.is_none_or(|max| rank <= max) {
            &self.neighbour_levels
        } else {
            return None;
        };
        let at = levels.iter().position(|l| *l == level)?;
        Some((rank, at))
    }

    /// Every problem beyond the shape, each with its JSON pointer path.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.own_region_levels.is_empty() {
            errors.push(ConfigError::new(
                "/own_region_levels",
                "at least one warehouse level of the own region must ship",
            ));
        }
        for (field, levels) in [
            ("own_region_levels", &self.own_region_levels),
            ("neighbour_levels", &self.neighbour_levels),
        ] {
            for (i, level) in levels.iter().enumerate() {
                if levels[..i].contains(level) {
                    errors.push(ConfigError::new(
                        format!("/{field}/{i}"),
                        format!("`{}` is listed twice", level.name()),
                    ));
                }
            }
        }
        if !(1..=32).contains(&self.max_split) {
            errors.push(ConfigError::new(
                "/max_split",
                format!("must be 1..=32, got {}", self.max_split),
            ));
        }
        let w = &self.priority;
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
        if w.key_account <= w.dealer {
            errors.push(ConfigError::new(
                "/priority/key_account",
                format!(
                    "must be more than dealer's {} (key accounts are served first), got {}",
                    w.dealer, w.key_account
                ),
            ));
        }
        errors
    }
}
