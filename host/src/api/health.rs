//! `/healthz` and `/readyz`, for load balancers and orchestrators: no
//! token, no JSON envelope beyond what they need.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Always `ok`.", body = String, content_type = "text/plain")),
)]
async fn live() -> &'static str {
    "ok"
}

/// What `/readyz` answers when ready.
#[derive(Serialize, utoipa::ToSchema)]
struct Ready {
    /// Always `ready`.
    status: &'static str,
    /// Regions whose plugins are loaded.
    regions: usize,
}

/// Readiness: the schema is at this binary's newest migration, every
/// region of the brand has its plugin set loaded, and the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to take requests.", body = Ready),
        (status = 503, description = "Not ready: the reason in words.", body = String, content_type = "text/plain"),
    ),
)]
async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, (StatusCode, String)> {
    let unavailable = |reason: String| (StatusCode::SERVICE_UNAVAILABLE, reason);
    let migrated = state
        .store
        .migrated()
        .await
        .map_err(|err| unavailable(format!("database: {err}")))?;
    if !migrated {
        return Err(unavailable("database: migrations not applied".into()));
    }
    let loaded = state.policies.current().regions.len();
    let configured = state.brand.regions.len();
    if loaded < configured {
        return Err(unavailable(format!(
            "plugins: {loaded} of {configured} regions loaded"
        )));
    }
    Ok(Json(Ready {
        status: "ready",
        regions: loaded,
    }))
}
