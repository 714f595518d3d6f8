//! `/metrics` and the HTTP middleware that feeds it. The middleware sits
//! behind routing (`route_layer`) so it sees the route template, not the
//! raw path; requests no route matched are counted by the fallback's
//! `(unmatched)` label instead.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::{ApiResult, AppState};
use crate::metrics::{
    OrderStatusLabels, PoolLabels, QuarantineLabels, ResponseLabels, RouteLabels,
};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus scrape target: unauthenticated, like `/healthz`, so put it
/// on a network only the monitoring system reaches.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Metrics in the OpenMetrics text format.", body = String, content_type = "application/openmetrics-text"),
        super::openapi::Internal,
    ),
)]
pub async fn serve(State(state): State<AppState>) -> ApiResult<Response> {
    refresh_gauges(&state).await?;
    Ok((
        [(header::CONTENT_TYPE, OPENMETRICS)],
        state.metrics.encode(),
    )
        .into_response())
}

/// Reads what is better read than counted: orders by status from the
/// database (every host sharing it reports the same), quarantines from the
/// circuit breaker, and the pool.
async fn refresh_gauges(state: &AppState) -> ApiResult<()> {
    let metrics = &state.metrics;
    let rows = sqlx::query("SELECT region, status, COUNT(*) FROM orders GROUP BY region, status")
        .fetch_all(&state.store.pool)
        .await?;
    metrics.orders_by_status.clear();
    for row in rows {
        metrics
            .orders_by_status
            .get_or_create(&OrderStatusLabels {
                region: row.try_get(0)?,
                status: row.try_get(1)?,
            })
            .set(row.try_get(2)?);
    }

    metrics.quarantined.clear();
    for health in state.policies.current().breaker.snapshot() {
        if health.quarantined {
            metrics
                .quarantined
                .get_or_create(&QuarantineLabels {
                    kind: health.plugin.kind.to_string(),
                    plugin: health.plugin.name,
                    version: health.plugin.version,
                })
                .set(1);
        }
    }

    let pool = &state.store.pool;
    let idle = pool.num_idle() as i64;
    let size = i64::from(pool.size());
    for (name, value) in [("idle", idle), ("in_use", size - idle)] {
        metrics
            .pool_connections
            .get_or_create(&PoolLabels {
                state: name.to_owned(),
            })
            .set(value);
    }
    metrics
        .pool_max
        .set(i64::from(pool.options().get_max_connections()));
    Ok(())
}

/// Counts and times every routed request by its route template.
pub async fn track(
    State(state): State<AppState>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = route.map_or_else(|| "(unmatched)".to_owned(), |r| r.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .http_duration
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&ResponseLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
