//! The JSON API under `/v1`: one router per resource, merged here; the
//! caller extractor in `auth`, the error type in `error`. Handlers stay
//! thin: parse, authorise, one call into `service` or `store`.

pub mod alerts;
pub mod auth;
pub mod catalogue;
pub mod claims;
pub mod dashboard;
pub mod deployments;
pub mod error;
pub mod inventory;
pub mod json;
pub mod orders;
pub mod page;
pub mod payments;
pub mod policies;
pub mod registry;
pub mod replays;
pub mod tokens;
pub mod transfers;

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::trace::TraceLayer;

use crate::config::BrandConfig;
use crate::policy::LivePolicies;
use crate::service::alerts::AlertSettings;
use crate::service::deployments::Deployments;
use crate::store::{OrderWriter, Store};

pub use auth::{Caller, Role};
pub use error::{ApiError, ApiResult, FieldProblem};
pub use json::Body;

/// Everything a handler may reach, shared by all requests.
pub struct Services {
    pub store: Store,
    pub brand: Arc<BrandConfig>,
    /// The policy set orders are evaluated with; swapped by deployments.
    pub policies: LivePolicies,
    pub deployments: Deployments,
    pub writer: OrderWriter,
    pub tokens: auth::TokenCache,
    pub alerts: AlertSettings,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Services>);

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .merge(orders::router())
        .merge(inventory::router())
        .merge(catalogue::router())
        .merge(payments::router())
        .merge(claims::router())
        .merge(transfers::router())
        .merge(alerts::router())
        .merge(dashboard::router())
        .merge(policies::router())
        .merge(registry::router())
        .merge(deployments::router())
        .merge(replays::router())
        .merge(tokens::router());
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .fallback(|| async { ApiError::not_found("route", "(no such endpoint)") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Ready once migrations ran (they run before the server binds) and the
/// database answers.
async fn ready(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    sqlx::query("SELECT 1")
        .execute(&state.store.pool)
        .await
        .map_err(|err| (StatusCode::SERVICE_UNAVAILABLE, format!("database: {err}")))?;
    Ok(Json(serde_json::json!({
        "status": "ready",
        "regions": state.policies.current().regions.len(),
    })))
}
