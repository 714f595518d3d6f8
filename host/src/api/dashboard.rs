//! HTTP routes for dashboard (being written).

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
