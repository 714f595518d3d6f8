//! Policy deployment over HTTP: the effective plugin set of each region,
//! rollouts (live, canary, shadow), history, promotion, stop, rollback, a
//! shadow's findings and the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::inventory::region_scope;
use super::json::{OptionalBody, Params, Path};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller};
use crate::policy::diff::DiffSummary;
use crate::policy::{Audience, RegionPolicy};
use crate::service::deployments::{self, DeploymentView, PluginRef, Rollout, RolloutRequest};
use crate::store::deployments::{self as store, AuditEntry, HistoryFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy))
        .routes(routes!(audit))
        .routes(routes!(deploy, history))
        .routes(routes!(show))
        .routes(routes!(promote))
        .routes(routes!(stop))
        .routes(routes!(shadow))
        .routes(routes!(rollback))
}

/// What the regions run now.
#[derive(Serialize, ToSchema)]
struct PolicyView {
    regions: Vec<RegionView>,
}

/// One region's effective plugin set.
#[derive(Serialize, ToSchema)]
#[schema(as = RegionPolicyView)]
struct RegionView {
    region: String,
    slots: Vec<SlotView>,
}

/// One slot: what decides it, and any canary or shadow beside it.
#[derive(Serialize, ToSchema)]
#[schema(as = PolicySlot)]
struct SlotView {
    slot: String,
    plugin: PluginRef,
    /// The plugin's configuration.
    config: serde_json::Value,
    /// `config` (the brand directory) or `deployment`.
    source: &'static str,
    deployment_id: Option<String>,
    canary: Option<CandidateView>,
    shadow: Option<CandidateView>,
}

/// A canary or shadow beside a slot.
#[derive(Serialize, ToSchema)]
struct CandidateView {
    deployment_id: Option<String>,
    plugin: PluginRef,
    /// The plugin's configuration.
    config: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Audience>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PolicyQuery {
    /// One region (HQ); a region admin always gets their own.
    region: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// One region (HQ); a region admin always gets their own.
    region: Option<String>,
    /// Entries per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// One region (HQ); a region admin always gets their own.
    region: Option<String>,
    /// One slot (`pricing`, `sourcing`, `promotions/<id>`, …).
    slot: Option<String>,
    /// Deployments per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn region_view(region: &RegionPolicy) -> RegionView {
    let slots = region
        .slots()
        .into_iter()
        .map(|slot| SlotView {
            slot: slot.name.clone(),
            plugin: PluginRef::from(slot.plugin.identity()),
            config: slot.config(),
            source: if slot.deployment.is_some() {
                "deployment"
            } else {
                "config"
            },
            deployment_id: slot.deployment.as_ref().map(|d| d.id.clone()),
            canary: region
                .canaries
                .iter()
                .find(|c| c.slot.name == slot.name)
                .map(|c| CandidateView {
                    deployment_id: c.slot.deployment.as_ref().map(|d| d.id.clone()),
                    plugin: PluginRef::from(c.slot.plugin.identity()),
                    config: c.slot.config(),
                    audience: Some(c.audience.clone()),
                }),
            shadow: region
                .shadows
                .iter()
                .find(|s| s.name == slot.name)
                .map(|s| CandidateView {
                    deployment_id: s.deployment.as_ref().map(|d| d.id.clone()),
                    plugin: PluginRef::from(s.plugin.identity()),
                    config: s.config(),
                    audience: None,
                }),
        })
        .collect();
    RegionView {
        region: region.region.id.clone(),
        slots,
    }
}

/// What each region runs now
///
/// On this host: per slot, the plugin, its configuration, its source
/// (`config`, the brand directory, or a `deployment`), and any canary or
/// shadow. HQ all or one region, a region admin their own.
#[utoipa::path(
    get,
    path = "/policy",
    tag = "policies",
    params(
        PolicyQuery,
    ),
    responses(
        (status = 200, description = "The effective policies.", body = PolicyView),
        Forbidden, NotFound, Invalid,
    ),
)]
async fn policy(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PolicyQuery>,
) -> ApiResult<Json<PolicyView>> {
    let set = state.policies.current();
    let regions = match region_scope(&caller, q.region, "region policies")? {
        Some(id) => {
            let region = set
                .regions
                .get(&id)
                .ok_or_else(|| ApiError::not_found("region", id.clone()))?;
            vec![region_view(region)]
        }
        None => set.regions.values().map(|r| region_view(r)).collect(),
    };
    Ok(Json(PolicyView { regions }))
}

/// Roll out plugin changes
///
/// Live, canary (an audience of dealers) or shadow (compared only); the
/// changes apply together or not at all. HQ, or a region admin for their
/// region within HQ's guardrails.
#[utoipa::path(
    post,
    path = "/deployments",
    tag = "policies",
    request_body = RolloutRequest,
    responses(
        (status = 201, description = "What the rollout did.", body = Rollout),
        JsonBody, Forbidden, Conflict,
    ),
)]
async fn deploy(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<RolloutRequest>,
) -> ApiResult<(StatusCode, Json<Rollout>)> {
    let rollout = deployments::deploy(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(rollout)))
}

