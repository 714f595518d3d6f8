//! The desired state: what a folder of region TOML files says each region's
//! plugin slots should run. Only `[plugins]` is read for deployment; the
//! `[region]` table names the region and is otherwise not deployed.
//!
//! Which slots a folder manages: with an `hq.toml` beside the region files,
//! every slot, HQ's `[defaults]` filling what a region file leaves out (the
//! same reading as `chanhost serve --config`); without one, only the slots a
//! file sets. A `promotions` array is the exact set of promotion slots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::config::error::line_column;
use crate::config::{HqFile, PluginSet, PluginSlot, RegionFile, read_toml};
use crate::policy::PluginKind;

/// A plugin slot of a region: `anti_diversion`, `pricing`,
/// `promotions/<id>` or `sourcing`. Ordered as the server lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SlotName {
    AntiDiversion,
    Pricing,
    Promotion(String),
    Sourcing,
}

impl SlotName {
    pub fn parse(name: &str) -> Option<SlotName> {
        match name {
            "anti_diversion" => Some(SlotName::AntiDiversion),
            "pricing" => Some(SlotName::Pricing),
            "sourcing" => Some(SlotName::Sourcing),
            other => other
                .strip_prefix("promotions/")
                .filter(|id| !id.is_empty())
                .map(|id| SlotName::Promotion(id.to_string())),
        }
    }

    /// The kind of plugin this slot takes.
    pub fn kind(&self) -> PluginKind {
        match self {
            SlotName::AntiDiversion => PluginKind::AntiDiversion,
            SlotName::Pricing => PluginKind::Pricing,
            SlotName::Promotion(_) => PluginKind::Promotion,
            SlotName::Sourcing => PluginKind::Sourcing,
        }
    }
}

impl std::fmt::Display for SlotName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlotName::AntiDiversion => f.write_str("anti_diversion"),
            SlotName::Pricing => f.write_str("pricing"),
            SlotName::Promotion(id) => write!(f, "promotions/{id}"),
            SlotName::Sourcing => f.write_str("sourcing"),
        }
    }
}

/// Every region the folder defines.
#[derive(Debug, Clone, Default)]
pub struct DesiredPolicy {
    pub regions: BTreeMap<String, DesiredRegion>,
}

