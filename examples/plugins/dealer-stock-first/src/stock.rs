//! The order's SKUs and the warehouses that may ship them, in the order of
//! preference, each with what is left of its stock as the plan takes it.

use chanhost_sdk::sourcing::Warehouse;
use chanhost_sdk::{OrderLine, PluginError, Product};

use crate::config::{Config, Level};

/// The order's distinct SKUs in order of first appearance, so that every
/// later lookup is an index, not a string compare.
pub struct Skus<'a> {
    pub names: Vec<&'a str>,
    /// Per input product, its index in `names` if the order has it.
    of_product: Vec<Option<usize>>,
    /// Per order line (same index), its SKU's index in `names`.
    pub of_line: Vec<usize>,
}

impl<'a> Skus<'a> {
    pub fn of(lines: &[OrderLine], products: &'a [Product]) -> Result<Self, PluginError> {
        let mut skus = Skus {
            names: Vec::new(),
            of_product: vec![None; products.len()],
            of_line: Vec::with_capacity(lines.len()),
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
            let index = *slot.get_or_insert_with(|| {
                skus.names.push(&product.sku);
                skus.names.len() - 1
            });
            skus.of_line.push(index);
        }
        Ok(skus)
    }

    /// The index in `names` of input product `product`.
    pub fn index(&self, product: u32) -> Option<usize> {
        self.of_product.get(product as usize).copied().flatten()
    }
}

/// A warehouse that may ship, with what is left of its stock.
pub struct Pool<'a> {
    pub id: &'a str,
    pub rank: u32,
    pub level: Level,
    /// (neighbour rank, position of the level in the configured list):
    /// lower ships first.
    pub preference: (u32, usize),
    /// Cases still available of each of the order's SKUs (indexed like
    /// [`Skus::names`]), summed over duplicate stock entries.
    pub left: Vec<u32>,
}

impl Pool<'_> {
    /// Whether this warehouse alone has every case of `demand` (per SKU).
    pub fn covers(&self, demand: &[u32]) -> bool {
        self.left
            .iter()
            .zip(demand)
            .all(|(left, want)| left >= want)
    }
}

/// The warehouses the configuration lets ship, most preferred first (ties
/// by id, so that the same input always gives the same plan).
pub fn pools<'a>(config: &Config, warehouses: &'a [Warehouse], skus: &Skus) -> Vec<Pool<'a>> {
    let mut pools: Vec<Pool> = warehouses
        .iter()
        .filter_map(|w| {
            let preference = config.preference(w.neighbour_rank, w.level)?;
            let mut left = vec![0u32; skus.names.len()];
            for stock in &w.stock {
                if let Some(i) = skus.index(stock.product) {
                    left[i] = left[i].saturating_add(stock.available);
                }
            }
            Some(Pool {
                id: &w.id,
                rank: w.neighbour_rank,
                level: Level::of(w.level),
                preference,
                left,
            })
        })
        .collect();
    pools.sort_by(|a, b| a.preference.cmp(&b.preference).then(a.id.cmp(b.id)));
    pools
}
