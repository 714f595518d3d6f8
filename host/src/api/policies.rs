//! What each region runs: its plugin set (slot, plugin, version, content
//! hash, configuration) and every plugin version's health, quarantine
//! included — so "which policy decided this, and is it healthy?" has an
//! answer without reading TOML.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::Path;
use super::openapi::{Forbidden, NotFound};
use super::{ApiError, ApiResult, AppState, Caller};
use crate::policy::{PluginHealth, PluginIdentity, Slot};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(region_plugins))
        .routes(routes!(health))
}

/// One slot of a region's plugin set.
#[derive(Serialize, ToSchema)]
#[schema(as = PluginSlot)]
struct SlotView {
    slot: String,
    plugin: PluginIdentity,
    /// The plugin's configuration.
    config: serde_json::Value,
    /// Calls, faults and quarantine of this plugin version (shared by every
    /// slot that runs it); absent until it has been called.
    health: Option<PluginHealth>,
}

/// A region's plugin set
///
/// Slot by slot: plugin, version, content hash, configuration and health.
/// HQ or the region's admin.
#[utoipa::path(
    get,
    path = "/regions/{id}/plugins",
    tag = "policies",
    params(
        ("id" = String, Path, description = "Region id, e.g. `gd`"),
    ),
    responses(
        (status = 200, description = "The slots, in pipeline order.", body = Vec<SlotView>),
        Forbidden, NotFound,
    ),
)]
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

/// Every plugin version's health
///
/// Calls, faults and quarantine. HQ only.
#[utoipa::path(
    get,
    path = "/plugins/health",
    tag = "policies",
    responses(
        (status = 200, description = "Health per plugin version.", body = Vec<PluginHealth>),
        Forbidden,
    ),
)]
async fn health(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PluginHealth>>> {
    caller.require_hq("see every plugin's health")?;
    Ok(Json(state.policies.current().breaker.snapshot()))
}
