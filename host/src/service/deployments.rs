//! Changing policy while orders flow: publishing components to the
//! registry, deploying them into region slots (live, canary or shadow),
//! promoting, stopping and rolling back, the guard that rolls back a
//! faulty version by itself, and keeping every host's live set in step
//! with the database.
//!
//! Every change follows one path: validate everything first (the component
//! loads under the limits, is the slot's kind, accepts its configuration,
//! passes a smoke run), write it in one transaction with its audit entry,
//! then derive the live policy set from the brand directory plus the
//! active deployments and swap it in. Other hosts see the audit log move
//! and derive the same set.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tokio::sync::mpsc;

use crate::api::{ApiError, ApiResult, AppState, Caller, FieldProblem, Services};
use crate::config::{DeploymentSettings, TrustedKey};
use crate::policy::smoke::smoke_test;
use crate::policy::{
    Audience, Canary, DeploymentTag, OrderContext, Plugin, PluginIdentity, PluginKind, PolicySet,
    RegionPolicy, Slot, SlotError, slot_kind,
};
use crate::registry::signing;
use crate::store::deployments::{self as store, AuditEntry, Deployment, DeploymentState, Mode};
use crate::store::registry::{self, BUILTIN_PUBLISHER, Manifest};
use crate::store::{Store, alerts, dealers, new_id, now_ms};

/// One rollout as asked for: changes applied together or not at all.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    pub changes: Vec<ChangeRequest>,
    #[serde(default)]
    pub mode: Mode,
    /// Who a canary applies to (canary mode only).
    pub audience: Option<Audience>,
    #[serde(default)]
    pub note: String,
}

/// One slot of one region (or `*`, every region) to set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    pub region: String,
    pub slot: String,
    /// `builtin:<name>`, `<name>@<version>` or `sha256:<hex>`; `null`
    /// removes a promotion. Required, so a forgotten field removes nothing.
    #[serde(default, deserialize_with = "present")]
    #[schema(required = true, value_type = Option<String>)]
    pub plugin: Option<Option<String>>,
    /// The plugin's configuration, checked against its schema; `{}` when
    /// absent.
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A deployment as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeploymentView {
    pub id: String,
    pub rollout_id: String,
    pub region: String,
    pub slot: String,
    pub mode: Mode,
    pub state: DeploymentState,
    /// Null for a deployment that removed a promotion.
    pub plugin: Option<PluginRef>,
    /// The plugin's configuration.
    pub config: serde_json::Value,
    /// A canary's audience (`{"share_bp": …}` or `{"dealers": […]}`).
    pub audience: Option<serde_json::Value>,
    pub previous_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub note: String,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

/// Which component a deployment runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginRef {
    pub name: String,
    pub version: String,
    pub kind: String,
    pub hash: String,
    pub wit_version: String,
}

impl From<&Manifest> for PluginRef {
    fn from(m: &Manifest) -> Self {
        PluginRef {
            name: m.name.clone(),
            version: m.version.clone(),
            kind: m.kind.clone(),
            hash: m.hash.clone(),
            wit_version: m.wit_version.clone(),
        }
    }
}

impl From<&PluginIdentity> for PluginRef {
    fn from(p: &PluginIdentity) -> Self {
        PluginRef {
            name: p.name.clone(),
            version: p.version.clone(),
            kind: p.kind.to_string(),
            hash: p.hash.clone(),
            wit_version: p.wit_version.clone(),
        }
    }
}

/// What a rollout did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rollout {
    pub rollout_id: String,
    /// From the request's arrival to the new set being live on this host.
    pub activation_ms: f64,
    pub deployments: Vec<DeploymentView>,
}

/// The deployment machinery a host keeps: loaded components, configured
/// slots per deployment, and the channels of its background tasks.
pub struct Deployments {
    settings: DeploymentSettings,
    trusted_keys: Vec<TrustedKey>,
    slots: SlotFactory,
    shadow_jobs: mpsc::Sender<ShadowJob>,
    /// Serialises changes on this host and remembers the newest audit id
    /// whose effect is live here.
    applied: tokio::sync::Mutex<Option<String>>,
}

/// The receiving ends, handed to [`spawn_background`].
pub struct Background {
    guard_trips: mpsc::UnboundedReceiver<String>,
    shadow_jobs: mpsc::Receiver<ShadowJob>,
}

/// A live order to compare a shadow deployment on.
struct ShadowJob {
    set: Arc<PolicySet>,
    context: OrderContext,
    decision: crate::policy::Decision,
}

/// Shadow comparisons waiting at most; beyond, orders are not compared
/// (a shadow must never slow placement down).
const SHADOW_QUEUE: usize = 1024;

impl Deployments {
    pub fn new(
        settings: DeploymentSettings,
        trusted_keys: Vec<TrustedKey>,
        engine: crate::policy::PolicyEngine,
    ) -> (Deployments, Background) {
        let (guard_tx, guard_rx) = mpsc::unbounded_channel();
        let (shadow_tx, shadow_rx) = mpsc::channel(SHADOW_QUEUE);
        let slots = SlotFactory::new(engine, Some((settings.clone(), guard_tx)));
        (
            Deployments {
                settings,
                trusted_keys,
                slots,
                shadow_jobs: shadow_tx,
                applied: tokio::sync::Mutex::new(None),
            },
            Background {
                guard_trips: guard_rx,
                shadow_jobs: shadow_rx,
            },
        )
    }

    /// Queues the comparison of `decision` with every shadow of the
    /// order's region; never waits.
    pub fn shadow(
        &self,
        set: &Arc<PolicySet>,
        context: &OrderContext,
        decision: &crate::policy::Decision,
    ) {
        let has_shadows = set
            .regions
            .get(&context.order.region)
            .is_some_and(|r| !r.shadows.is_empty());
        if has_shadows {
            let job = ShadowJob {
                set: set.clone(),
                context: context.clone(),
                decision: decision.clone(),
            };
            if self.shadow_jobs.try_send(job).is_err() {
                tracing::debug!(order = %context.order.id, "shadow queue full; order not compared");
            }
        }
    }
}