/// One page of deployments, newest first.
#[derive(Serialize, ToSchema)]
struct HistoryPage {
    deployments: Vec<DeploymentView>,
    next_cursor: Option<String>,
}

/// Deployment history
///
/// Newest first.
#[utoipa::path(
    get,
    path = "/deployments",
    tag = "policies",
    params(
        HistoryQuery,
    ),
    responses(
        (status = 200, description = "One page of deployments.", body = HistoryPage),
        Forbidden, Invalid,
    ),
)]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<HistoryQuery>,
) -> ApiResult<Json<HistoryPage>> {
    let limit = page::limit(q.limit, 50, 500)?;
    let region = region_scope(&caller, q.region, "policy deployments")?;
    let mut conn = state.store.pool.acquire().await?;
    let filter = HistoryFilter {
        region,
        slot: q.slot,
        before: q.cursor,
        limit: limit + 1,
    };
    let mut rows = store::history(&mut conn, &filter).await?;
    let next_cursor = page::cut(&mut rows, limit, |d| d.id.clone());
    let mut deployments = Vec::new();
    for row in &rows {
        deployments.push(deployments::view(&mut conn, row).await?);
    }
    Ok(Json(HistoryPage {
        deployments,
        next_cursor,
    }))
}

/// One deployment
#[utoipa::path(
    get,
    path = "/deployments/{id}",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Deployment id, `DEP-…`"),
    ),
    responses(
        (status = 200, description = "The deployment.", body = DeploymentView),
        Forbidden, NotFound,
    ),
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentView>> {
    let mut conn = state.store.pool.acquire().await?;
    let row = store::get(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("deployment", id))?;
    caller.require_region_view(&row.region)?;
    Ok(Json(deployments::view(&mut conn, &row).await?))
}

/// Promote a canary
///
/// It becomes the whole region's deployment.
#[utoipa::path(
    post,
    path = "/deployments/{id}/promote",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Deployment id, `DEP-…`"),
    ),
    responses(
        (status = 200, description = "The promoted deployment.", body = DeploymentView),
        Forbidden, NotFound, Conflict,
    ),
)]
async fn promote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentView>> {
    Ok(Json(deployments::promote(&state, &caller, &id).await?))
}

/// Stop a canary or shadow
#[utoipa::path(
    post,
    path = "/deployments/{id}/stop",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Deployment id, `DEP-…`"),
    ),
    responses(
        (status = 200, description = "The stopped deployment.", body = DeploymentView),
        Forbidden, NotFound, Conflict,
    ),
)]
async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentView>> {
    Ok(Json(deployments::stop(&state, &caller, &id).await?))
}

/// A shadow's findings
///
/// How the shadow's decisions differ from the live ones on the orders it saw.
#[utoipa::path(
    get,
    path = "/deployments/{id}/shadow",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Deployment id, `DEP-…`"),
    ),
    responses(
        (status = 200, description = "The differences.", body = DiffSummary),
        Forbidden, NotFound, Conflict,
    ),
)]
async fn shadow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DiffSummary>> {
    Ok(Json(
        deployments::shadow_summary(&state, &caller, &id).await?,
    ))
}

/// The body of `POST /v1/regions/{id}/rollback`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    /// One slot; absent rolls back the region's latest rollout.
    slot: Option<String>,
}

/// The deployments a rollback ended.
#[derive(Serialize, ToSchema)]
struct RolledBack {
    rolled_back: Vec<DeploymentView>,
}

/// Roll a region back
///
/// Undoes the region's latest rollout, or one slot's latest deployment
/// (`{"slot": …}`). The body is optional.
#[utoipa::path(
    post,
    path = "/regions/{id}/rollback",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Region id, e.g. `gd`"),
    ),
    request_body(content = Option<RollbackRequest>, description = "Optional: one slot."),
    responses(
        (status = 200, description = "The deployments rolled back.", body = RolledBack),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    OptionalBody(request): OptionalBody<RollbackRequest>,
) -> ApiResult<Json<RolledBack>> {
    let request = request.unwrap_or_default();
    let rolled_back =
        deployments::rollback(&state, &caller, &region, request.slot.as_deref()).await?;
    Ok(Json(RolledBack { rolled_back }))
}

/// One page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
struct AuditPage {
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

/// The policy audit log
///
/// Who uploaded, deployed, promoted, stopped or rolled back what, with
/// configuration diffs; newest first.
#[utoipa::path(
    get,
    path = "/policy/audit",
    tag = "policies",
    params(
        AuditQuery,
    ),
    responses(
        (status = 200, description = "One page of the audit log.", body = AuditPage),
        Forbidden, Invalid,
    ),
)]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let limit = page::limit(q.limit, 50, 500)?;
    let region = region_scope(&caller, q.region, "the policy audit log")?;
    let mut conn = state.store.pool.acquire().await?;
    let mut entries =
        store::audit_log(&mut conn, region.as_deref(), q.cursor.as_deref(), limit + 1).await?;
    let next_cursor = page::cut(&mut entries, limit, |e| e.id.clone());
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}
