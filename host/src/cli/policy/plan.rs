//! The plan: what applying a folder would change on a server, slot by
//! slot. Planning is a pure function of the desired state, the server's
//! effective state and its registry, so it is tested without a server.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use super::desired::{DesiredPolicy, DesiredSlot, PluginRef, SlotName};
use super::remote::{Change, Manifest, PluginInfo, ServerPolicy, ServerSlot, bare_hash};

/// Every region with something to change, in region id order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub regions: Vec<RegionPlan>,
    /// Managed slots that already match.
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionPlan {
    pub region: String,
    /// The changed slots, in the server's slot order.
    pub slots: Vec<SlotPlan>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlotPlan {
    pub slot: SlotName,
    pub change: SlotChange,
    /// A canary or shadow deployment running on the slot now.
    pub trial: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SlotChange {
    /// Another component, another configuration, or both.
    Update {
        from: PluginInfo,
        to: Target,
        config: Vec<ConfigEdit>,
    },
    /// A promotion slot the server does not have.
    AddPromotion { to: Target, config: Vec<ConfigEdit> },
    /// A promotion slot the folder does not have.
    RemovePromotion { from: PluginInfo },
}

/// What a slot is to run: the component, how the deployment names it, and
/// its whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub plugin: PluginInfo,
    /// `builtin:<name>`, `<name>@<version>` or `sha256:<hex>`.
    pub reference: String,
    /// A local file the registry does not have yet: uploaded first.
    pub upload: Option<PathBuf>,
    pub config: Value,
}

/// One operation of the RFC 6902 patch from the server's configuration to
/// the folder's, with the value it replaces.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEdit {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the server has no region {}; known regions: {}",
        .unknown.iter().map(|(id, file)| format!("{id} ({})", file_name(file))).collect::<Vec<_>>().join(", "),
        .known.join(", ")
    )]
    UnknownRegions {
        unknown: Vec<(String, PathBuf)>,
        known: Vec<String>,
    },
    #[error("{origin}: {slot} in region {region}: {message}")]
    Plugin {
        origin: String,
        region: String,
        slot: String,
        message: String,
    },
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    pub fn change_count(&self) -> usize {
        self.regions.iter().map(|r| r.slots.len()).sum()
    }

    /// The rollout's changes, in plan order.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes = Vec::new();
        for region in &self.regions {
            for slot in &region.slots {
                let (plugin, config) = match &slot.change {
                    SlotChange::Update { to, .. } | SlotChange::AddPromotion { to, .. } => {
                        (Some(to.reference.clone()), Some(to.config.clone()))
                    }
                    SlotChange::RemovePromotion { .. } => (None, None),
                };
                changes.push(Change {
                    region: region.region.clone(),
                    slot: slot.slot.to_string(),
                    plugin,
                    config,
                });
            }
        }
        changes
    }

    /// Local components to upload before deploying, each once.
    pub fn uploads(&self) -> Vec<PathBuf> {
        let mut uploads: Vec<PathBuf> = self
            .regions
            .iter()
            .flat_map(|r| &r.slots)
            .filter_map(|s| match &s.change {
                SlotChange::Update { to, .. } | SlotChange::AddPromotion { to, .. } => {
                    to.upload.clone()
                }
                SlotChange::RemovePromotion { .. } => None,
            })
            .collect();
        uploads.sort();
        uploads.dedup();
        uploads
    }
}

