//! Policy deployment over HTTP: the effective plugin set of each region,
//! rollouts (live, canary, shadow), history, promotion, stop, rollback, a
//! shadow's findings and the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::inventory::region_scope;
use super::json::{OptionalBody, Params};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller};
use crate::policy::diff::DiffSummary;
use crate::policy::{Audience, RegionPolicy};
use crate::service::deployments::{self, DeploymentView, PluginRef, Rollout, RolloutRequest};
use crate::store::deployments::{self as store, AuditEntry, HistoryFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/policy", get(policy))
        .route("/policy/audit", get(audit))
        .route("/deployments", post(deploy).get(history))
        .route("/deployments/{id}", get(show))
        .route("/deployments/{id}/promote", post(promote))
        .route("/deployments/{id}/stop", post(stop))
        .route("/deployments/{id}/shadow", get(shadow))
        .route("/regions/{id}/rollback", post(rollback))
}

#[derive(Serialize)]
struct PolicyView {
    regions: Vec<RegionView>,
}

#[derive(Serialize)]
struct RegionView {
    region: String,
    slots: Vec<SlotView>,
}

#[derive(Serialize)]
struct SlotView {
    slot: String,
    plugin: PluginRef,
    config: serde_json::Value,
    /// `config` (the brand directory) or `deployment`.
    source: &'static str,
    deployment_id: Option<String>,
    canary: Option<CandidateView>,
    shadow: Option<CandidateView>,
}

#[derive(Serialize)]
struct CandidateView {
    deployment_id: Option<String>,
    plugin: PluginRef,
    config: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Audience>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionQuery {
    region: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    slot: Option<String>,
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

/// What every region (or one) runs now, on this host.
async fn policy(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<RegionQuery>,
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

async fn deploy(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<RolloutRequest>,
) -> ApiResult<(StatusCode, Json<Rollout>)> {
    let rollout = deployments::deploy(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(rollout)))
}

#[derive(Serialize)]
struct HistoryPage {
    deployments: Vec<DeploymentView>,
    next_cursor: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<RegionQuery>,
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

async fn promote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentView>> {
    Ok(Json(deployments::promote(&state, &caller, &id).await?))
}

async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentView>> {
    Ok(Json(deployments::stop(&state, &caller, &id).await?))
}

async fn shadow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DiffSummary>> {
    Ok(Json(
        deployments::shadow_summary(&state, &caller, &id).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    /// One slot; absent rolls back the region's latest rollout.
    slot: Option<String>,
}

#[derive(Serialize)]
struct RolledBack {
    rolled_back: Vec<DeploymentView>,
}

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

#[derive(Serialize)]
struct AuditPage {
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<RegionQuery>,
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
