//! The brand the benches run on: the reference HQ and catalogue from
//! `examples/brand`, compiled into the binary, with one region whose three
//! promotions all apply to the bench order.

use std::path::Path;

use anyhow::{Context, bail};

use crate::domain::{
    CustomerClass, Dealer, DealerTier, Order, OrderLine, OrderType, Urgency, Warehouse,
    WarehouseLevel,
};
use crate::policy::OrderContext;

pub const HQ_TOML: &str = include_str!("../../../../examples/brand/hq.toml");
pub const CATALOGUE_TOML: &str = include_str!("../../../../examples/brand/catalogue.toml");

/// Pricing, promotions and sourcing set by the region; anti-diversion
/// from HQ's defaults.
pub const REGION_TOML: &str = r#"
[region]
id = "bench"
name = "Bench Region"
neighbours = ["bench-n1", "bench-n2"]
price_adjustment_bp = 300

[plugins.pricing]
plugin = "builtin:pricing-tiered"
[plugins.pricing.config]
tier_discount_bp = { strategic = 800, core = 400, standard = 100 }
quantity_breaks = [{ min_cases = 20, discount_bp = 100 }, { min_cases = 100, discount_bp = 300 }]

[[plugins.promotions]]
id = "autumn"
plugin = "builtin:promotions"
[[plugins.promotions.config.promotions]]
id = "spend-10k"
kind = { type = "spend_threshold", threshold = 1000000, off = 80000, repeat = true }
[[plugins.promotions.config.promotions]]
id = "baijiu-10-2"
categories = ["baijiu"]
kind = { type = "buy_n_get_m", buy = 10, get = 1 }
[[plugins.promotions.config.promotions]]
id = "wine-5pct"
categories = ["wine"]
starts_at = 1788192000000
ends_at = 1790352000000
kind = { type = "percent_off", percent_bp = 500 }

[plugins.sourcing]
plugin = "builtin:sourcing-region-first"
[plugins.sourcing.config]
max_split = 3
"#;

/// Neighbour regions exist only so the bench region's references resolve.
pub fn neighbour_toml(id: &str) -> String {
    format!("[region]\nid = \"{id}\"\nname = \"{id}\"\nneighbours = [\"bench\"]\n")
}

/// Writes the bench brand into `dir`, the bench region as `region_toml`
/// says (`REGION_TOML`, or [`region_with_plugins`]).
pub fn write(dir: &Path, region_toml: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("regions"))?;
    std::fs::write(dir.join("hq.toml"), HQ_TOML)?;
    std::fs::write(dir.join("catalogue.toml"), CATALOGUE_TOML)?;
    std::fs::write(dir.join("regions/bench.toml"), region_toml)?;
    for id in ["bench-n1", "bench-n2"] {
        std::fs::write(dir.join(format!("regions/{id}.toml")), neighbour_toml(id))?;
    }
    Ok(())
}

/// The bench region with the `[plugins…]` tables of `file` instead of its
/// own. Plugin paths in `file` are relative to its directory; they are made
/// absolute, since the bench brand lives in a temporary directory.
pub fn region_with_plugins(file: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut given: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", file.display()))?;
    if let Some(other) = given.keys().find(|key| *key != "plugins") {
        bail!(
            "{}: unexpected table `{other}`; the file holds only a region's `[plugins…]` tables",
            file.display()
        );
    }
    let Some(toml::Value::Table(mut plugins)) = given.remove("plugins") else {
        bail!("{}: no `[plugins…]` tables", file.display());
    };
    let base = file.parent().unwrap_or(Path::new("."));
    for (_, value) in plugins.iter_mut() {
        match value {
            toml::Value::Table(slot) => absolute_plugin_path(slot, base),
            toml::Value::Array(slots) => slots
                .iter_mut()
                .filter_map(toml::Value::as_table_mut)
                .for_each(|slot| absolute_plugin_path(slot, base)),
            _ => {}
        }
    }
    let mut region: toml::Table = toml::from_str(REGION_TOML).expect("the bench region parses");
    region.insert("plugins".into(), toml::Value::Table(plugins));
    Ok(toml::to_string(&region)?)
}

