//! A brand's operating data set: warehouses, dealers, opening stock and demo
//! API tokens (`warehouses.toml`, `dealers.toml`, `stock.toml`,
//! `tokens.toml`), read and checked against the brand's configuration
//! before a store is seeded from it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BrandConfig, ConfigError, read_toml};
use crate::domain::{CustomerClass, Dealer, DealerTier, Fen, WarehouseLevel};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseRecord {
    pub id: String,
    pub name: String,
    pub region: String,
    pub level: WarehouseLevel,
    /// The dealer or store holding a `dealer`- or `store`-level warehouse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerRecord {
    pub id: String,
    pub name: String,
    pub region: String,
    pub tier: DealerTier,
    pub class: CustomerClass,
    pub territory: Vec<String>,
    pub credit_limit: Fen,
    pub outstanding_balance: Fen,
    pub usual_order_cases: u32,
}

impl DealerRecord {
    /// The dealer as orders and plugins see it.
    pub fn to_dealer(&self) -> Dealer {
        Dealer {
            id: self.id.clone(),
            region: self.region.clone(),
            tier: self.tier,
            class: self.class,
            territory: self.territory.clone(),
            credit_limit: self.credit_limit,
            outstanding_balance: self.outstanding_balance,
            usual_order_cases: self.usual_order_cases,
        }
    }
}

/// Opening stock of one SKU in one warehouse, in cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRecord {
    pub warehouse: String,
    pub sku: String,
    pub on_hand: u32,
    /// Safety-stock target level.
    pub target: u32,
    /// Baseline forecast (cases per day) for days of cover until order
    /// history exists.
    pub daily_demand: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    HqAdmin,
    RegionAdmin,
    Dealer,
}

impl Role {
    /// The name used in `tokens.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HqAdmin => "hq_admin",
            Role::RegionAdmin => "region_admin",
            Role::Dealer => "dealer",
        }
    }
}

/// A demo API token in plain text; the server keeps only its hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub token: String,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer: Option<String>,
}

