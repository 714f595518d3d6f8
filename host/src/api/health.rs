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

/// Readiness: migrations ran (they run before the server binds), the
/// plugins are loaded and the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to take requests.", body = Ready),
        (status = 503, description = "The database does not answer; the reason in words.", body = String, content_type = "text/plain"),
    ),
)]
async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, (StatusCode, String)> {
    sqlx::query("SELECT 1")
        .execute(&state.store.pool)
        .await
        .map_err(|err| (StatusCode::SERVICE_UNAVAILABLE, format!("database: {err}")))?;
    Ok(Json(Ready {
        status: "ready",
        regions: state.policies.current().regions.len(),
    }))
}
