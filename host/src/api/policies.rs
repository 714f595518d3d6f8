//! What each region runs: its plugin set (slot, plugin, version, content
//! hash, configuration) and every plugin version's health, quarantine
//! included — so "which policy decided this, and is it healthy?" has an
//! answer without reading TOML.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, ApiResult, AppState, Caller};
use crate::policy::{PluginHealth, PluginIdentity, Slot};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regions/{id}/plugins", get(region_plugins))
        .route("/plugins/health", get(health))
}

#[derive(Serialize)]
struct SlotView {
    slot: String,
    plugin: PluginIdentity,
    config: serde_json::Value,
    /// Calls, faults and quarantine of this plugin version (shared by every
    /// slot that runs it); absent until it has been called.
    health: Option<PluginHealth>,
}

async fn region_plugins(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SlotView>>> {
    caller.require_region_view(&id)?;
    let policies = state.policies.current();
    let region = policies
        .regions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("region", id))?;
    let health = policies.breaker.snapshot();
    let view = |slot: &Slot| SlotView {
        slot: slot.name.clone(),
        plugin: slot.plugin.identity().clone(),
        config: slot.config(),
        health: health
            .iter()
            .find(|h| h.plugin.hash == slot.plugin.identity().hash)
            .cloned(),
    };
    let mut slots = vec![view(&region.anti_diversion), view(&region.pricing)];
    slots.extend(region.promotions.iter().map(view));
    slots.push(view(&region.sourcing));
    Ok(Json(slots))
}

async fn health(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PluginHealth>>> {
    caller.require_hq("see every plugin's health")?;
    Ok(Json(state.policies.current().breaker.snapshot()))
}