#[derive(Debug, Clone)]
pub struct DesiredRegion {
    /// The region's file.
    pub file: PathBuf,
    /// The managed slots; a slot not here is left as the server has it.
    pub slots: BTreeMap<SlotName, DesiredSlot>,
    /// Whether the promotion slots here are the region's exact set (so
    /// promotions the server has beyond them are removed).
    pub manages_promotions: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredSlot {
    pub plugin: PluginRef,
    /// The configuration as JSON (`{}` when the file gives none).
    pub config: Value,
    /// Where the slot is declared, `file:line` (a region file or hq.toml).
    pub origin: String,
}

/// A plugin reference as written in a file.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginRef {
    /// `builtin:<name>`: bundled with the server.
    Builtin(String),
    /// `<name>@<version>`: already in the server's registry.
    Published { name: String, version: String },
    /// `sha256:<hex>`: already in the server's registry.
    Hash(String),
    /// A `.wasm` component on this machine, uploaded when the registry
    /// does not have it yet.
    File(LocalComponent),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalComponent {
    pub path: PathBuf,
    /// sha256 of the file, hex.
    pub sha256: String,
}

impl PluginRef {
    /// Reads a reference; a path is taken relative to `base` and hashed.
    fn read(reference: &str, base: &Path) -> anyhow::Result<PluginRef> {
        if let Some(name) = reference.strip_prefix("builtin:") {
            return Ok(PluginRef::Builtin(name.to_string()));
        }
        if let Some(hash) = reference.strip_prefix("sha256:") {
            return Ok(PluginRef::Hash(hash.to_ascii_lowercase()));
        }
        if !reference.ends_with(".wasm")
            && let Some((name, version)) = reference.split_once('@')
            && !name.is_empty()
            && !version.is_empty()
            && !name.contains('/')
        {
            return Ok(PluginRef::Published {
                name: name.to_string(),
                version: version.to_string(),
            });
        }
        let path = base.join(reference);
        let wasm = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(PluginRef::File(LocalComponent {
            sha256: crate::policy::plugin::content_hash(&wasm),
            path,
        }))
    }
}

/// Reads `<dir>/regions/*.toml` if `<dir>/regions` exists, else
/// `<dir>/*.toml` (except `hq.toml`), and `<dir>/hq.toml`'s defaults if
/// present. Plugin paths are relative to `<dir>`, as for `chanhost serve`.
pub fn read_folder(dir: &Path) -> anyhow::Result<DesiredPolicy> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let hq_path = dir.join("hq.toml");
    let defaults = if hq_path.is_file() {
        let hq: HqFile = read_toml(&hq_path)?;
        Some((hq_path, hq.defaults))
    } else {
        None
    };
    let regions_dir = dir.join("regions");
    let files_dir = if regions_dir.is_dir() {
        regions_dir
    } else {
        dir.to_path_buf()
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&files_dir)
        .with_context(|| format!("reading {}", files_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .filter(|path| path.file_name().is_none_or(|name| name != "hq.toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no region files (*.toml) in {}", files_dir.display());
    }

    let mut policy = DesiredPolicy::default();
    for file in files {
        let region: RegionFile = read_toml(&file)?;
        let id = region.region.id.clone();
        if let Some(previous) = policy.regions.get(&id) {
            bail!(
                "{}: region {id} is also defined in {}",
                file.display(),
                previous.file.display()
            );
        }
        let desired = desired_region(dir, &file, &region.plugins, defaults.as_ref())?;
        policy.regions.insert(id, desired);
    }
    Ok(policy)
}

/// One of a plugin set's single slots.
type SlotOf = fn(&PluginSet) -> &Option<PluginSlot>;

/// One region's managed slots: its own, else HQ's default, else unmanaged.
fn desired_region(
    dir: &Path,
    file: &Path,
    own: &PluginSet,
    defaults: Option<&(PathBuf, PluginSet)>,
) -> anyhow::Result<DesiredRegion> {
    let singles: [(SlotName, SlotOf); 3] = [
        (SlotName::AntiDiversion, |s| &s.anti_diversion),
        (SlotName::Pricing, |s| &s.pricing),
        (SlotName::Sourcing, |s| &s.sourcing),
    ];
    let mut slots = BTreeMap::new();
    for (name, slot_of) in singles {
        let declared = slot_of(own).as_ref().map(|slot| (file, slot)).or_else(|| {
            defaults
                .and_then(|(path, set)| slot_of(set).as_ref().map(|slot| (path.as_path(), slot)))
        });
        if let Some((path, slot)) = declared {
            let table = format!("plugins.{name}");
            slots.insert(name, desired_slot(dir, path, &table, slot)?);
        }
    }

    // With hq.toml the folder is a whole brand: no promotions anywhere means
    // none, as `chanhost serve` reads it.
    let promotions = match (&own.promotions, defaults) {
        (Some(list), _) => Some((file, list.as_slice())),
        (None, Some((path, set))) => Some((
            path.as_path(),
            set.promotions.as_deref().unwrap_or_default(),
        )),
        (None, None) => None,
    };
    let manages_promotions = promotions.is_some();
    if let Some((path, list)) = promotions {
        for (i, slot) in list.iter().enumerate() {
            let table = format!("plugins.promotions[{i}]");
            let Some(id) = slot.id.as_ref().filter(|id| !id.is_empty()) else {
                bail!(
                    "{}: [{table}] has no `id`: `policy apply` names promotion slots by id \
                     (promotions/<id>), so give each promotion one, e.g. id = \"spring-sale\"",
                    origin(path, slot)
                );
            };
            let name = SlotName::Promotion(id.clone());
            if slots.contains_key(&name) {
                bail!("{}: [{table}] {name} appears twice", origin(path, slot));
            }
            slots.insert(name, desired_slot(dir, path, &table, slot)?);
        }
    }
    Ok(DesiredRegion {
        file: file.to_path_buf(),
        slots,
        manages_promotions,
    })
}

fn desired_slot(
    dir: &Path,
    path: &Path,
    table: &str,
    slot: &PluginSlot,
) -> anyhow::Result<DesiredSlot> {
    let origin = origin(path, slot);
    let plugin = PluginRef::read(slot.plugin.get_ref(), dir)
        .with_context(|| format!("{origin}: [{table}] plugin {}", slot.plugin.get_ref()))?;
    let config = match &slot.config {
        Some(config) => serde_json::to_value(config.get_ref())
            .with_context(|| format!("{origin}: [{table}] config is not JSON"))?,
        None => Value::Object(Default::default()),
    };
    Ok(DesiredSlot {
        plugin,
        config,
        origin,
    })
}

/// `file:line` of a slot's `plugin = …`.
fn origin(path: &Path, slot: &PluginSlot) -> String {
    let line = std::fs::read_to_string(path)
        .map(|text| line_column(&text, slot.plugin.span().start).0)
        .unwrap_or(0);
    format!("{}:{line}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const GD: &str = r#"
[region]
id = "gd"
name = "Guangdong"

[plugins.pricing]
plugin = "builtin:pricing-tiered"
config = { tier_discount_bp = { core = 300 } }

[[plugins.promotions]]
id = "spend"
plugin = "builtin:promotions"
"#;

    #[test]
    fn without_hq_only_the_slots_a_file_sets_are_managed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "gd.toml", GD);
        write(
            dir.path(),
            "bj.toml",
            "[region]\nid = \"bj\"\nname = \"Beijing\"\n",
        );
        let policy = read_folder(dir.path()).unwrap();
        let gd = &policy.regions["gd"];
        assert_eq!(
            gd.slots.keys().cloned().collect::<Vec<_>>(),
            vec![SlotName::Pricing, SlotName::Promotion("spend".into())]
        );
        assert!(gd.manages_promotions);
        let pricing = &gd.slots[&SlotName::Pricing];
        assert_eq!(pricing.plugin, PluginRef::Builtin("pricing-tiered".into()));
        assert_eq!(pricing.config, json!({"tier_discount_bp": {"core": 300}}));
        assert!(pricing.origin.ends_with("gd.toml:7"), "{}", pricing.origin);
        assert_eq!(
            gd.slots[&SlotName::Promotion("spend".into())].config,
            json!({})
        );
        let bj = &policy.regions["bj"];
        assert!(bj.slots.is_empty());
        assert!(!bj.manages_promotions);
    }

    #[test]
    fn with_hq_its_defaults_fill_every_slot_a_file_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/brand");
        std::fs::copy(examples.join("hq.toml"), dir.path().join("hq.toml")).unwrap();
        write(dir.path(), "regions/gd.toml", GD);
        write(
            dir.path(),
            "regions/bj.toml",
            "[region]\nid = \"bj\"\nname = \"Beijing\"\n",
        );
        let policy = read_folder(dir.path()).unwrap();
        let bj = &policy.regions["bj"];
        assert_eq!(
            bj.slots.keys().cloned().collect::<Vec<_>>(),
            vec![
                SlotName::AntiDiversion,
                SlotName::Pricing,
                SlotName::Sourcing
            ]
        );
        // HQ sets no default promotions: the brand's reading is "none".
        assert!(bj.manages_promotions);
        assert!(bj.slots[&SlotName::Pricing].origin.contains("hq.toml:"));
        let gd = &policy.regions["gd"];
        assert_eq!(gd.slots.len(), 4);
        assert!(gd.slots[&SlotName::Pricing].origin.contains("gd.toml:"));
    }

