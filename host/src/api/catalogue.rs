//! Reference data: HQ's catalogue, the regional centers, warehouses and
//! dealers. Anyone signed in reads the catalogue and regions; warehouses
//! and dealers follow the caller's reach.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::json::Params;
use super::{ApiError, ApiResult, AppState, Caller, Role};
use crate::domain::Product;
use crate::store::catalogue::{self, WarehouseView};
use crate::store::dealers::{self, DealerView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalogue", get(products))
        .route("/catalogue/{sku}", get(product))
        .route("/regions", get(regions))
        .route("/regions/{id}", get(region))
        .route("/warehouses", get(warehouses))
        .route("/dealers", get(list_dealers))
        .route("/dealers/{id}", get(dealer))
        .route("/me", get(me))
}

async fn me(caller: Caller) -> Json<Caller> {
    Json(caller)
}

async fn products(State(state): State<AppState>, _caller: Caller) -> Json<Vec<Product>> {
    Json(state.brand.catalogue.values().cloned().collect())
}

async fn product(State(state): State<AppState>, _caller: Caller, Path(sku): Path<String>) -> ApiResult<Json<Product>> {
    state.brand.catalogue.get(&sku).cloned().map(Json).ok_or_else(|| ApiError::not_found("SKU", sku))
}

/// A regional center as the API shows it.
#[derive(serde::Serialize)]
struct RegionView<'a> {
    id: &'a str,
    name: &'a str,
    /// Neighbours in order of preference (rank 1 first).
    neighbours: &'a [String],
    price_adjustment_bp: i32,
    sku_adjustment_bp: &'a std::collections::BTreeMap<String, i32>,
    /// Listed SKUs; absent means the whole catalogue.
    listed: Option<&'a [String]>,
}

fn region_view(file: &crate::config::RegionFile) -> RegionView<'_> {
    let r = &file.region;
    RegionView {
        id: &r.id,
        name: &r.name,
        neighbours: &r.neighbours,
        price_adjustment_bp: r.price_adjustment_bp,
        sku_adjustment_bp: &r.sku_adjustment_bp,
        listed: r.listed.as_deref(),
    }
}

async fn regions(State(state): State<AppState>, _caller: Caller) -> Json<serde_json::Value> {
    let regions: Vec<_> = state.brand.regions.values().map(region_view).collect();
    Json(serde_json::to_value(regions).expect("json"))
}

async fn region(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let file = state.brand.regions.get(&id).ok_or_else(|| ApiError::not_found("region", id))?;
    Ok(Json(serde_json::to_value(region_view(file)).expect("json")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionQuery {
    region: Option<String>,
}

/// The region a caller's list is scoped to: HQ may ask for any or all.
fn scope(caller: &Caller, asked: Option<String>) -> ApiResult<Option<String>> {
    match (&caller.role, asked) {
        (Role::HqAdmin, asked) => Ok(asked),
        (Role::RegionAdmin { region }, Some(asked)) if &asked != region => {
            Err(ApiError::forbidden(format!("a region admin of {region} may not view region {asked}")))
        }
        (Role::RegionAdmin { region }, _) => Ok(Some(region.clone())),
        (Role::Dealer { .. }, _) => Err(ApiError::forbidden("dealers may not list warehouses or dealers")),
    }
}

async fn warehouses(State(state): State<AppState>, caller: Caller, Params(q): Params<RegionQuery>) -> ApiResult<Json<Vec<WarehouseView>>> {
    let region = scope(&caller, q.region)?;
    Ok(Json(catalogue::warehouses(&state.store, region.as_deref()).await?))
}

async fn list_dealers(State(state): State<AppState>, caller: Caller, Params(q): Params<RegionQuery>) -> ApiResult<Json<Vec<DealerView>>> {
    let region = scope(&caller, q.region)?;
    Ok(Json(dealers::list(&state.store.pool, region.as_deref()).await?))
}

async fn dealer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<DealerView>> {
    let dealer = dealers::get(&state.store.pool, &id).await?.ok_or_else(|| ApiError::not_found("dealer", id))?;
    caller.require_party(&dealer.dealer.id, &dealer.dealer.region, "see this dealer")?;
    Ok(Json(dealer))
}
