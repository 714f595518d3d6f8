//! `/v1/alerts`: the stock and production alerts the scanner raises, a
//! person's resolution with a note, and HQ's "scan now".

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::inventory::region_scope;
use super::json::Params;
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller};
use crate::service::alerts::{self, ScanSummary};
use crate::store::alerts::{self as store, AlertFilter, AlertKind, AlertStatus, AlertView};
use crate::store::now_ms;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/scan", post(scan))
        .route("/alerts/{id}", get(show))
        .route("/alerts/{id}/resolve", post(resolve))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    kind: Option<AlertKind>,
    status: Option<AlertStatus>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Page {
    alerts: Vec<AlertView>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Page>> {
    let limit = page::limit(q.limit, 100, 1000)?;
    let region = region_scope(&caller, q.region, "alerts")?;
    let mut conn = state.store.pool.acquire().await?;
    let filter = AlertFilter {
        region: region.as_deref(),
        kind: q.kind,
        status: q.status,
        before: q.cursor.as_deref(),
        limit: i64::from(limit) + 1,
    };
    let mut alerts = store::list(&mut conn, &filter).await?;
    let next_cursor = page::cut(&mut alerts, limit, |a| a.id.clone());
    Ok(Json(Page {
        alerts,
        next_cursor,
    }))
}

async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AlertView> {
    let mut conn = state.store.pool.acquire().await?;
    let alert = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert", id))?;
    caller.require_region_view(&alert.region)?;
    Ok(alert)
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(visible(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolve {
    /// What was done about it.
    note: String,
}

async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(r): Body<Resolve>,
) -> ApiResult<Json<AlertView>> {
    let alert = visible(&state, &caller, &id).await?;
    caller.require_admin_of(&alert.region, "resolve alerts")?;
    let note = r.note.trim();
    if note.is_empty() || note.len() > 1000 {
        return Err(ApiError::invalid(
            "/note",
            "say what was done about the alert (1–1000 bytes)",
        ));
    }
    let mut tx = state.store.begin_write().await?;
    let resolved = store::resolve(&mut tx, &id, &caller.actor(), note, now_ms()).await?;
    tx.commit().await?;
    if !resolved {
        return Err(ApiError::conflict(
            format!("alert {id} is already resolved"),
            Vec::new(),
        ));
    }
    Ok(Json(visible(&state, &caller, &id).await?))
}

/// Runs a scan now (HQ): what the periodic scanner does, answered at once.
async fn scan(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ScanSummary>> {
    caller.require_hq("run an alert scan")?;
    Ok(Json(alerts::scan(&state).await?))
}