impl std::fmt::Debug for Deployments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployments")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Loads components from the registry and configures them into slots,
/// keeping both: a deployment's slot (and its guard's counts) lives as
/// long as the deployment is active.
pub struct SlotFactory {
    engine: crate::policy::PolicyEngine,
    plugins: Mutex<HashMap<String, Arc<Plugin>>>,
    slots: Mutex<HashMap<String, Slot>>,
    guard: Option<(DeploymentSettings, mpsc::UnboundedSender<String>)>,
}

impl SlotFactory {
    /// With `guard`, live and canary slots report their faults to it.
    pub fn new(
        engine: crate::policy::PolicyEngine,
        guard: Option<(DeploymentSettings, mpsc::UnboundedSender<String>)>,
    ) -> Self {
        SlotFactory {
            engine,
            plugins: Mutex::default(),
            slots: Mutex::default(),
            guard,
        }
    }

    /// The component with this hash, loaded once.
    pub async fn plugin(
        &self,
        conn: &mut AnyConnection,
        hash: &str,
    ) -> Result<Arc<Plugin>, String> {
        if let Some(plugin) = self.plugins.lock().expect("plugins lock").get(hash) {
            return Ok(plugin.clone());
        }
        let wasm = registry::wasm(conn, hash)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no component sha256:{hash} in the registry"))?;
        let plugin = self.load(wasm).await?;
        Ok(self.remember(Arc::new(plugin)))
    }

    async fn load(&self, wasm: Vec<u8>) -> Result<Plugin, String> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || Plugin::load(&engine, &wasm))
            .await
            .map_err(|e| format!("loading task: {e}"))?
            .map_err(|e| e.to_string())
    }

    /// Keeps `plugin` loaded; the copy already kept for its hash wins.
    fn remember(&self, plugin: Arc<Plugin>) -> Arc<Plugin> {
        self.plugins
            .lock()
            .expect("plugins lock")
            .entry(plugin.identity().hash.clone())
            .or_insert(plugin)
            .clone()
    }

    /// Configures `plugin` for a deployment's slot (off the async threads:
    /// configure runs the plugin).
    async fn configure(
        &self,
        slot: &str,
        plugin: Arc<Plugin>,
        config_json: String,
        tag: Option<Arc<DeploymentTag>>,
    ) -> Result<Slot, SlotError> {
        let slot = slot.to_string();
        tokio::task::spawn_blocking(move || Slot::configured(&slot, plugin, config_json, tag))
            .await
            .map_err(|e| {
                SlotError::Fault(crate::policy::Fault::Trap {
                    message: format!("configure task: {e}"),
                })
            })?
    }

    fn tag(&self, deployment: &Deployment) -> Arc<DeploymentTag> {
        Arc::new(match (&self.guard, deployment.mode) {
            (Some((settings, trips)), Mode::Live | Mode::Canary) => {
                DeploymentTag::guarded(&deployment.id, settings, trips.clone())
            }
            _ => DeploymentTag::unguarded(&deployment.id),
        })
    }

    /// The configured slot of an active deployment (`None` for a removal).
    pub async fn slot_for(
        &self,
        conn: &mut AnyConnection,
        deployment: &Deployment,
    ) -> Result<Option<Slot>, String> {
        let Some(hash) = &deployment.plugin_hash else {
            return Ok(None);
        };
        if let Some(slot) = self.slots.lock().expect("slots lock").get(&deployment.id) {
            return Ok(Some(slot.clone()));
        }
        let plugin = self.plugin(conn, hash).await?;
        let slot = self
            .configure(
                &deployment.slot,
                plugin,
                deployment.config_json.clone(),
                Some(self.tag(deployment)),
            )
            .await
            .map_err(|e| format!("{e}"))?;
        self.keep(&deployment.id, slot.clone());
        Ok(Some(slot))
    }

    fn keep(&self, deployment_id: &str, slot: Slot) {
        self.slots
            .lock()
            .expect("slots lock")
            .insert(deployment_id.to_string(), slot);
    }

    /// `baseline` with every active deployment applied, oldest first. A
    /// deployment whose slot cannot be built any more is left out (the
    /// slot keeps what it had) and logged; a bad row must not stop a host.
    pub async fn derive(
        &self,
        conn: &mut AnyConnection,
        baseline: &PolicySet,
    ) -> Result<PolicySet, crate::store::StoreError> {
        let active = store::active(conn).await?;
        let mut regions: BTreeMap<String, RegionPolicy> = BTreeMap::new();
        for deployment in &active {
            let Some(base) = baseline.regions.get(&deployment.region) else {
                tracing::warn!(deployment = %deployment.id, region = %deployment.region, "deployment for a region this host does not have");
                continue;
            };
            let slot = match self.slot_for(conn, deployment).await {
                Ok(slot) => slot,
                Err(err) => {
                    tracing::error!(deployment = %deployment.id, "cannot build deployed slot: {err}");
                    continue;
                }
            };
            let region = regions
                .entry(deployment.region.clone())
                .or_insert_with(|| (**base).clone());
            apply(region, deployment, slot);
        }
        // Drop slots of deployments no longer active.
        self.slots
            .lock()
            .expect("slots lock")
            .retain(|id, _| active.iter().any(|d| &d.id == id));
        let mut set = baseline.clone();
        for (id, region) in regions {
            set.regions.insert(id, Arc::new(region));
        }
        Ok(set)
    }
}

/// Puts one active deployment's slot into a region's policy.
fn apply(region: &mut RegionPolicy, deployment: &Deployment, slot: Option<Slot>) {
    match (deployment.mode, slot) {
        (Mode::Live, slot) => region.put(&deployment.slot, slot),
        (Mode::Canary, Some(slot)) => {
            let audience = deployment
                .audience_json
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or(Audience::Share { share_bp: 0 });
            region.canaries.push(Canary { audience, slot });
        }
        (Mode::Shadow, Some(slot)) => region.shadows.push(slot),
        (_, None) => {}
    }
}

// ---------------------------------------------------------------------------
// The registry

