//! {{name}}: a chanhost sourcing (寻源) plugin.
//!
//! Every order line ships from the order's own region first (neighbour rank
//! 0), then, if the region allows it, from neighbour regions up to
//! `max_neighbour_rank`, nearest first; within a rank the warehouse with
//! the most stock of the SKU goes first (fewer, larger shipments), ties by
//! warehouse id. Stock an earlier line took is gone for later lines. What
//! no warehouse can ship is backordered, with a production alert per SKU.
//!
//! The plan's priority (who is served first when stock is scarce) is
//! `priority`, or `key_account_priority` for key accounts.
//!
//! A region configures it in its `config` table (every field is optional):
//!
//! ```toml
//! max_neighbour_rank = 1        # also the nearest neighbours; 0: own region only
//! priority = 50
//! key_account_priority = 80
//! production_lead_days = 14     # suggested in production alerts
//! ```
//!
//! HQ's guardrails refuse a plan that ships from a warehouse not in the
//! input, takes more than its stock, or leaves an ordered case neither
//! allocated nor backordered. The answer may depend only on the
//! configuration and the input (no clock, no randomness, nothing kept
//! between calls), so that a replayed order gets the same plan.

use chanhost_sdk::log::{debug, info};
use chanhost_sdk::sourcing::{
    Allocation, Backorder, ProductionAlert, Signal, Sourcing, SourcingInput, SourcingPlan,
};
use chanhost_sdk::{ConfigError, CustomerClass, Plugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;

// The configuration a region gives the plugin, as JSON. Its JSON Schema,
// derived from this type and its doc comments (`///`), is what `chanhost
// plugin check` shows and what a region's configuration is checked against.
/// How far to look for stock, and the plan's priority.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Ship from neighbour regions up to this rank too (0: only the order's
    /// own region; 1: also the nearest neighbours; …).
    pub max_neighbour_rank: u32,
    /// Supply priority of an order (higher is served first).
    pub priority: u32,
    /// Supply priority of a key account's order.
    pub key_account_priority: u32,
    /// Lead time, in days, suggested to production for a backordered SKU
    /// (at least 1).
    pub production_lead_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_neighbour_rank: 0,
            priority: 50,
            key_account_priority: 80,
            production_lead_days: 14,
        }
    }
}

/// The plugin: the SDK calls its `Sourcing::source` for every order.
pub struct OwnRegionFirst;

impl Plugin for OwnRegionFirst {
    type Config = Config;
    // The package's name and version in Cargo.toml: one place to bump.
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str =
        "Own region's warehouses first, then near neighbours; backorders the rest.";

    /// Checks what the types cannot say; every problem with its path.
    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if config.production_lead_days == 0 {
            errors.push(ConfigError::new(
                "/production_lead_days",
                "must be at least 1",
            ));
        }
        errors
    }
}

impl Sourcing for OwnRegionFirst {
    fn source(config: &Config, input: SourcingInput) -> Result<SourcingPlan, PluginError> {
        let products = &input.products;
        // What is left: remaining[warehouse][product], from the input's stock.
        let mut remaining: Vec<Vec<u32>> = input
            .warehouses
            .iter()
            .map(|warehouse| {
                let mut stock = vec![0; products.len()];
                for level in &warehouse.stock {
                    if let Some(cases) = stock.get_mut(level.product as usize) {
                        *cases = level.available;
                    }
                }
                stock
            })
            .collect();

        let mut allocations: Vec<Allocation> = Vec::new();
        let mut backorders: Vec<Backorder> = Vec::new();
        for line in &input.order.lines {
            let product = line.product as usize;
            let sku = &products
                .get(product)
                .ok_or_else(|| {
                    PluginError::new(
                        "no-product",
                        format!("line {} has no catalogue entry", line.line_no),
                    )
                })?
                .sku;
            let mut candidates: Vec<usize> = (0..input.warehouses.len())
                .filter(|&w| input.warehouses[w].neighbour_rank <= config.max_neighbour_rank)
                .filter(|&w| remaining[w][product] > 0)
                .collect();
            candidates.sort_by(|&a, &b| {
                let (wa, wb) = (&input.warehouses[a], &input.warehouses[b]);
                wa.neighbour_rank
                    .cmp(&wb.neighbour_rank)
                    .then(remaining[b][product].cmp(&remaining[a][product]))
                    .then(wa.id.cmp(&wb.id))
            });

            let mut needed = line.quantity;
            for w in candidates {
                if needed == 0 {
                    break;
                }
                let take = needed.min(remaining[w][product]);
                remaining[w][product] -= take;
                needed -= take;
                let warehouse_id = &input.warehouses[w].id;
                debug(&format!(
                    "line {}: {take} × {sku} from {warehouse_id}",
                    line.line_no
                ));
                // One allocation per warehouse and SKU, however many lines.
                match allocations
                    .iter_mut()
                    .find(|a| a.warehouse_id == *warehouse_id && a.sku == *sku)
                {
                    Some(allocation) => allocation.quantity += take,
                    None => allocations.push(Allocation {
                        warehouse_id: warehouse_id.clone(),
                        sku: sku.clone(),
                        quantity: take,
                    }),
                }
            }

            if needed > 0 {
                match backorders.iter_mut().find(|b| b.sku == *sku) {
                    Some(backorder) => backorder.quantity += needed,
                    None => backorders.push(Backorder {
                        sku: sku.clone(),
                        quantity: needed,
                    }),
                }
            }
        }

        // Production hears of every SKU the region could not ship.
        let signals: Vec<Signal> = backorders
            .iter()
            .map(|backorder| {
                let demand: u32 = input
                    .order
                    .lines
                    .iter()
                    .filter(|line| {
                        products
                            .get(line.product as usize)
                            .is_some_and(|p| p.sku == backorder.sku)
                    })
                    .map(|line| line.quantity)
                    .sum();
                info(&format!(
                    "{}: {} of {demand} cases backordered",
                    backorder.sku, backorder.quantity
                ));
                Signal::ProductionAlert(ProductionAlert {
                    sku: backorder.sku.clone(),
                    region: input.order.region.clone(),
                    shortfall: backorder.quantity,
                    demand,
                    // Every case the allowed warehouses had was shipped.
                    available: demand - backorder.quantity,
                    suggested_lead_days: config.production_lead_days,
                })
            })
            .collect();

        let (priority, why) = match input.dealer.class {
            CustomerClass::KeyAccount => (config.key_account_priority, "key-account order"),
            _ => (config.priority, "default priority"),
        };
        Ok(SourcingPlan {
            allocations,
            backorders,
            priority,
            priority_reasons: vec![format!("{why}: {priority}")],
            signals,
        })
    }
}