/// Keeps the secret out of logs.
impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("token", &"<redacted>")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("region", &self.region)
            .field("dealer", &self.dealer)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub warehouses: Vec<WarehouseRecord>,
    pub dealers: Vec<DealerRecord>,
    pub stock: Vec<StockRecord>,
    pub tokens: Vec<TokenRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WarehousesFile {
    #[serde(default)]
    warehouse: Vec<WarehouseRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DealersFile {
    #[serde(default)]
    dealer: Vec<DealerRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockFile {
    #[serde(default)]
    stock: Vec<StockRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenRecord>,
}

impl Dataset {
    /// Reads the four files of `dir` and checks every reference against
    /// `brand` and each other. An error names the file, the record's index
    /// and field, and the record's id.
    pub fn load(dir: &Path, brand: &BrandConfig) -> Result<Dataset, ConfigError> {
        let dataset = Dataset {
            warehouses: read_toml::<WarehousesFile>(&dir.join(WAREHOUSES))?.warehouse,
            dealers: read_toml::<DealersFile>(&dir.join(DEALERS))?.dealer,
            stock: read_toml::<StockFile>(&dir.join(STOCK))?.stock,
            tokens: read_toml::<TokensFile>(&dir.join(TOKENS))?.token,
        };
        Checker { dir, brand }.check(&dataset)?;
        Ok(dataset)
    }
}

const WAREHOUSES: &str = "warehouses.toml";
const DEALERS: &str = "dealers.toml";
const STOCK: &str = "stock.toml";
const TOKENS: &str = "tokens.toml";

struct Checker<'a> {
    dir: &'a Path,
    brand: &'a BrandConfig,
}

impl Checker<'_> {
    fn error(&self, file: &str, field: String, message: String) -> ConfigError {
        ConfigError::field(self.dir.join(file), field, message)
    }

    fn region(
        &self,
        file: &str,
        field: String,
        who: &str,
        region: &str,
    ) -> Result<(), ConfigError> {
        if self.brand.regions.contains_key(region) {
            Ok(())
        } else {
            Err(self.error(file, field, format!("{who}: unknown region {region}")))
        }
    }

    fn check(&self, data: &Dataset) -> Result<(), ConfigError> {
        let dealers = self.dealers(&data.dealers)?;
        let warehouses = self.warehouses(&data.warehouses, &dealers)?;
        self.stock(&data.stock, &warehouses)?;
        self.tokens(&data.tokens, &dealers)
    }

    fn dealers<'d>(&self, dealers: &'d [DealerRecord]) -> Result<BTreeSet<&'d str>, ConfigError> {
        let mut ids = BTreeSet::new();
        for (i, d) in dealers.iter().enumerate() {
            let id = &d.id;
            if !ids.insert(id.as_str()) {
                return Err(self.error(
                    DEALERS,
                    format!("dealer[{i}].id"),
                    format!("dealer {id} appears twice"),
                ));
            }
            self.region(
                DEALERS,
                format!("dealer[{i}].region"),
                &format!("dealer {id}"),
                &d.region,
            )?;
            if d.territory.is_empty() {
                return Err(self.error(
                    DEALERS,
                    format!("dealer[{i}].territory"),
                    format!("dealer {id}: a territory needs at least one region"),
                ));
            }
            for (j, region) in d.territory.iter().enumerate() {
                self.region(
                    DEALERS,
                    format!("dealer[{i}].territory[{j}]"),
                    &format!("dealer {id}"),
                    region,
                )?;
            }
            if d.credit_limit < 0 {
                return Err(self.error(
                    DEALERS,
                    format!("dealer[{i}].credit_limit"),
                    format!("dealer {id}: credit limit must not be negative"),
                ));
            }
        }
        Ok(ids)
    }

    fn warehouses<'w>(
        &self,
        warehouses: &'w [WarehouseRecord],
        dealers: &BTreeSet<&str>,
    ) -> Result<BTreeMap<&'w str, &'w WarehouseRecord>, ConfigError> {
        let mut by_id = BTreeMap::new();
        for (i, w) in warehouses.iter().enumerate() {
            let id = &w.id;
            if by_id.insert(id.as_str(), w).is_some() {
                return Err(self.error(
                    WAREHOUSES,
                    format!("warehouse[{i}].id"),
                    format!("warehouse {id} appears twice"),
                ));
            }
            self.region(
                WAREHOUSES,
                format!("warehouse[{i}].region"),
                &format!("warehouse {id}"),
                &w.region,
            )?;
            let held = matches!(w.level, WarehouseLevel::Dealer | WarehouseLevel::Store);
            let field = format!("warehouse[{i}].owner");
            match (&w.owner, held) {
                (None, true) => {
                    return Err(self.error(
                        WAREHOUSES,
                        field,
                        format!("warehouse {id}: a dealer or store warehouse needs an owner"),
                    ));
                }
                (Some(_), false) => {
                    return Err(self.error(
                        WAREHOUSES,
                        field,
                        format!("warehouse {id}: only dealer and store warehouses have an owner"),
                    ));
                }
                (Some(owner), true) if !dealers.contains(owner.as_str()) => {
                    return Err(self.error(
                        WAREHOUSES,
                        field,
                        format!("warehouse {id}: unknown owner {owner}"),
                    ));
                }
                _ => {}
            }
        }
        Ok(by_id)
    }

    fn stock(
        &self,
        stock: &[StockRecord],
        warehouses: &BTreeMap<&str, &WarehouseRecord>,
    ) -> Result<(), ConfigError> {
        let mut seen = BTreeSet::new();
        for (i, s) in stock.iter().enumerate() {
            let id = format!("stock {}/{}", s.warehouse, s.sku);
            let Some(warehouse) = warehouses.get(s.warehouse.as_str()) else {
                return Err(self.error(
                    STOCK,
                    format!("stock[{i}].warehouse"),
                    format!("{id}: unknown warehouse {}", s.warehouse),
                ));
            };
            let Some(product) = self.brand.catalogue.get(&s.sku) else {
                return Err(self.error(
                    STOCK,
                    format!("stock[{i}].sku"),
                    format!("{id}: unknown SKU {}", s.sku),
                ));
            };
            // Regional exclusives stay in their regions (HQ holds them for
            // every region they are reserved to).
            let region = &warehouse.region;
            let restricted = &product.restricted_to_regions;
            if warehouse.level != WarehouseLevel::Hq
                && !restricted.is_empty()
                && !restricted.contains(region)
            {
                return Err(self.error(
                    STOCK,
                    format!("stock[{i}].sku"),
                    format!(
                        "{id}: {} is reserved to {} and may not be stocked in {region}",
                        s.sku,
                        restricted.join(", ")
                    ),
                ));
            }
            if !seen.insert((s.warehouse.as_str(), s.sku.as_str())) {
                return Err(self.error(
                    STOCK,
                    format!("stock[{i}]"),
                    format!("{id} appears twice"),
                ));
            }
            if s.target == 0 {
                return Err(self.error(
                    STOCK,
                    format!("stock[{i}].target"),
                    format!("{id}: target must be positive"),
                ));
            }
        }
        Ok(())
    }

    fn tokens(&self, tokens: &[TokenRecord], dealers: &BTreeSet<&str>) -> Result<(), ConfigError> {
        // Index of each token's first record: a repeat names it, not the secret.
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, t) in tokens.iter().enumerate() {
            let who = format!("token {:?}", t.name);
            if t.token.trim().is_empty() {
                return Err(self.error(
                    TOKENS,
                    format!("token[{i}].token"),
                    format!("{who}: empty token"),
                ));
            }
            if let Some(first) = seen.insert(t.token.as_str(), i) {
                return Err(self.error(
                    TOKENS,
                    format!("token[{i}].token"),
                    format!("{who}: same token as token[{first}]"),
                ));
            }
            let (needs_region, needs_dealer) = match t.role {
                Role::HqAdmin => (false, false),
                Role::RegionAdmin => (true, false),
                Role::Dealer => (false, true),
            };
            let region = self.token_field(i, &who, t.role, "region", &t.region, needs_region)?;
            if let Some(region) = region {
                self.region(TOKENS, format!("token[{i}].region"), &who, region)?;
            }
            let dealer = self.token_field(i, &who, t.role, "dealer", &t.dealer, needs_dealer)?;
            if let Some(dealer) = dealer.filter(|d| !dealers.contains(d.as_str())) {
                return Err(self.error(
                    TOKENS,
                    format!("token[{i}].dealer"),
                    format!("{who}: unknown dealer {dealer}"),
                ));
            }
        }
        Ok(())
    }

    /// A token's `region` or `dealer`: present exactly when its role needs it.
    fn token_field<'t>(
        &self,
        i: usize,
        who: &str,
        role: Role,
        name: &str,
        value: &'t Option<String>,
        needed: bool,
    ) -> Result<Option<&'t String>, ConfigError> {
        let problem = match (value, needed) {
            (None, true) => "needs a",
            (Some(_), false) => "takes no",
            _ => return Ok(value.as_ref()),
        };
        Err(self.error(
            TOKENS,
            format!("token[{i}].{name}"),
            format!("{who}: {} {problem} {name}", role.as_str()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HQ: &str = r#"
[hq]
name = "Test HQ"
[defaults]
[fallback_sourcing]
plugin = "builtin:sourcing-region-first"
"#;

    const CATALOGUE: &str = r#"
[[product]]
sku = "A-1"
name = "A"
category = "baijiu"
pack_size = 6
base_price = 10000
"#;

    const WAREHOUSES_TOML: &str = r#"
[[warehouse]]
id = "WH-HQ-1"
name = "HQ"
region = "r1"
level = "hq"
[[warehouse]]
id = "WH-R1-1"
name = "R1 DC"
region = "r1"
level = "region"
[[warehouse]]
id = "WH-D-R1-0001"
name = "Dealer warehouse"
region = "r1"
level = "dealer"
owner = "D-R1-0001"
"#;

    const DEALERS_TOML: &str = r#"
[[dealer]]
id = "D-R1-0001"
name = "First Dealer"
region = "r1"
tier = "strategic"
class = "dealer"
territory = ["r1", "r2"]
credit_limit = 50000000
outstanding_balance = 8000000
usual_order_cases = 60
[[dealer]]
id = "D-R2-0001"
name = "Second Dealer"
region = "r2"
tier = "standard"
class = "key_account"
territory = ["r2"]
credit_limit = 1000000
outstanding_balance = 0
usual_order_cases = 10
"#;

    const STOCK_TOML: &str = r#"
[[stock]]
warehouse = "WH-R1-1"
sku = "A-1"
on_hand = 500
target = 600
daily_demand = 12
[[stock]]
warehouse = "WH-HQ-1"
sku = "A-1"
on_hand = 900
target = 1000
daily_demand = 20
"#;

    const TOKENS_TOML: &str = r#"
[[token]]
token = "t-hq"
name = "HQ admin"
role = "hq_admin"
[[token]]
token = "t-r1"
name = "R1 admin"
role = "region_admin"
region = "r1"
[[token]]
token = "t-d1"
name = "First Dealer"
role = "dealer"
dealer = "D-R1-0001"
"#;

    /// Loads a two-region brand's data set after replacing `from` with `to`
    /// in `file` (if any).
    fn load_with(edit: Option<(&str, &str, &str)>) -> Result<Dataset, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("regions")).unwrap();
        std::fs::write(root.join("hq.toml"), HQ).unwrap();
        std::fs::write(root.join("catalogue.toml"), CATALOGUE).unwrap();
        for (id, neighbour) in [("r1", "r2"), ("r2", "r1")] {
            let region = format!(
                "[region]\nid = \"{id}\"\nname = \"{id}\"\nneighbours = [\"{neighbour}\"]\n"
            );
            std::fs::write(root.join(format!("regions/{id}.toml")), region).unwrap();
        }
        let brand = BrandConfig::load(root).unwrap();
        let data = root.join("dataset");
        std::fs::create_dir_all(&data).unwrap();
        for (name, text) in [
            (WAREHOUSES, WAREHOUSES_TOML),
            (DEALERS, DEALERS_TOML),
            (STOCK, STOCK_TOML),
            (TOKENS, TOKENS_TOML),
        ] {
            let text = match edit {
                Some((file, from, to)) if file == name => {
                    assert!(text.contains(from), "{from:?} is not in {name}");
                    text.replacen(from, to, 1)
                }
                _ => text.to_string(),
            };
            std::fs::write(data.join(name), text).unwrap();
        }
        Dataset::load(&data, &brand)
    }

    fn load_error(file: &str, from: &str, to: &str) -> String {
        load_with(Some((file, from, to)))
            .expect_err("the data set must not load")
            .to_string()
    }

    #[test]
    fn a_good_data_set_loads() {
        let data = load_with(None).unwrap();
        assert_eq!(data.warehouses.len(), 3);
        assert_eq!(data.warehouses[2].owner.as_deref(), Some("D-R1-0001"));
        assert_eq!(data.stock[0].daily_demand, 12);
        assert_eq!(data.tokens[1].role, Role::RegionAdmin);
        let dealer = data.dealers[1].to_dealer();
        assert_eq!(dealer.class, CustomerClass::KeyAccount);
        assert_eq!(dealer.territory, ["r2"]);
        assert!(!format!("{:?}", data.tokens[0]).contains("t-hq"));
    }

    #[test]
    fn an_unknown_sku_names_file_and_record() {
        let error = load_error(STOCK, "sku = \"A-1\"", "sku = \"B-9\"");
        assert!(
            error.contains("dataset/stock.toml: stock[0].sku: stock WH-R1-1/B-9: unknown SKU B-9"),
            "{error}"
        );
    }

    #[test]
    fn a_duplicate_dealer_id_is_refused() {
        let error = load_error(DEALERS, "id = \"D-R2-0001\"", "id = \"D-R1-0001\"");
        assert!(
            error.contains("dataset/dealers.toml: dealer[1].id: dealer D-R1-0001 appears twice"),
            "{error}"
        );
    }

    #[test]
    fn a_region_admin_needs_a_region() {
        let error = load_error(TOKENS, "region = \"r1\"\n", "");
        assert!(
            error.contains(
                "dataset/tokens.toml: token[1].region: token \"R1 admin\": region_admin needs a region"
            ),
            "{error}"
        );
    }
}
