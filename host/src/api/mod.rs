//! The JSON API under `/v1`: one router per resource, merged here; the
//! caller extractor in `auth`, the error type in `error`. Handlers stay
//! thin: parse, authorise, one call into `service` or `store`.

#[macro_use]
mod transitions;

pub mod alerts;
pub mod auth;
pub mod catalogue;
pub mod claims;
pub mod console;
pub mod dashboard;
pub mod deployments;
pub mod error;
pub mod health;
pub mod inventory;
pub mod json;
pub mod metrics;
pub mod openapi;
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

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::config::BrandConfig;
use crate::metrics::Metrics;
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
    pub metrics: Arc<Metrics>,
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
    let (documented, doc) = documented();
    Router::new()
        .merge(documented)
        .merge(openapi::router(doc))
        .merge(console::router())
        .route("/metrics", get(metrics::serve))
        .fallback(|| async { ApiError::not_found("route", "(no such endpoint)") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every route that is in the OpenAPI document, and the document: `/v1`
/// (each resource's router) and the health checks. A route registered with
/// `routes!` cannot lack its `#[utoipa::path]`.
pub fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
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
    let (router, doc) = OpenApiRouter::with_openapi(openapi::base())
        .nest("/v1", v1)
        .merge(health::router())
        .split_for_parts();
    (router, openapi::finish(doc))
}