    #[test]
    fn a_promotion_without_id_is_an_error_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "gd.toml",
            "[region]\nid = \"gd\"\nname = \"G\"\n\n[[plugins.promotions]]\nplugin = \"builtin:promotions\"\n",
        );
        let err = format!("{:#}", read_folder(dir.path()).unwrap_err());
        assert!(err.contains("gd.toml:6"), "{err}");
        assert!(err.contains("has no `id`"), "{err}");
    }

    #[test]
    fn a_syntax_error_carries_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "gd.toml",
            "[region]\nid = \"gd\"\nname = \"G\"\n[plugins.pricing]\nplugin = 3\n",
        );
        let err = format!("{:#}", read_folder(dir.path()).unwrap_err());
        assert!(err.contains("gd.toml:5"), "{err}");
    }

    #[test]
    fn references_builtin_published_hash_and_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "plugins/p.wasm", "not really wasm");
        let base = dir.path();
        assert_eq!(
            PluginRef::read("pricing-x@1.2.0", base).unwrap(),
            PluginRef::Published {
                name: "pricing-x".into(),
                version: "1.2.0".into()
            }
        );
        assert_eq!(
            PluginRef::read("sha256:ABCD", base).unwrap(),
            PluginRef::Hash("abcd".into())
        );
        match PluginRef::read("plugins/p.wasm", base).unwrap() {
            PluginRef::File(local) => {
                assert_eq!(local.path, base.join("plugins/p.wasm"));
                assert_eq!(
                    local.sha256,
                    crate::policy::plugin::content_hash(b"not really wasm")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(PluginRef::read("plugins/missing.wasm", base).is_err());
    }

    #[test]
    fn two_files_for_one_region_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a.toml",
            "[region]\nid = \"gd\"\nname = \"G\"\n",
        );
        write(
            dir.path(),
            "b.toml",
            "[region]\nid = \"gd\"\nname = \"G\"\n",
        );
        let err = format!("{:#}", read_folder(dir.path()).unwrap_err());
        assert!(err.contains("also defined in"), "{err}");
    }
}