/// Stores a component: its signature verified against HQ's trusted keys,
/// loaded under the production limits (so a component of an unsupported
/// WIT version or the wrong world is refused now, not at order time).
pub async fn upload(
    state: &AppState,
    caller: &Caller,
    wasm: Vec<u8>,
    signature: Option<&str>,
) -> ApiResult<(Manifest, bool)> {
    if caller.own_dealer().is_some() {
        return Err(ApiError::forbidden("dealers cannot publish plugins"));
    }
    let hash = hex::encode(Sha256::digest(&wasm));
    let publisher = signing::verify(&state.deployments.trusted_keys, &wasm, signature)
        .map_err(|err| ApiError::invalid("Chanhost-Signature", err.to_string()))?;
    let mut conn = state.store.pool.acquire().await?;
    if let Some(existing) = registry::get(&mut conn, &hash).await? {
        return Ok((existing, false));
    }
    let plugin = state
        .deployments
        .slots
        .load(wasm.clone())
        .await
        .map_err(|err| ApiError::invalid("/", format!("the component cannot be used: {err}")))?;
    let identity = plugin.identity().clone();
    let manifest = Manifest {
        hash: hash.clone(),
        name: identity.name.clone(),
        kind: identity.kind.to_string(),
        version: identity.version.clone(),
        wit_version: identity.wit_version.clone(),
        size_bytes: wasm.len() as i64,
        publisher,
        uploaded_by: caller.actor(),
        uploaded_at: now_ms(),
    };
    // Built-ins included: an upload must not pass itself off as one.
    if let Some(other) =
        registry::by_name_version(&mut conn, &manifest.name, &manifest.version).await?
    {
        return Err(ApiError::invalid(
            "/",
            format!(
                "{}@{} is already published with other content (sha256:{}); publish it under a new version",
                manifest.name, manifest.version, other.hash
            ),
        ));
    }
    let mut tx = state.store.begin_write().await?;
    let inserted = match registry::insert(&mut tx, &manifest, signature, &wasm).await {
        Ok(inserted) => inserted,
        Err(err) if err.is_unique_violation() => {
            return Err(ApiError::invalid(
                "/",
                format!(
                    "{}@{} is already published with other content; publish it under a new version",
                    manifest.name, manifest.version
                ),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let mut entry = AuditEntry::new(&caller.actor(), "upload", manifest.uploaded_at);
    entry.detail = serde_json::json!({ "plugin": PluginRef::from(&manifest), "publisher": manifest.publisher });
    store::audit(&mut tx, &entry).await?;
    tx.commit().await?;
    state.deployments.slots.remember(Arc::new(plugin));
    if !inserted {
        // Another host stored the same bytes a moment ago.
        let existing = registry::get(&mut conn, &hash).await?.unwrap_or(manifest);
        return Ok((existing, false));
    }
    Ok((manifest, true))
}

/// Registers the components the binary ships and the ones the brand
/// directory names, so deployments and history can refer to every
/// component that ever ran.
pub async fn register_known_components(state: &AppState) -> anyhow::Result<()> {
    let baseline = state.policies.baseline().clone();
    let slots = &state.deployments.slots;
    let mut known: BTreeMap<String, Arc<Plugin>> = BTreeMap::new();
    let baseline_slots = baseline.regions.values().flat_map(|r| r.slots());
    for slot in baseline_slots.chain([&baseline.fallback_sourcing]) {
        let plugin = slots.remember(slot.plugin.clone());
        known.insert(plugin.identity().hash.clone(), plugin);
    }
    let mut conn = state.store.pool.acquire().await?;
    for bundled in chanhost_bundled_plugins::ALL {
        let hash = hex::encode(Sha256::digest(bundled.wasm));
        let plugin = match known.remove(&hash) {
            Some(plugin) => plugin,
            None => {
                slots.remember(Arc::new(slots.load(bundled.wasm.to_vec()).await.map_err(
                    |e| anyhow::anyhow!("built-in plugin {}: {e}", bundled.name),
                )?))
            }
        };
        register(&mut conn, &plugin, BUILTIN_PUBLISHER, bundled.wasm).await?;
    }
    // What is left the brand directory names by path.
    if !known.is_empty() {
        let files = brand_components(&state.brand.dir);
        for (hash, plugin) in &known {
            if let Some(wasm) = files.get(hash) {
                register(&mut conn, plugin, "config", wasm).await?;
            }
        }
    }
    Ok(())
}

async fn register(
    conn: &mut AnyConnection,
    plugin: &Plugin,
    publisher: &str,
    wasm: &[u8],
) -> anyhow::Result<()> {
    let identity = plugin.identity();
    let manifest = Manifest {
        hash: identity.hash.clone(),
        name: identity.name.clone(),
        kind: identity.kind.to_string(),
        version: identity.version.clone(),
        wit_version: identity.wit_version.clone(),
        size_bytes: wasm.len() as i64,
        publisher: publisher.to_string(),
        uploaded_by: "system".to_string(),
        uploaded_at: now_ms(),
    };
    match registry::insert(conn, &manifest, None, wasm).await {
        Ok(_) => Ok(()),
        // A published component already holds this name@version: the
        // brand directory's copy is still usable, just not by that name.
        Err(err) if err.is_unique_violation() => {
            tracing::warn!(plugin = %identity.name, version = %identity.version, "not registering the brand directory's component: its name@version is published with other content");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// The `.wasm` files under the brand directory, by sha256.
fn brand_components(dir: &std::path::Path) -> HashMap<String, Vec<u8>> {
    walk_wasm(dir, 3)
        .into_iter()
        .filter_map(|path| std::fs::read(path).ok())
        .map(|bytes| (hex::encode(Sha256::digest(&bytes)), bytes))
        .collect()
}

fn walk_wasm(dir: &std::path::Path, depth: usize) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth > 0 {
            found.extend(walk_wasm(&path, depth - 1));
        } else if path.extension().is_some_and(|e| e == "wasm") {
            found.push(path);
        }
    }
    found
}

/// The manifest a plugin reference names.
async fn resolve(conn: &mut AnyConnection, reference: &str) -> Result<Manifest, String> {
    let manifest = if let Some(name) = reference.strip_prefix("builtin:") {
        let bundled = chanhost_bundled_plugins::find(name).ok_or_else(|| {
            let names: Vec<_> = chanhost_bundled_plugins::ALL
                .iter()
                .map(|p| p.name)
                .collect();
            format!("no built-in plugin {name} (built-in: {})", names.join(", "))
        })?;
        let hash = hex::encode(Sha256::digest(bundled.wasm));
        registry::get(conn, &hash).await
    } else if let Some(hash) = reference.strip_prefix("sha256:") {
        registry::get(conn, hash).await
    } else if let Some((name, version)) = reference.split_once('@') {
        registry::by_name_version(conn, name, version).await
    } else {
        return Err(format!(
            "{reference:?} is not a plugin reference: use builtin:<name>, <name>@<version> or sha256:<hash>"
        ));
    };
    manifest
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no plugin {reference} in the registry; publish it first"))
}

// ---------------------------------------------------------------------------
// Deploying

/// One change, checked and ready to write.
struct Prepared {
    region: String,
    slot: String,
    manifest: Option<Manifest>,
    built: Option<Slot>,
    config_json: String,
    /// The configuration the slot has now (for the audit's diff).
    old_config: Option<serde_json::Value>,
    old_plugin: Option<PluginRef>,
}

pub async fn deploy(
    state: &AppState,
    caller: &Caller,
    request: RolloutRequest,
) -> ApiResult<Rollout> {
    let started = Instant::now();
    check_shape(caller, &request)?;
    let mut applied = state.deployments.applied.lock().await;
    let current = state.policies.current();
    let mut conn = state.store.pool.acquire().await?;
    let rollout_id = new_id("RLT");
    let now = now_ms();

    // Validate every change before writing any.
    let mut prepared = Vec::new();
    let mut problems = canary_dealer_problems(&mut conn, &request).await?;
    for (i, change) in request.changes.iter().enumerate() {
        let regions: Vec<String> = if change.region == "*" {
            current.regions.keys().cloned().collect()
        } else {
            vec![change.region.clone()]
        };
        for region in regions {
            match prepare(state, &mut conn, &current, i, change, &region, request.mode).await {
                Ok(p) => prepared.push(p),
                Err(mut found) => problems.append(&mut found),
            }
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    // Smoke run: each region with all of its changes in place.
    let mut candidate = (*current).clone();
    for p in &prepared {
        let region = candidate.regions[&p.region].clone();
        let mut region = (*region).clone();
        region.put(&p.slot, p.built.clone());
        candidate.regions.insert(p.region.clone(), Arc::new(region));
    }
    let candidate = Arc::new(candidate.for_replay());
    let checks: Vec<(usize, String, String)> = prepared
        .iter()
        .enumerate()
        .filter(|(_, p)| p.built.is_some())
        .map(|(i, p)| (i, p.region.clone(), p.slot.clone()))
        .collect();
    let smoke = {
        let candidate = candidate.clone();
        tokio::task::spawn_blocking(move || {
            checks
                .into_iter()
                .filter_map(|(i, region, slot)| {
                    smoke_test(&candidate, &region, &slot)
                        .err()
                        .map(|p| (i, region, p))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("smoke run: {e}")))?
    };
    if !smoke.is_empty() {
        let problems = smoke
            .into_iter()
            .flat_map(|(i, region, found)| {
                let change = change_index(&request, &prepared[i]);
                found.into_iter().map(move |message| {
                    FieldProblem::new(
                        format!("/changes/{change}/plugin"),
                        format!("{region}: {message}"),
                    )
                })
            })
            .collect();
        return Err(ApiError::invalid_fields(problems));
    }

    // Write the rollout in one transaction.
    let actor = caller.actor();
    let mut tx = state.store.begin_write().await?;
    let mut written = Vec::new();
    for p in &prepared {
        let previous_live = store::active_in(&mut tx, &p.region, &p.slot, Mode::Live).await?;
        let superseded = match request.mode {
            Mode::Live => {
                // A new live version also ends the slot's canary: it was a
                // candidate against what is now replaced.
                let canary = store::active_in(&mut tx, &p.region, &p.slot, Mode::Canary).await?;
                [previous_live.clone(), canary]
            }
            mode => [
                store::active_in(&mut tx, &p.region, &p.slot, mode).await?,
                None,
            ],
        };
        for old in superseded.iter().flatten() {
            store::end(&mut tx, &old.id, DeploymentState::Superseded, &actor, now).await?;
        }
        let deployment = Deployment {
            id: new_id("DEP"),
            rollout_id: rollout_id.clone(),
            region: p.region.clone(),
            slot: p.slot.clone(),
            mode: request.mode,
            state: DeploymentState::Active,
            plugin_hash: p.manifest.as_ref().map(|m| m.hash.clone()),
            config_json: p.config_json.clone(),
            audience_json: match request.mode {
                Mode::Canary => request
                    .audience
                    .as_ref()
                    .map(|a| serde_json::to_string(a).expect("audience serialises")),
                _ => None,
            },
            previous_id: previous_live.map(|d| d.id),
            created_by: actor.clone(),
            created_at: now,
            note: request.note.clone(),
            ended_at: None,
            ended_by: None,
        };
        if let Err(err) = store::insert(&mut tx, &deployment).await {
            if err.is_unique_violation() {
                return Err(ApiError::conflict(
                    format!(
                        "{} {} was changed by another deployment at the same moment; try again",
                        p.region, p.slot
                    ),
                    Vec::new(),
                ));
            }
            return Err(err.into());
        }
        let mut entry = AuditEntry::about(&actor, "deploy", now, &deployment);
        entry.detail = serde_json::json!({
            "mode": request.mode,
            "rollout_id": rollout_id,
            "plugin": p.manifest.as_ref().map(PluginRef::from),
            "previous_plugin": p.old_plugin,
            "audience": request.audience,
            "note": request.note,
            "config_diff": config_diff(p.old_config.as_ref(), deployment.config().as_ref()),
        });
        store::audit(&mut tx, &entry).await?;
        if let Some(slot) = &p.built {
            // The slot validated above is the one that goes live, with
            // this deployment's guard.
            let mut slot = slot.clone();
            slot.deployment = Some(state.deployments.slots.tag(&deployment));
            state.deployments.slots.keep(&deployment.id, slot);
        }
        written.push(deployment);
    }
    tx.commit().await?;
    refresh_locked(state, &mut conn, &mut applied).await?;
    let activation_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(rollout = %rollout_id, changes = written.len(), activation_ms, "rollout live");
    let mut views = Vec::new();
    for d in &written {
        views.push(view(&mut conn, d).await?);
    }
    Ok(Rollout {
        rollout_id,
        activation_ms,
        deployments: views,
    })
}

/// Which request change a prepared change came from (a `*` change expands
/// to many).
fn change_index(request: &RolloutRequest, prepared: &Prepared) -> usize {
    request
        .changes
        .iter()
        .position(|c| c.slot == prepared.slot && (c.region == prepared.region || c.region == "*"))
        .unwrap_or(0)
}

/// Checks that need no database: roles, slot names, mode and audience.
fn check_shape(caller: &Caller, request: &RolloutRequest) -> ApiResult<()> {
    if request.changes.is_empty() {
        return Err(ApiError::invalid(
            "/changes",
            "a rollout needs at least one change",
        ));
    }
    for (i, change) in request.changes.iter().enumerate() {
        if change.region == "*" {
            caller.require_hq("deploy to every region")?;
        } else {
            caller.require_admin_of(&change.region, "deploy to this region")?;
        }
        let valid_slot = matches!(
            change.slot.as_str(),
            "anti_diversion" | "pricing" | "sourcing"
        ) || change
            .slot
            .strip_prefix("promotions/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
        if !valid_slot {
            return Err(ApiError::invalid(
                format!("/changes/{i}/slot"),
                "one of anti_diversion, pricing, sourcing, promotions/<id>",
            ));
        }
        match &change.plugin {
            None => {
                return Err(ApiError::invalid(
                    format!("/changes/{i}/plugin"),
                    "required: a plugin reference, or null to remove a promotion",
                ));
            }
            Some(None) if slot_kind(&change.slot) != PluginKind::Promotion => {
                return Err(ApiError::invalid(
                    format!("/changes/{i}/plugin"),
                    "only a promotion slot can be removed; this slot always has a plugin",
                ));
            }
            Some(None) if request.mode != Mode::Live => {
                return Err(ApiError::invalid(
                    format!("/changes/{i}/plugin"),
                    "a removal is live only",
                ));
            }
            _ => {}
        }
        if !change.config.is_object() {
            return Err(ApiError::invalid(
                format!("/changes/{i}/config"),
                "must be an object",
            ));
        }
        let duplicate = request.changes[..i].iter().any(|c| {
            c.slot == change.slot
                && (c.region == change.region || c.region == "*" || change.region == "*")
        });
        if duplicate {
            return Err(ApiError::invalid(
                format!("/changes/{i}"),
                "another change of this rollout sets the same slot",
            ));
        }
    }
    match (request.mode, &request.audience) {
        (Mode::Canary, None) => Err(ApiError::invalid(
            "/audience",
            "a canary needs an audience: {\"share_bp\": n} or {\"dealers\": [...]}",
        )),
        (Mode::Canary, Some(Audience::Share { share_bp }))
            if *share_bp == 0 || *share_bp > 10_000 =>
        {
            Err(ApiError::invalid(
                "/audience/share_bp",
                "between 1 and 10000",
            ))
        }
        (Mode::Canary, Some(Audience::Dealers { dealers })) if dealers.is_empty() => Err(
            ApiError::invalid("/audience/dealers", "name at least one dealer"),
        ),
        (Mode::Live | Mode::Shadow, Some(_)) => Err(ApiError::invalid(
            "/audience",
            "only a canary has an audience",
        )),
        _ => Ok(()),
    }
}

/// A canary naming dealers must name real dealers of the regions it
/// changes: a misspelt id (ids are upper case: `D-GD-0001`) would
/// otherwise put nobody in the canary, silently.
async fn canary_dealer_problems(
    conn: &mut AnyConnection,
    request: &RolloutRequest,
) -> ApiResult<Vec<FieldProblem>> {
    let Some(Audience::Dealers { dealers: named }) = &request.audience else {
        return Ok(Vec::new());
    };
    let every_region = request.changes.iter().any(|c| c.region == "*");
    let mut problems = Vec::new();
    // The set is sorted, so a problem names the dealer, not a position.
    for id in named {
        let path = "/audience/dealers";
        match dealers::get(&mut *conn, id).await? {
            None => problems.push(FieldProblem::new(path, format!("no dealer {id}"))),
            Some(found)
                if !every_region
                    && !request
                        .changes
                        .iter()
                        .any(|c| c.region == found.dealer.region) =>
            {
                problems.push(FieldProblem::new(
                    path,
                    format!(
                        "{id} is a dealer of region {}, which this rollout does not change",
                        found.dealer.region
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(problems)
}

/// Resolves and configures one change for one region.
async fn prepare(
    state: &AppState,
    conn: &mut AnyConnection,
    current: &PolicySet,
    i: usize,
    change: &ChangeRequest,
    region: &str,
    mode: Mode,
) -> Result<Prepared, Vec<FieldProblem>> {
    let problem = |path: &str, message: String| {
        vec![FieldProblem::new(format!("/changes/{i}{path}"), message)]
    };
    let Some(policy) = current.regions.get(region) else {
        return Err(problem("/region", format!("unknown region {region}")));
    };
    let existing = policy.slot(&change.slot);
    let old_config = existing.map(Slot::config);
    let old_plugin = existing.map(|s| PluginRef::from(s.plugin.identity()));
    let config_json = change.config.to_string();
    let Some(Some(reference)) = &change.plugin else {
        if existing.is_none() {
            return Err(problem(
                "/slot",
                format!("{region} has no {} to remove", change.slot),
            ));
        }
        return Ok(Prepared {
            region: region.to_string(),
            slot: change.slot.clone(),
            manifest: None,
            built: None,
            config_json,
            old_config,
            old_plugin,
        });
    };
    if mode != Mode::Live && existing.is_none() {
        return Err(problem(
            "/slot",
            format!(
                "{region} has no {} yet: a canary or shadow runs beside an existing slot",
                change.slot
            ),
        ));
    }
    let manifest = resolve(conn, reference)
        .await
        .map_err(|m| problem("/plugin", m))?;
    let plugin = state
        .deployments
        .slots
        .plugin(conn, &manifest.hash)
        .await
        .map_err(|m| problem("/plugin", m))?;
    let built = state
        .deployments
        .slots
        .configure(&change.slot, plugin, config_json.clone(), None)
        .await
        .map_err(|err| match err {
            SlotError::Config(found) => found
                .into_iter()
                .map(|p| FieldProblem::new(format!("/changes/{i}/config{}", p.path), p.message))
                .collect(),
            SlotError::WrongKind { .. } => problem("/plugin", format!("{} {err}", manifest.name)),
            SlotError::Fault(fault) => {
                problem("/plugin", format!("configure call failed: {fault}"))
            }
        })?;
    Ok(Prepared {
        region: region.to_string(),
        slot: change.slot.clone(),
        manifest: Some(manifest),
        built: Some(built),
        config_json,
        old_config,
        old_plugin,
    })
}

/// A slot's configuration in the brand directory (what a rollback to the
/// baseline restores).
fn baseline_config(state: &AppState, region: &str, slot: &str) -> Option<serde_json::Value> {
    let baseline = state.policies.baseline();
    baseline.regions.get(region)?.slot(slot).map(Slot::config)
}

/// RFC 6902 patch from the old configuration to the new (`null` for a
/// slot that did not exist or is removed).
fn config_diff(
    old: Option<&serde_json::Value>,
    new: Option<&serde_json::Value>,
) -> serde_json::Value {
    let null = serde_json::Value::Null;
    let patch = json_patch::diff(old.unwrap_or(&null), new.unwrap_or(&null));
    serde_json::to_value(patch).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Rollback, promotion, stop

/// Undoes the latest rollout of a region (`slot: None`) or the latest
/// change of one slot: a canary ends, a live deployment gives the slot back
/// to the one it replaced (or to the brand directory's configuration).
pub async fn rollback(
    state: &AppState,
    caller: &Caller,
    region: &str,
    slot: Option<&str>,
) -> ApiResult<Vec<DeploymentView>> {
    caller.require_admin_of(region, "roll back this region's policy")?;
    if !state.policies.baseline().regions.contains_key(region) {
        return Err(ApiError::not_found("region", region));
    }
    let mut applied = state.deployments.applied.lock().await;
    let mut conn = state.store.pool.acquire().await?;
    let mut tx = state.store.begin_write().await?;
    let targets = match slot {
        Some(slot) => {
            let canary = store::active_in(&mut tx, region, slot, Mode::Canary).await?;
            let live = store::active_in(&mut tx, region, slot, Mode::Live).await?;
            canary.or(live).into_iter().collect::<Vec<_>>()
        }
        None => match store::latest_deciding(&mut tx, region).await? {
            Some(latest) => store::active_of_rollout(&mut tx, &latest.rollout_id, region).await?,
            None => Vec::new(),
        },
    };
    if targets.is_empty() {
        return Err(ApiError::conflict(
            format!(
                "nothing to roll back: {region}{} runs the brand directory's configuration",
                slot.map(|s| format!(" {s}")).unwrap_or_default()
            ),
            Vec::new(),
        ));
    }
    let actor = caller.actor();
    let mut undone = Vec::new();
    for target in &targets {
        undo(
            state,
            &mut tx,
            target,
            DeploymentState::RolledBack,
            &actor,
            "rollback",
        )
        .await?;
        undone.push(
            store::get(&mut tx, &target.id)
                .await?
                .unwrap_or_else(|| target.clone()),
        );
    }
    tx.commit().await?;
    refresh_locked(state, &mut conn, &mut applied).await?;
    let mut views = Vec::new();
    for d in &undone {
        views.push(view(&mut conn, d).await?);
    }
    Ok(views)
}

/// Ends `target` and, for a live deployment, reactivates the one it
/// replaced; audits both with the configuration diff.
async fn undo(
    state: &AppState,
    tx: &mut AnyConnection,
    target: &Deployment,
    how: DeploymentState,
    actor: &str,
    action: &str,
) -> ApiResult<Option<Deployment>> {
    let now = now_ms();
    if !store::end(tx, &target.id, how, actor, now).await? {
        return Ok(None);
    }
    let mut restored = None;
    if target.mode == Mode::Live
        && let Some(previous) = &target.previous_id
        && store::reactivate(tx, previous).await?
    {
        restored = store::get(tx, previous).await?;
    }
    let restored_config = match (&restored, target.mode) {
        (Some(d), _) => d.config(),
        (None, Mode::Live) => baseline_config(state, &target.region, &target.slot),
        // A canary or shadow leaves the live slot as it is.
        (None, _) => None,
    };
    let mut entry = AuditEntry::about(actor, action, now, target);
    entry.detail = serde_json::json!({
        "mode": target.mode,
        "restored": match (&restored, target.mode) {
            (Some(d), _) => serde_json::json!({ "deployment_id": d.id }),
            (None, Mode::Live) => serde_json::json!({ "source": "config" }),
            (None, _) => serde_json::Value::Null,
        },
        "config_diff": if target.mode == Mode::Live {
            config_diff(target.config().as_ref(), restored_config.as_ref())
        } else {
            serde_json::Value::Array(Vec::new())
        },
    });
    store::audit(tx, &entry).await?;
    Ok(restored)
}

/// Deployment `id`, if the caller administers its region.
async fn administered(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    action: &str,
) -> ApiResult<Deployment> {
    let deployment = store::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("deployment", id))?;
    caller.require_admin_of(&deployment.region, action)?;
    Ok(deployment)
}

/// A canary becomes the whole region's live deployment.
pub async fn promote(state: &AppState, caller: &Caller, id: &str) -> ApiResult<DeploymentView> {
    let mut applied = state.deployments.applied.lock().await;
    let mut conn = state.store.pool.acquire().await?;
    let canary = administered(&mut conn, caller, id, "promote a canary in this region").await?;
    if canary.mode != Mode::Canary || canary.state != DeploymentState::Active {
        return Err(ApiError::conflict(
            format!(
                "{id} is a {:?} deployment in state {:?}; only an active canary can be promoted",
                canary.mode, canary.state
            ),
            Vec::new(),
        ));
    }
    let actor = caller.actor();
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let previous = store::active_in(&mut tx, &canary.region, &canary.slot, Mode::Live).await?;
    if let Some(previous) = &previous {
        store::end(
            &mut tx,
            &previous.id,
            DeploymentState::Superseded,
            &actor,
            now,
        )
        .await?;
    }
    if !store::end(&mut tx, &canary.id, DeploymentState::Promoted, &actor, now).await? {
        return Err(ApiError::conflict(
            format!("{id} ended meanwhile"),
            Vec::new(),
        ));
    }
    let live = Deployment {
        id: new_id("DEP"),
        rollout_id: new_id("RLT"),
        mode: Mode::Live,
        state: DeploymentState::Active,
        audience_json: None,
        previous_id: previous.as_ref().map(|d| d.id.clone()),
        created_by: actor.clone(),
        created_at: now,
        note: format!("promoted canary {}", canary.id),
        ended_at: None,
        ended_by: None,
        ..canary.clone()
    };
    store::insert(&mut tx, &live).await?;
    let mut entry = AuditEntry::about(&actor, "promote", now, &live);
    let old_config = match &previous {
        Some(d) => d.config(),
        None => baseline_config(state, &live.region, &live.slot),
    };
    entry.detail = serde_json::json!({
        "canary_id": canary.id,
        "config_diff": config_diff(old_config.as_ref(), live.config().as_ref()),
    });
    store::audit(&mut tx, &entry).await?;
    tx.commit().await?;
    refresh_locked(state, &mut conn, &mut applied).await?;
    view(&mut conn, &live).await
}

/// Ends a canary or a shadow.
pub async fn stop(state: &AppState, caller: &Caller, id: &str) -> ApiResult<DeploymentView> {
    let mut applied = state.deployments.applied.lock().await;
    let mut conn = state.store.pool.acquire().await?;
    let deployment =
        administered(&mut conn, caller, id, "stop a deployment in this region").await?;
    if deployment.mode == Mode::Live {
        return Err(ApiError::conflict(
            format!("{id} is live; roll its slot back instead"),
            vec!["rollback".into()],
        ));
    }
    let mut tx = state.store.begin_write().await?;
    if undo(
        state,
        &mut tx,
        &deployment,
        DeploymentState::Stopped,
        &caller.actor(),
        "stop",
    )
    .await?
    .is_none()
        && store::get(&mut tx, id)
            .await?
            .is_some_and(|d| d.state != DeploymentState::Stopped)
    {
        return Err(ApiError::conflict(
            format!("{id} is no longer active"),
            Vec::new(),
        ));
    }
    tx.commit().await?;
    refresh_locked(state, &mut conn, &mut applied).await?;
    let deployment = store::get(&mut conn, id).await?.unwrap_or(deployment);
    view(&mut conn, &deployment).await
}

/// The guard tripped: quarantine the version, roll its slot back, alert.
async fn auto_rollback(state: &AppState, id: &str) -> anyhow::Result<()> {
    let mut applied = state.deployments.applied.lock().await;
    let mut conn = state.store.pool.acquire().await?;
    let Some(deployment) = store::get(&mut conn, id).await? else {
        return Ok(());
    };
    if deployment.state != DeploymentState::Active {
        return Ok(());
    }
    let counts = state
        .deployments
        .slots
        .slots
        .lock()
        .expect("slots lock")
        .get(id)
        .and_then(|s| s.deployment.as_ref().and_then(|d| d.counts()));
    let (calls, faults) = counts.unwrap_or_default();
    let settings = &state.deployments.settings;
    let mut tx = state.store.begin_write().await?;
    undo(
        state,
        &mut tx,
        &deployment,
        DeploymentState::AutoRolledBack,
        "system:guard",
        "auto_rollback",
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let manifest = match &deployment.plugin_hash {
        Some(hash) => registry::get(&mut tx, hash).await?,
        None => None,
    };
    let plugin = manifest
        .as_ref()
        .map_or("?".to_string(), |m| format!("{}@{}", m.name, m.version));
    let message = format!(
        "{} {}: {plugin} faulted in {faults} of {calls} calls (threshold {}%); quarantined and rolled back to the previous version",
        deployment.region,
        deployment.slot,
        settings.guard_fault_rate_bp as f64 / 100.0
    );
    alerts::raise(
        &mut tx,
        &alerts::NewAlert {
            kind: alerts::AlertKind::PolicyRollback,
            region: deployment.region.clone(),
            sku: deployment.slot.clone(),
            message: message.clone(),
            details: serde_json::json!({
                "deployment_id": deployment.id,
                "plugin": manifest.as_ref().map(PluginRef::from),
                "calls": calls,
                "faults": faults,
                "fault_rate_bp": settings.guard_fault_rate_bp,
            }),
        },
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    if let Some(slot) = state
        .deployments
        .slots
        .slots
        .lock()
        .expect("slots lock")
        .get(id)
    {
        state
            .policies
            .current()
            .breaker
            .quarantine(slot.plugin.identity(), &message);
    }
    tracing::warn!(deployment = %id, "{message}");
    refresh_locked(state, &mut conn, &mut applied)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Keeping the live set in step

/// Derives the live set from the database and installs it, recording the
/// audit position it reflects. Called with the change lock held.
async fn refresh_locked(
    state: &Services,
    conn: &mut AnyConnection,
    applied: &mut Option<String>,
) -> ApiResult<()> {
    let seen = store::last_change(conn).await?;
    let set = state
        .deployments
        .slots
        .derive(conn, state.policies.baseline())
        .await?;
    state.policies.install(set);
    *applied = seen;
    Ok(())
}

/// Brings this host's live set up to date with the database if another
/// host changed policy since.
pub async fn refresh(state: &Services) -> ApiResult<bool> {
    let mut applied = state.deployments.applied.lock().await;
    let mut conn = state.store.pool.acquire().await?;
    let latest = store::last_change(&mut conn).await?;
    if latest == *applied {
        return Ok(false);
    }
    refresh_locked(state, &mut conn, &mut applied).await?;
    Ok(true)
}

/// The guard listener, the poller that follows other hosts' changes, and
/// the shadow comparer. They stop when the server's state is dropped.
pub fn spawn_background(state: AppState, background: Background) {
    let Background {
        mut guard_trips,
        mut shadow_jobs,
    } = background;
    let weak = Arc::downgrade(&state.0);
    tokio::spawn(async move {
        while let Some(id) = guard_trips.recv().await {
            let Some(services) = weak.upgrade() else {
                break;
            };
            if let Err(err) = auto_rollback(&AppState(services), &id).await {
                tracing::error!(deployment = %id, "automatic rollback failed: {err:#}");
            }
        }
    });
    let weak = Arc::downgrade(&state.0);
    let interval = Duration::from_millis(state.deployments.settings.poll_interval_ms.max(50));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(services) = weak.upgrade() else {
                break;
            };
            if let Err(err) = refresh(&services).await {
                tracing::warn!("following policy changes: {err:?}");
            }
        }
    });
    let store = state.store.clone();
    drop(state);
    tokio::spawn(async move {
        while let Some(job) = shadow_jobs.recv().await {
            let compared = tokio::task::spawn_blocking(move || compare_shadows(&job)).await;
            let Ok(results) = compared else { continue };
            let Ok(mut conn) = store.pool.acquire().await else {
                continue;
            };
            for (deployment_id, order_id, diff) in results {
                if let Err(err) = store::record_shadow(
                    &mut conn,
                    &deployment_id,
                    &order_id,
                    now_ms(),
                    diff.as_deref(),
                )
                .await
                {
                    tracing::warn!(deployment = %deployment_id, "recording a shadow comparison: {err}");
                }
            }
        }
    });
}

/// Runs every shadow of the order's region; `(deployment, order, diff
/// JSON when the decisions differ)`.
fn compare_shadows(job: &ShadowJob) -> Vec<(String, String, Option<String>)> {
    let Some(region) = job.set.regions.get(&job.context.order.region) else {
        return Vec::new();
    };
    region
        .shadows
        .iter()
        .filter_map(|shadow| {
            let id = shadow.deployment.as_ref()?.id.clone();
            let candidate = job.set.evaluate_shadow(&job.context, shadow).ok()?;
            let diff = crate::policy::diff::DecisionDiff::between(&job.decision, &candidate);
            let json = (!diff.is_empty()).then(|| serde_json::to_string(&diff).unwrap_or_default());
            Some((id, job.context.order.id.clone(), json))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Views

pub async fn view(conn: &mut AnyConnection, d: &Deployment) -> ApiResult<DeploymentView> {
    let plugin = match &d.plugin_hash {
        Some(hash) => registry::get(conn, hash)
            .await?
            .as_ref()
            .map(PluginRef::from),
        None => None,
    };
    Ok(DeploymentView {
        id: d.id.clone(),
        rollout_id: d.rollout_id.clone(),
        region: d.region.clone(),
        slot: d.slot.clone(),
        mode: d.mode,
        state: d.state,
        plugin,
        config: serde_json::from_str(&d.config_json).unwrap_or_default(),
        audience: d
            .audience_json
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
        previous_id: d.previous_id.clone(),
        created_by: d.created_by.clone(),
        created_at: d.created_at,
        note: d.note.clone(),
        ended_at: d.ended_at,
        ended_by: d.ended_by.clone(),
    })
}

/// What a shadow deployment found so far.
pub async fn shadow_summary(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<crate::policy::diff::DiffSummary> {
    let mut conn = state.store.pool.acquire().await?;
    let deployment = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("deployment", id))?;
    caller.require_region_view(&deployment.region)?;
    if deployment.mode != Mode::Shadow {
        return Err(ApiError::conflict(
            format!("{id} is not a shadow deployment"),
            Vec::new(),
        ));
    }
    let (compared, diffs) = store::shadow_results(&mut conn, id).await?;
    let mut summary = crate::policy::diff::DiffSummary::default();
    for diff in diffs {
        match serde_json::from_str(&diff) {
            Ok(diff) => summary.record(diff),
            Err(err) => tracing::warn!(deployment = %id, "unreadable shadow diff: {err}"),
        }
    }
    // Orders that matched are counted, not stored.
    summary.orders_compared = compared;
    Ok(summary)
}

// ---------------------------------------------------------------------------
// Candidates for replays

/// The policy `changes` would make of the live one, for a replay: resolved
/// and configured as a deployment would be, but not smoke-run or stored.
pub async fn build_candidate(state: &Services, changes: &[ChangeRequest]) -> ApiResult<PolicySet> {
    let current = state.policies.current();
    let mut conn = state.store.pool.acquire().await?;
    let mut set = (*current).clone();
    let mut problems = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let Some(region) = set.regions.get(&change.region) else {
            problems.push(FieldProblem::new(
                format!("/candidate/changes/{i}/region"),
                format!("unknown region {}", change.region),
            ));
            continue;
        };
        let mut region = (**region).clone();
        match &change.plugin {
            Some(Some(reference)) => {
                let slot = async {
                    let manifest = resolve(&mut conn, reference).await?;
                    let plugin = state
                        .deployments
                        .slots
                        .plugin(&mut conn, &manifest.hash)
                        .await?;
                    state
                        .deployments
                        .slots
                        .configure(&change.slot, plugin, change.config.to_string(), None)
                        .await
                        .map_err(|e| match e {
                            SlotError::Config(found) => found
                                .into_iter()
                                .map(|p| format!("{}: {}", p.path, p.message))
                                .collect::<Vec<_>>()
                                .join("; "),
                            other => other.to_string(),
                        })
                }
                .await;
                match slot {
                    Ok(slot) => region.set_slot(slot),
                    Err(message) => {
                        problems.push(FieldProblem::new(
                            format!("/candidate/changes/{i}"),
                            message,
                        ));
                        continue;
                    }
                }
            }
            _ => region.put(&change.slot, None),
        }
        set.regions.insert(change.region.clone(), Arc::new(region));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    Ok(set.for_replay())
}

/// `base` with the active deployments of the database applied: the policy
/// that decides orders now (for `chanhost replay` outside a server).
pub async fn active_policy(store_: &Store, base: &PolicySet) -> anyhow::Result<PolicySet> {
    let factory = SlotFactory::new(base.engine.clone(), None);
    let mut conn = store_.pool.acquire().await?;
    Ok(factory.derive(&mut conn, base).await?.for_replay())
}

/// `base` (with the active deployments applied) with deployment `id` in
/// its slot for every dealer, as the candidate of a replay.
pub async fn candidate_for_deployment(
    store_: &Store,
    base: &PolicySet,
    id: &str,
) -> anyhow::Result<PolicySet> {
    let factory = SlotFactory::new(base.engine.clone(), None);
    let mut conn = store_.pool.acquire().await?;
    let active = factory.derive(&mut conn, base).await?;
    let deployment = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no deployment {id}"))?;
    let slot = factory
        .slot_for(&mut conn, &deployment)
        .await
        .map_err(|e| anyhow::anyhow!("deployment {id}: {e}"))?;
    let region = active.regions.get(&deployment.region).ok_or_else(|| {
        anyhow::anyhow!(
            "deployment {id} is for unknown region {}",
            deployment.region
        )
    })?;
    let mut region = (**region).clone();
    region.canaries.retain(|c| c.slot.name != deployment.slot);
    region.shadows.retain(|s| s.name != deployment.slot);
    region.put(&deployment.slot, slot);
    Ok(active.with_region(region).for_replay())
}