/// Compares what the folder wants with what the server runs.
///
/// `local` names the components of local files the registry does not have
/// (read from the files themselves); they are uploaded on apply.
pub fn plan(
    desired: &DesiredPolicy,
    current: &ServerPolicy,
    registry: &[Manifest],
    local: &BTreeMap<String, PluginInfo>,
) -> Result<Plan, PlanError> {
    let unknown: Vec<(String, PathBuf)> = desired
        .regions
        .iter()
        .filter(|(id, _)| !current.regions.iter().any(|r| &r.region == *id))
        .map(|(id, region)| (id.clone(), region.file.clone()))
        .collect();
    if !unknown.is_empty() {
        let mut known: Vec<String> = current.regions.iter().map(|r| r.region.clone()).collect();
        known.sort();
        return Err(PlanError::UnknownRegions { unknown, known });
    }

    let mut plan = Plan::default();
    for (id, want) in &desired.regions {
        let server = current
            .regions
            .iter()
            .find(|r| &r.region == id)
            .expect("unknown regions were refused above");
        let running: BTreeMap<SlotName, &ServerSlot> = server
            .slots
            .iter()
            .filter_map(|s| SlotName::parse(&s.slot).map(|name| (name, s)))
            .collect();

        let mut slots = Vec::new();
        for (name, slot) in &want.slots {
            let to = resolve(slot, registry, local).map_err(|message| PlanError::Plugin {
                origin: slot.origin.clone(),
                region: id.clone(),
                slot: name.to_string(),
                message,
            })?;
            if to.plugin.kind != name.kind().interface() {
                return Err(PlanError::Plugin {
                    origin: slot.origin.clone(),
                    region: id.clone(),
                    slot: name.to_string(),
                    message: format!(
                        "{} is a {} plugin, but this slot takes a {} plugin",
                        to.plugin.label(),
                        to.plugin.kind,
                        name.kind()
                    ),
                });
            }
            let change = match running.get(name) {
                Some(now) => {
                    let edits = config_edits(&now.config, &slot.config);
                    if now.plugin.same_component(&to.plugin) && edits.is_empty() {
                        plan.unchanged += 1;
                        continue;
                    }
                    SlotChange::Update {
                        from: now.plugin.clone(),
                        to,
                        config: edits,
                    }
                }
                None => SlotChange::AddPromotion {
                    to,
                    config: config_edits(&Value::Object(Default::default()), &slot.config),
                },
            };
            slots.push(SlotPlan {
                trial: running.get(name).and_then(|now| trial(now)),
                slot: name.clone(),
                change,
            });
        }
        if want.manages_promotions {
            for (name, now) in &running {
                if matches!(name, SlotName::Promotion(_)) && !want.slots.contains_key(name) {
                    slots.push(SlotPlan {
                        slot: name.clone(),
                        change: SlotChange::RemovePromotion {
                            from: now.plugin.clone(),
                        },
                        trial: trial(now),
                    });
                }
            }
        }
        slots.sort_by(|a, b| a.slot.cmp(&b.slot));
        if !slots.is_empty() {
            plan.regions.push(RegionPlan {
                region: id.clone(),
                slots,
            });
        }
    }
    Ok(plan)
}

/// Which registry component a slot's reference names.
fn resolve(
    slot: &DesiredSlot,
    registry: &[Manifest],
    local: &BTreeMap<String, PluginInfo>,
) -> Result<Target, String> {
    let registered = |found: Option<&Manifest>, reference: String, missing: String| {
        found
            .map(|m| Target {
                plugin: m.info(),
                reference,
                upload: None,
                config: slot.config.clone(),
            })
            .ok_or(missing)
    };
    match &slot.plugin {
        PluginRef::Builtin(name) => {
            // The registry lists newest first: the first is what the server bundles now.
            let found = registry.iter().find(|m| m.is_builtin() && &m.name == name);
            let builtin: Vec<&str> = registry
                .iter()
                .filter(|m| m.is_builtin())
                .map(|m| m.name.as_str())
                .collect();
            registered(
                found,
                format!("builtin:{name}"),
                format!(
                    "the server has no built-in plugin {name} (built-in: {})",
                    builtin.join(", ")
                ),
            )
        }
        PluginRef::Published { name, version } => registered(
            registry
                .iter()
                .find(|m| &m.name == name && &m.version == version),
            format!("{name}@{version}"),
            format!("the server's registry has no {name}@{version}"),
        ),
        PluginRef::Hash(hash) => registered(
            registry.iter().find(|m| bare_hash(&m.hash) == *hash),
            format!("sha256:{hash}"),
            format!("the server's registry has no component sha256:{hash}"),
        ),
        PluginRef::File(component) => {
            let reference = format!("sha256:{}", component.sha256);
            if let Some(m) = registry
                .iter()
                .find(|m| bare_hash(&m.hash) == component.sha256)
            {
                return Ok(Target {
                    plugin: m.info(),
                    reference,
                    upload: None,
                    config: slot.config.clone(),
                });
            }
            let plugin = local.get(&component.sha256).cloned().ok_or_else(|| {
                format!(
                    "{} is not in the server's registry and could not be read here",
                    component.path.display()
                )
            })?;
            Ok(Target {
                plugin,
                reference,
                upload: Some(component.path.clone()),
                config: slot.config.clone(),
            })
        }
    }
}