/// A slot's `plugin = "<path>"` made absolute against `base`; `builtin:`
/// references stay as they are.
fn absolute_plugin_path(slot: &mut toml::Table, base: &Path) {
    if let Some(toml::Value::String(reference)) = slot.get_mut("plugin")
        && !reference.starts_with("builtin:")
    {
        let joined = base.join(&*reference);
        *reference = std::path::absolute(&joined)
            .unwrap_or(joined)
            .display()
            .to_string();
    }
}

/// A 10-line order from a core dealer, with stock split over the own
/// region and two neighbours so sourcing has to split some lines.
pub fn ten_line_order() -> OrderContext {
    let lines = [
        ("BJ-001", 12),
        ("BJ-002", 20),
        ("BJ-006", 8),
        ("WN-001", 10),
        ("WN-002", 6),
        ("LA-001", 24),
        ("LA-004", 15),
        ("BJ-013", 30),
        ("WN-006", 5),
        ("LA-009", 40),
    ];
    let stock = |share: u32| {
        lines
            .iter()
            .map(|(sku, q)| (sku.to_string(), q * share / 4))
            .collect()
    };
    let warehouse = |id: &str, region: &str, share| Warehouse {
        id: id.into(),
        region: region.into(),
        level: WarehouseLevel::Region,
        available: stock(share),
    };
    OrderContext {
        order: Order {
            id: "BENCH-0001".into(),
            dealer_id: "D-BENCH-1".into(),
            region: "bench".into(),
            ship_to: "bench".into(),
            order_type: OrderType::Spot,
            urgency: Urgency::Normal,
            placed_at: 1_789_437_600_000,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, quantity))| OrderLine {
                    line_no: i as u32 + 1,
                    sku: sku.to_string(),
                    quantity: *quantity,
                })
                .collect(),
        },
        dealer: Dealer {
            id: "D-BENCH-1".into(),
            region: "bench".into(),
            tier: DealerTier::Core,
            class: CustomerClass::Dealer,
            territory: vec!["bench".into()],
            credit_limit: 100_000_000,
            outstanding_balance: 10_000_000,
            usual_order_cases: 150,
        },
        warehouses: vec![
            warehouse("WH-BENCH-1", "bench", 3),
            warehouse("WH-N1-1", "bench-n1", 2),
            warehouse("WH-N2-1", "bench-n2", 4),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region_from(text: &str) -> anyhow::Result<toml::Table> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("plugins.toml");
        std::fs::write(&file, text)?;
        Ok(toml::from_str(&region_with_plugins(&file)?)?)
    }

    #[test]
    fn given_plugins_replace_the_bench_regions_with_paths_made_absolute() {
        let region = region_from(
            "[plugins.pricing]\nplugin = \"mine/pricing.wasm\"\n\
             [[plugins.promotions]]\nid = \"a\"\nplugin = \"promo.wasm\"\n\
             [[plugins.promotions]]\nid = \"b\"\nplugin = \"builtin:promotions\"\n",
        )
        .unwrap();
        assert_eq!(region["region"]["id"].as_str(), Some("bench"));
        let plugins = region["plugins"].as_table().unwrap();
        assert!(
            plugins.get("sourcing").is_none(),
            "the bench region's own slots are gone"
        );
        let pricing = plugins["pricing"]["plugin"].as_str().unwrap();
        assert!(Path::new(pricing).is_absolute(), "{pricing}");
        assert!(pricing.ends_with("mine/pricing.wasm"), "{pricing}");
        let promotions = plugins["promotions"].as_array().unwrap();
        assert!(
            promotions[0]["plugin"]
                .as_str()
                .unwrap()
                .ends_with("/promo.wasm")
        );
        assert_eq!(promotions[1]["plugin"].as_str(), Some("builtin:promotions"));
    }

    #[test]
    fn a_file_without_plugins_is_refused() {
        let error = region_from("").unwrap_err().to_string();
        assert!(error.ends_with("no `[plugins…]` tables"), "{error}");
        let error = region_from("plugins = 3").unwrap_err().to_string();
        assert!(error.ends_with("no `[plugins…]` tables"), "{error}");
    }
}
