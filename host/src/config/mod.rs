//! The TOML model of a brand: HQ's guardrails and default plugins
//! (`hq.toml`), the catalogue (`catalogue.toml`) and one file per regional
//! center (`regions/*.toml`). Errors name the file, line and field.
//!
//! This module only reads files; turning plugin references into loaded,
//! configured plugins is `policy::region`'s job.

pub mod dataset;
pub mod error;
mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use model::*;

use crate::domain::Product;

/// Everything a brand's configuration directory holds.
#[derive(Debug, Clone)]
pub struct BrandConfig {
    pub dir: PathBuf,
    pub hq: HqFile,
    pub catalogue: BTreeMap<String, Product>,
    /// Region id → its file.
    pub regions: BTreeMap<String, RegionFile>,
}

impl BrandConfig {
    /// Reads `<dir>/hq.toml`, `<dir>/catalogue.toml` and `<dir>/regions/*.toml`.
    pub fn load(dir: &Path) -> Result<BrandConfig, ConfigError> {
        let hq: HqFile = read_toml(&dir.join("hq.toml"))?;
        let catalogue_file: CatalogueFile = read_toml(&dir.join("catalogue.toml"))?;
        let mut catalogue = BTreeMap::new();
        for (i, product) in catalogue_file.product.into_iter().enumerate() {
            if product.base_price <= 0 {
                return Err(ConfigError::field(
                    dir.join("catalogue.toml"),
                    format!("product[{i}].base_price"),
                    "base price must be positive",
                ));
            }
            let sku = product.sku.clone();
            if catalogue.insert(sku.clone(), product).is_some() {
                return Err(ConfigError::field(
                    dir.join("catalogue.toml"),
                    format!("product[{i}].sku"),
                    format!("SKU {sku} appears twice"),
                ));
            }
        }

        let regions_dir = dir.join("regions");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&regions_dir)
            .map_err(|source| ConfigError::Io {
                path: regions_dir.clone(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        let mut regions = BTreeMap::new();
        for path in paths {
            let mut region: RegionFile = read_toml(&path)?;
            region.path = path.clone();
            if let Some(previous) = regions
                .get(&region.region.id)
                .map(|r: &RegionFile| r.path.clone())
            {
                return Err(ConfigError::field(
                    path,
                    "region.id",
                    format!(
                        "region {} is also defined in {}",
                        region.region.id,
                        previous.display()
                    ),
                ));
            }
            regions.insert(region.region.id.clone(), region);
        }
        let brand = BrandConfig {
            dir: dir.to_path_buf(),
            hq,
            catalogue,
            regions,
        };
        brand.check_references()?;
        Ok(brand)
    }

    /// Cross-file checks: neighbours exist, listed SKUs exist, regional
    /// adjustments stay inside HQ's band.
    fn check_references(&self) -> Result<(), ConfigError> {
        crate::registry::signing::check_trusted_keys(&self.hq.registry.trusted_keys).map_err(
            |message| {
                ConfigError::field(self.dir.join("hq.toml"), "registry.trusted_keys", message)
            },
        )?;
        let band = self.hq.hq.guardrails.price_band_bp;
        let ids: BTreeSet<&String> = self.regions.keys().collect();
        for region in self.regions.values() {
            let path = &region.path;
            for (i, neighbour) in region.region.neighbours.iter().enumerate() {
                if !ids.contains(neighbour) {
                    return Err(ConfigError::field(
                        path,
                        format!("region.neighbours[{i}]"),
                        format!("unknown region {neighbour}"),
                    ));
                }
                if *neighbour == region.region.id {
                    return Err(ConfigError::field(
                        path,
                        format!("region.neighbours[{i}]"),
                        "a region is not its own neighbour",
                    ));
                }
            }
            if let Some(listed) = &region.region.listed {
                for (i, sku) in listed.iter().enumerate() {
                    if !self.catalogue.contains_key(sku) {
                        return Err(ConfigError::field(
                            path,
                            format!("region.listed[{i}]"),
                            format!("unknown SKU {sku}"),
                        ));
                    }
                }
            }
            let adjustments = std::iter::once((
                "region.price_adjustment_bp".to_string(),
                region.region.price_adjustment_bp,
            ))
            .chain(
                region
                    .region
                    .sku_adjustment_bp
                    .iter()
                    .map(|(sku, bp)| (format!("region.sku_adjustment_bp.{sku}"), *bp)),
            );
            for (field, bp) in adjustments {
                if bp.abs() > band {
                    return Err(ConfigError::field(
                        path,
                        field,
                        format!("adjustment {bp} bp is outside HQ's band of ±{band} bp"),
                    ));
                }
            }
            for sku in region.region.sku_adjustment_bp.keys() {
                if !self.catalogue.contains_key(sku) {
                    return Err(ConfigError::field(
                        path,
                        format!("region.sku_adjustment_bp.{sku}"),
                        format!("unknown SKU {sku}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses a TOML file; a syntax or type error keeps the line and column.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|err| ConfigError::toml(path, &text, err))
}
