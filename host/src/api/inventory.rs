//! HTTP routes for inventory (being written).

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