// The component's exports; on a native build (`cargo test`) this expands to
// nothing.
chanhost_sdk::export_sourcing!(OwnRegionFirst);

#[cfg(test)]
mod tests {
    use super::*;
    use chanhost_sdk::sourcing::{StockLevel, Warehouse};
    use chanhost_sdk::{Dealer, WarehouseLevel, testing};

    /// A warehouse at `rank` with `stock` cases of the order's first SKU.
    fn warehouse(id: &str, rank: u32, stock: u32) -> Warehouse {
        Warehouse {
            id: id.into(),
            region: if rank == 0 {
                testing::REGION.into()
            } else {
                "r02".into()
            },
            level: WarehouseLevel::Region,
            neighbour_rank: rank,
            stock: vec![StockLevel {
                product: 0,
                available: stock,
            }],
        }
    }

    fn input(cases: u32, warehouses: Vec<Warehouse>) -> SourcingInput {
        let lines = [("BJ-001", cases)];
        SourcingInput {
            order: testing::order(&lines),
            dealer: testing::dealer(),
            products: testing::products_for(&lines, |sku| testing::product(sku, "baijiu", 100_000)),
            warehouses,
        }
    }

    /// Parsed and validated as the host does it.
    fn config(json: &str) -> Config {
        chanhost_sdk::parse_config::<OwnRegionFirst>(json).expect("a valid configuration")
    }

    /// (warehouse, cases) of each allocation.
    fn shipped(plan: &SourcingPlan) -> Vec<(&str, u32)> {
        plan.allocations
            .iter()
            .map(|a| (a.warehouse_id.as_str(), a.quantity))
            .collect()
    }

    #[test]
    fn the_largest_own_region_stock_ships_first() {
        let warehouses = vec![warehouse("W-A", 0, 30), warehouse("W-B", 0, 50)];
        let plan = OwnRegionFirst::source(&config("{}"), input(40, warehouses)).unwrap();
        assert_eq!(shipped(&plan), [("W-B", 40)]);
        assert!(plan.backorders.is_empty() && plan.signals.is_empty());
    }

    #[test]
    fn what_the_region_lacks_is_backordered_with_an_alert() {
        let warehouses = vec![warehouse("W-A", 0, 30), warehouse("W-N", 1, 500)];
        let plan = OwnRegionFirst::source(&config("{}"), input(100, warehouses)).unwrap();
        assert_eq!(shipped(&plan), [("W-A", 30)]);
        assert_eq!(plan.backorders[0].quantity, 70);
        let [Signal::ProductionAlert(alert)] = plan.signals.as_slice() else {
            panic!("expected one production alert, got {:?}", plan.signals);
        };
        assert_eq!(
            (alert.shortfall, alert.demand, alert.available),
            (70, 100, 30)
        );
    }

    #[test]
    fn neighbours_fill_in_when_allowed() {
        let warehouses = vec![warehouse("W-A", 0, 30), warehouse("W-N", 1, 500)];
        let config = config(r#"{"max_neighbour_rank": 1}"#);
        let plan = OwnRegionFirst::source(&config, input(100, warehouses)).unwrap();
        assert_eq!(shipped(&plan), [("W-A", 30), ("W-N", 70)]);
        assert!(plan.backorders.is_empty());
    }

    #[test]
    fn key_accounts_get_their_priority() {
        let mut input = input(1, vec![warehouse("W-A", 0, 1)]);
        input.dealer = Dealer {
            class: CustomerClass::KeyAccount,
            ..testing::dealer()
        };
        let plan = OwnRegionFirst::source(&config("{}"), input).unwrap();
        assert_eq!(plan.priority, 80);
        assert_eq!(plan.priority_reasons, ["key-account order: 80"]);
    }

    #[test]
    fn a_bad_configuration_is_refused_with_its_path() {
        let errors = chanhost_sdk::parse_config::<OwnRegionFirst>(r#"{"production_lead_days": 0}"#)
            .unwrap_err();
        assert_eq!(errors[0].path, "/production_lead_days");
    }
}
