//! `/v1/alerts`: the stock and production alerts the scanner raises, a
//! person's resolution with a note, and HQ's "scan now".

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::inventory::region_scope;
use super::json::{Params, Path};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::page;
use super::{ApiError, ApiResult, AppState, Body, Caller};
use crate::service::alerts::{self, ScanSummary};
use crate::store::alerts::{self as store, AlertFilter, AlertKind, AlertStatus, AlertView};
use crate::store::now_ms;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(scan))
        .routes(routes!(show))
        .routes(routes!(resolve))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    #[param(inline)]
    kind: Option<AlertKind>,
    #[param(inline)]
    status: Option<AlertStatus>,
    /// Alerts per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of alerts, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = AlertPage)]
struct Page {
    alerts: Vec<AlertView>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    next_cursor: Option<String>,
}

/// List alerts
///
/// Newest first; HQ all, a region admin their region's.
#[utoipa::path(
    get,
    path = "/alerts",
    tag = "alerts",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "One page of alerts.", body = Page),
        Forbidden, Invalid,
    ),
)]
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

/// Read an alert
#[utoipa::path(
    get,
    path = "/alerts/{id}",
    tag = "alerts",
    params(
        ("id" = String, Path, description = "Alert id"),
    ),
    responses(
        (status = 200, description = "The alert.", body = AlertView),
        Forbidden, NotFound,
    ),
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(visible(&state, &caller, &id).await?))
}

/// The body of `POST /v1/alerts/{id}/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Resolve {
    /// What was done about it.
    note: String,
}

/// Resolve an alert
///
/// With a note saying what was done; HQ or the region's admin.
#[utoipa::path(
    post,
    path = "/alerts/{id}/resolve",
    tag = "alerts",
    params(
        ("id" = String, Path, description = "Alert id"),
    ),
    request_body = Resolve,
    responses(
        (status = 200, description = "The alert, resolved.", body = AlertView),
        JsonBody, Forbidden, NotFound, Conflict,
    ),
)]
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

/// Scan now
///
/// What the periodic scanner does, answered at once: raises and clears
/// alerts, drafts transfers for shortfalls. HQ only.
#[utoipa::path(
    post,
    path = "/alerts/scan",
    tag = "alerts",
    responses(
        (status = 200, description = "What the scan did.", body = ScanSummary),
        Forbidden,
    ),
)]
async fn scan(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ScanSummary>> {
    caller.require_hq("run an alert scan")?;
    Ok(Json(alerts::scan(&state).await?))
}