/// The RFC 6902 operations from `old` to `new`, each with the value it
/// replaces (read from the document as the earlier operations left it).
pub fn config_edits(old: &Value, new: &Value) -> Vec<ConfigEdit> {
    let patch = json_patch::diff(old, new);
    let mut doc = old.clone();
    let mut edits = Vec::new();
    for op in patch.0 {
        use json_patch::PatchOperation as Op;
        let (path, new_value) = match &op {
            Op::Add(add) => (add.path.to_string(), Some(add.value.clone())),
            Op::Replace(replace) => (replace.path.to_string(), Some(replace.value.clone())),
            Op::Remove(remove) => (remove.path.to_string(), None),
            // `diff` only makes add, remove and replace.
            other => (format!("{other:?}"), None),
        };
        let old_value = match op {
            json_patch::PatchOperation::Add(_) => None,
            _ => doc.pointer(&path).cloned(),
        };
        let _ = json_patch::patch(&mut doc, &[op]);
        edits.push(ConfigEdit {
            path,
            old: old_value,
            new: new_value,
        });
    }
    edits
}

fn trial(slot: &ServerSlot) -> Option<String> {
    let id = |v: &Option<Value>| {
        v.as_ref().map(|t| {
            t.get("deployment_id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        })
    };
    match (id(&slot.canary), id(&slot.shadow)) {
        (Some(c), _) => Some(format!("canary {c}")),
        (None, Some(s)) => Some(format!("shadow {s}")),
        (None, None) => None,
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for region in &self.regions {
            writeln!(f, "region {}", region.region)?;
            for slot in &region.slots {
                write!(f, "{slot}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SlotPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let upload = |to: &Target| match &to.upload {
            Some(path) => format!(" (uploads {})", path.display()),
            None => String::new(),
        };
        let edits = match &self.change {
            SlotChange::Update { from, to, config } => {
                if from.same_component(&to.plugin) {
                    writeln!(f, "  ~ {}  {}: configuration", self.slot, from.label())?;
                } else {
                    let (a, b) = if from.label() == to.plugin.label() {
                        (
                            format!("{} ({})", from.label(), short(&from.hash)),
                            format!("{} ({})", to.plugin.label(), short(&to.plugin.hash)),
                        )
                    } else {
                        (from.label(), to.plugin.label())
                    };
                    writeln!(f, "  ~ {}  {a} → {b}{}", self.slot, upload(to))?;
                }
                config.as_slice()
            }
            SlotChange::AddPromotion { to, config } => {
                writeln!(
                    f,
                    "  + {}  {} (new promotion){}",
                    self.slot,
                    to.plugin.label(),
                    upload(to)
                )?;
                config.as_slice()
            }
            SlotChange::RemovePromotion { from } => {
                writeln!(f, "  - {}  {} (removed)", self.slot, from.label())?;
                &[]
            }
        };
        for edit in edits {
            writeln!(f, "      {edit}")?;
        }
        if let Some(trial) = &self.trial {
            writeln!(f, "      note: {trial} runs on this slot now")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| match v {
            Some(v) => serde_json::to_string(v).unwrap_or_default(),
            None => "(none)".to_string(),
        };
        let path = if self.path.is_empty() {
            "(whole configuration)"
        } else {
            &self.path
        };
        write!(f, "{path}: {} → {}", show(&self.old), show(&self.new))
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

fn short(hash: &str) -> &str {
    let hash = hash.strip_prefix("sha256:").unwrap_or(hash);
    &hash[..hash.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::super::desired::{DesiredRegion, LocalComponent};
    use super::super::remote::ServerRegion;
    use super::*;
    use serde_json::json;

    fn info(name: &str, version: &str, kind: &str, hash: &str) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            kind: kind.into(),
            hash: hash.into(),
        }
    }

    fn manifest(plugin: &PluginInfo, publisher: &str) -> Manifest {
        Manifest {
            hash: plugin.hash.clone(),
            name: plugin.name.clone(),
            kind: plugin.kind.clone(),
            version: plugin.version.clone(),
            publisher: Some(publisher.into()),
        }
    }

    fn pricing() -> PluginInfo {
        info("pricing-tiered", "0.1.0", "pricing", "aa11")
    }
    fn promotions() -> PluginInfo {
        info("promotions", "0.1.0", "promotion", "bb22")
    }
    fn sourcing() -> PluginInfo {
        info("sourcing-region-first", "0.1.0", "sourcing", "cc33")
    }
    fn anti_diversion() -> PluginInfo {
        info("anti-diversion", "0.1.0", "anti-diversion", "dd44")
    }

    /// The built-ins, plus an uploaded pricing-custom@2.0.0.
    fn registry() -> Vec<Manifest> {
        vec![
            manifest(&info("pricing-custom", "2.0.0", "pricing", "ee55"), "acme"),
            manifest(&pricing(), "builtin"),
            manifest(&promotions(), "builtin"),
            manifest(&sourcing(), "builtin"),
            manifest(&anti_diversion(), "builtin"),
        ]
    }

    fn running(slot: &str, plugin: PluginInfo, config: Value) -> ServerSlot {
        ServerSlot {
            slot: slot.into(),
            plugin,
            config,
            canary: None,
            shadow: None,
        }
    }

    /// Two regions, each with the four slots; gd also runs promotions/spend.
    fn server() -> ServerPolicy {
        let region = |id: &str, extra: Vec<ServerSlot>| {
            let mut slots = vec![
                running("anti_diversion", anti_diversion(), json!({"factor": 10})),
                running("pricing", pricing(), json!({"tier": {"core": 300}})),
            ];
            slots.extend(extra);
            slots.push(running("sourcing", sourcing(), json!({})));
            ServerRegion {
                region: id.into(),
                slots,
            }
        };
        ServerPolicy {
            regions: vec![
                region("bj", vec![]),
                region(
                    "gd",
                    vec![running(
                        "promotions/spend",
                        promotions(),
                        json!({"threshold": 500000, "off": 30000}),
                    )],
                ),
            ],
        }
    }

    fn want(plugin: PluginRef, config: Value) -> DesiredSlot {
        DesiredSlot {
            plugin,
            config,
            origin: "gd.toml:3".into(),
        }
    }

    fn builtin(name: &str) -> PluginRef {
        PluginRef::Builtin(name.into())
    }

    /// Region id, its managed slots, whether it manages promotions.
    type RegionSpec<'a> = (&'a str, Vec<(SlotName, DesiredSlot)>, bool);

    fn folder(regions: Vec<RegionSpec>) -> DesiredPolicy {
        DesiredPolicy {
            regions: regions
                .into_iter()
                .map(|(id, slots, manages_promotions)| {
                    (
                        id.to_string(),
                        DesiredRegion {
                            file: PathBuf::from(format!("{id}.toml")),
                            slots: slots.into_iter().collect(),
                            manages_promotions,
                        },
                    )
                })
                .collect(),
        }
    }

    fn promo(id: &str) -> SlotName {
        SlotName::Promotion(id.into())
    }

    fn plan_of(desired: &DesiredPolicy) -> Plan {
        plan(desired, &server(), &registry(), &BTreeMap::new()).unwrap()
    }

    #[test]
    fn a_folder_that_matches_the_server_plans_nothing() {
        let desired = folder(vec![(
            "gd",
            vec![
                (
                    SlotName::Pricing,
                    want(builtin("pricing-tiered"), json!({"tier": {"core": 300}})),
                ),
                (
                    promo("spend"),
                    want(
                        builtin("promotions"),
                        json!({"off": 30000, "threshold": 500000}),
                    ),
                ),
            ],
            true,
        )]);
        let plan = plan_of(&desired);
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged, 2);
        assert!(plan.changes().is_empty());
    }

    #[test]
    fn a_config_change_lists_each_edit_with_old_and_new_values() {
        let desired = folder(vec![(
            "bj",
            vec![(
                SlotName::Pricing,
                want(
                    builtin("pricing-tiered"),
                    json!({"tier": {"core": 400, "strategic": 600}}),
                ),
            )],
            false,
        )]);
        let plan = plan_of(&desired);
        assert_eq!(plan.change_count(), 1);
        let slot = &plan.regions[0].slots[0];
        let SlotChange::Update { from, to, config } = &slot.change else {
            panic!("{slot:?}")
        };
        assert!(from.same_component(&to.plugin));
        assert_eq!(
            config,
            &vec![
                ConfigEdit {
                    path: "/tier/core".into(),
                    old: Some(json!(300)),
                    new: Some(json!(400)),
                },
                ConfigEdit {
                    path: "/tier/strategic".into(),
                    old: None,
                    new: Some(json!(600)),
                },
            ]
        );
        assert_eq!(
            plan.changes(),
            vec![Change {
                region: "bj".into(),
                slot: "pricing".into(),
                plugin: Some("builtin:pricing-tiered".into()),
                config: Some(json!({"tier": {"core": 400, "strategic": 600}})),
            }]
        );
        assert_eq!(
            plan.to_string(),
            "region bj\n  ~ pricing  pricing-tiered@0.1.0: configuration\n      \
             /tier/core: 300 → 400\n      /tier/strategic: (none) → 600\n"
        );
    }

    #[test]
    fn a_plugin_change_names_both_versions() {
        let desired = folder(vec![(
            "gd",
            vec![(
                SlotName::Pricing,
                want(
                    PluginRef::Published {
                        name: "pricing-custom".into(),
                        version: "2.0.0".into(),
                    },
                    json!({"tier": {"core": 300}}),
                ),
            )],
            false,
        )]);
        let plan = plan_of(&desired);
        let slot = &plan.regions[0].slots[0];
        let SlotChange::Update { from, to, config } = &slot.change else {
            panic!("{slot:?}")
        };
        assert_eq!(from.label(), "pricing-tiered@0.1.0");
        assert_eq!(to.plugin.label(), "pricing-custom@2.0.0");
        assert_eq!(to.reference, "pricing-custom@2.0.0");
        assert!(config.is_empty());
        assert_eq!(
            plan.to_string(),
            "region gd\n  ~ pricing  pricing-tiered@0.1.0 → pricing-custom@2.0.0\n"
        );
    }

    #[test]
    fn promotions_are_an_exact_set_when_managed() {
        let desired = folder(vec![(
            "gd",
            vec![(
                promo("weekend"),
                want(builtin("promotions"), json!({"threshold": 100})),
            )],
            true,
        )]);
        let plan = plan_of(&desired);
        let slots = &plan.regions[0].slots;
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0].slot, promo("spend"));
        assert!(matches!(
            slots[0].change,
            SlotChange::RemovePromotion { .. }
        ));
        assert_eq!(slots[1].slot, promo("weekend"));
        let SlotChange::AddPromotion { to, config } = &slots[1].change else {
            panic!("{:?}", slots[1])
        };
        assert_eq!(to.plugin.label(), "promotions@0.1.0");
        assert_eq!(config[0].path, "/threshold");
        assert_eq!(
            plan.changes(),
            vec![
                Change {
                    region: "gd".into(),
                    slot: "promotions/spend".into(),
                    plugin: None,
                    config: None,
                },
                Change {
                    region: "gd".into(),
                    slot: "promotions/weekend".into(),
                    plugin: Some("builtin:promotions".into()),
                    config: Some(json!({"threshold": 100})),
                },
            ]
        );
        let text = plan.to_string();
        assert!(
            text.contains("  - promotions/spend  promotions@0.1.0 (removed)\n"),
            "{text}"
        );
        assert!(
            text.contains("  + promotions/weekend  promotions@0.1.0 (new promotion)\n      /threshold: (none) → 100\n"),
            "{text}"
        );
    }

    #[test]
    fn slots_a_folder_leaves_out_are_not_managed() {
        // gd's file sets nothing: its pricing, sourcing, anti-diversion and
        // promotion stay as the server has them.
        let desired = folder(vec![("gd", vec![], false), ("bj", vec![], false)]);
        let plan = plan_of(&desired);
        assert!(plan.is_empty());
        assert_eq!(plan.unchanged, 0);
    }

    #[test]
    fn a_region_the_server_does_not_know_is_an_error() {
        let desired = folder(vec![("gd", vec![], false), ("xx", vec![], false)]);
        let err = plan(&desired, &server(), &registry(), &BTreeMap::new()).unwrap_err();
        assert_eq!(
            err,
            PlanError::UnknownRegions {
                unknown: vec![("xx".into(), PathBuf::from("xx.toml"))],
                known: vec!["bj".into(), "gd".into()],
            }
        );
        assert!(err.to_string().contains("no region xx (xx.toml)"));
    }

    #[test]
    fn unknown_plugins_and_wrong_kinds_are_errors() {
        let unknown = folder(vec![(
            "gd",
            vec![(SlotName::Pricing, want(builtin("nope"), json!({})))],
            false,
        )]);
        let err = plan(&unknown, &server(), &registry(), &BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string().contains(
                "gd.toml:3: pricing in region gd: the server has no built-in plugin nope"
            ),
            "{err}"
        );
        let wrong_kind = folder(vec![(
            "gd",
            vec![(SlotName::Pricing, want(builtin("promotions"), json!({})))],
            false,
        )]);
        let err = plan(&wrong_kind, &server(), &registry(), &BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("is a promotion plugin, but this slot takes a pricing plugin"),
            "{err}"
        );
    }

    #[test]
    fn a_local_file_is_uploaded_only_when_the_registry_lacks_it() {
        let file = |hash: &str| {
            PluginRef::File(LocalComponent {
                path: PathBuf::from(format!("plugins/{hash}.wasm")),
                sha256: hash.into(),
            })
        };
        // Known to the registry by hash: referenced, not uploaded.
        let known = folder(vec![(
            "gd",
            vec![(SlotName::Pricing, want(file("ee55"), json!({})))],
            false,
        )]);
        let plan_known = plan_of(&known);
        assert!(plan_known.uploads().is_empty());
        assert_eq!(
            plan_known.changes()[0].plugin.as_deref(),
            Some("sha256:ee55")
        );

        // New: named from the file itself, uploaded first.
        let new = folder(vec![
            (
                "gd",
                vec![(SlotName::Pricing, want(file("ff66"), json!({})))],
                false,
            ),
            (
                "bj",
                vec![(SlotName::Pricing, want(file("ff66"), json!({})))],
                false,
            ),
        ]);
        let local = BTreeMap::from([(
            "ff66".to_string(),
            info("pricing-new", "0.3.0", "pricing", "ff66"),
        )]);
        let plan_new = plan(&new, &server(), &registry(), &local).unwrap();
        assert_eq!(plan_new.uploads(), vec![PathBuf::from("plugins/ff66.wasm")]);
        assert!(
            plan_new
                .to_string()
                .contains("pricing-tiered@0.1.0 → pricing-new@0.3.0 (uploads plugins/ff66.wasm)")
        );
        assert!(plan(&new, &server(), &registry(), &BTreeMap::new()).is_err());
    }

    #[test]
    fn regions_and_slots_come_in_a_stable_order() {
        let slot = |config: Value| want(builtin("pricing-tiered"), config);
        let desired = folder(vec![
            (
                "gd",
                vec![
                    (
                        SlotName::Sourcing,
                        want(builtin("sourcing-region-first"), json!({"x": 1})),
                    ),
                    (promo("b"), want(builtin("promotions"), json!({}))),
                    (promo("a"), want(builtin("promotions"), json!({}))),
                    (SlotName::Pricing, slot(json!({}))),
                    (
                        SlotName::AntiDiversion,
                        want(builtin("anti-diversion"), json!({})),
                    ),
                ],
                false,
            ),
            ("bj", vec![(SlotName::Pricing, slot(json!({})))], false),
        ]);
        let plan = plan_of(&desired);
        assert_eq!(
            plan.changes()
                .iter()
                .map(|c| format!("{} {}", c.region, c.slot))
                .collect::<Vec<_>>(),
            [
                "bj pricing",
                "gd anti_diversion",
                "gd pricing",
                "gd promotions/a",
                "gd promotions/b",
                "gd sourcing"
            ]
        );
    }

    #[test]
    fn a_running_canary_is_noted() {
        let mut current = server();
        current.regions[1].slots[1].canary =
            Some(json!({"deployment_id": "dep-1", "audience": {"share_bp": 1000}}));
        let desired = folder(vec![(
            "gd",
            vec![(
                SlotName::Pricing,
                want(builtin("pricing-tiered"), json!({})),
            )],
            false,
        )]);
        let plan = plan(&desired, &current, &registry(), &BTreeMap::new()).unwrap();
        assert!(
            plan.to_string()
                .contains("note: canary dep-1 runs on this slot now"),
            "{plan}"
        );
    }

    #[test]
    fn array_edits_show_the_value_each_operation_replaces() {
        let edits = config_edits(&json!({"a": [1, 2, 3]}), &json!({"a": [1]}));
        let shown: Vec<String> = edits.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown, ["/a/1: 2 → (none)", "/a/1: 3 → (none)"]);
        let edits = config_edits(
            &json!({"p": [{"kind": {"threshold": 500000}}]}),
            &json!({"p": [{"kind": {"threshold": 400000}}, {"id": "new"}]}),
        );
        let shown: Vec<String> = edits.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "/p/0/kind/threshold: 500000 → 400000",
                r#"/p/1: (none) → {"id":"new"}"#
            ]
        );
    }

    #[test]
    fn hashes_compare_with_or_without_prefix() {
        let mut current = server();
        current.regions[0].slots[1].plugin.hash = "sha256:AA11".into();
        let desired = folder(vec![(
            "bj",
            vec![(
                SlotName::Pricing,
                want(builtin("pricing-tiered"), json!({"tier": {"core": 300}})),
            )],
            false,
        )]);
        let plan = plan(&desired, &current, &registry(), &BTreeMap::new()).unwrap();
        assert!(plan.is_empty(), "{plan}");
    }
}
