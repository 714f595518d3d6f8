//! `/v1/dashboard`: the national view per regional center — orders by
//! status (all time and today), GMV, stock against target and open alerts.
//! HQ gets every region, a region admin their own. Three GROUP BY queries,
//! whatever the number of regions.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::inventory::region_scope;
use super::json::Params;
use super::openapi::{Forbidden, Invalid};
use super::{ApiError, ApiResult, AppState, Caller};
use crate::store::{StoreResult, alerts, inventory, now_ms};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard))
}

/// China Standard Time, where the reference brand's day starts.
const DEFAULT_TZ_OFFSET_MINUTES: i64 = 480;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DashboardQuery {
    /// One region (HQ); a region admin always gets their own.
    region: Option<String>,
    /// Where "today" starts: minutes east of UTC (default 480, UTC+8).
    #[param(minimum = -840, maximum = 840)]
    tz_offset_minutes: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct OrderCounts {
    total: i64,
    by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct Gmv {
    /// Fen: totals of orders not cancelled or rejected.
    all_time: i64,
    today: i64,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct StockLevel {
    on_hand: i64,
    reserved: i64,
    available: i64,
    target: i64,
    /// Available as a share of target, in basis points (null without target).
    share_of_target_bp: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct RegionRow {
    region: String,
    name: String,
    orders: OrderCounts,
    orders_today: OrderCounts,
    gmv: Gmv,
    /// The region's own warehouses (regional DCs, dealers' and stores'),
    /// not HQ's.
    stock: StockLevel,
    open_alerts: BTreeMap<String, i64>,
    open_alerts_total: i64,
}

/// Per regional center: orders, GMV, stock and open alerts.
#[derive(Debug, Serialize, ToSchema)]
struct Dashboard {
    generated_at: i64,
    /// Start of "today" (ms since the epoch).
    today_from: i64,
    regions: Vec<RegionRow>,
}

/// Orders per region and status: `(region, status, count, count today,
/// total, total today)`.
async fn order_totals(
    conn: &mut AnyConnection,
    today_from: i64,
    region: Option<&str>,
) -> StoreResult<Vec<(String, String, i64, i64, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT region, status, COUNT(*), \
                COALESCE(CAST(SUM(CASE WHEN placed_at >= $1 THEN 1 ELSE 0 END) AS BIGINT), 0), \
                COALESCE(CAST(SUM(total) AS BIGINT), 0), \
                COALESCE(CAST(SUM(CASE WHEN placed_at >= $1 THEN total ELSE 0 END) AS BIGINT), 0) \
         FROM orders WHERE ($2 = '' OR region = $2) GROUP BY region, status",
    )
    .bind(today_from)
    .bind(region.unwrap_or(""))
    .fetch_all(conn)
    .await?)
}

/// The national dashboard
///
/// Per regional center: orders by status (all time and today), GMV (fen),
/// stock against target, open alerts. HQ gets every region, a region admin
/// their own.
#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "dashboard",
    params(
        DashboardQuery,
    ),
    responses(
        (status = 200, description = "The figures.", body = Dashboard),
        Forbidden, Invalid,
    ),
)]
async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let region = region_scope(&caller, q.region, "the dashboard")?;
    if let Some(region) = &region
        && !state.brand.regions.contains_key(region)
    {
        return Err(ApiError::invalid(
            "?region",
            format!("unknown region {region}"),
        ));
    }
    let offset = q.tz_offset_minutes.unwrap_or(DEFAULT_TZ_OFFSET_MINUTES);
    if !(-14 * 60..=14 * 60).contains(&offset) {
        return Err(ApiError::invalid(
            "?tz_offset_minutes",
            "between -840 and 840",
        ));
    }
    let now = now_ms();
    let offset_ms = offset * 60_000;
    let today_from = (now + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;

    let mut rows: BTreeMap<String, RegionRow> = state
        .brand
        .regions
        .iter()
        .filter(|(id, _)| region.as_ref().is_none_or(|r| r == *id))
        .map(|(id, file)| {
            (
                id.clone(),
                RegionRow {
                    region: id.clone(),
                    name: file.region.name.clone(),
                    ..RegionRow::default()
                },
            )
        })
        .collect();
    let mut conn = state.store.pool.acquire().await?;
    for (region, status, count, today, total, total_today) in
        order_totals(&mut conn, today_from, region.as_deref()).await?
    {
        let Some(row) = rows.get_mut(&region) else {
            continue;
        };
        row.orders.total += count;
        row.orders.by_status.insert(status.clone(), count);
        if today > 0 {
            row.orders_today.total += today;
            row.orders_today.by_status.insert(status.clone(), today);
        }
        if status != "cancelled" && status != "rejected" {
            row.gmv.all_time += total;
            row.gmv.today += total_today;
        }
    }
    for (region, on_hand, reserved, target) in
        inventory::region_totals(&mut conn, region.as_deref()).await?
    {
        let Some(row) = rows.get_mut(&region) else {
            continue;
        };
        let available = on_hand - reserved;
        row.stock = StockLevel {
            on_hand,
            reserved,
            available,
            target,
            share_of_target_bp: (target > 0).then(|| available * 10_000 / target),
        };
    }
    for (region, kind, count) in alerts::open_counts(&mut conn, region.as_deref()).await? {
        let Some(row) = rows.get_mut(&region) else {
            continue;
        };
        row.open_alerts_total += count;
        row.open_alerts.insert(kind, count);
    }
    Ok(Json(Dashboard {
        generated_at: now,
        today_from,
        regions: rows.into_values().collect(),
    }))
}
