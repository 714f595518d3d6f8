//! HTTP routes for alerts (being written).

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
