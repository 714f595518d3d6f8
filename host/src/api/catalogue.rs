//! Reference data: HQ's catalogue, the regional centers, warehouses and
//! dealers. Anyone signed in reads the catalogue and regions; warehouses
//! and dealers follow the caller's reach.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{Params, Path};
use super::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound};
use super::{ApiError, ApiResult, AppState, Body, Caller, FieldProblem, Role};
use crate::domain::{CustomerClass, Dealer, DealerTier, Product, WarehouseLevel};
use crate::store::catalogue::{self, WarehouseView};
use crate::store::dealers::{self, DealerView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(products))
        .routes(routes!(product))
        .routes(routes!(regions))
        .routes(routes!(region))
        .routes(routes!(warehouses, add_warehouse))
        .routes(routes!(list_dealers, add_dealer))
        .routes(routes!(dealer, edit_dealer))
        .routes(routes!(me))
}

/// Who am I
///
/// The token's name and role (and region or dealer).
#[utoipa::path(
    get,
    path = "/me",
    tag = "catalogue",
    responses(
        (status = 200, description = "The caller.", body = Caller),
    ),
)]
async fn me(caller: Caller) -> Json<Caller> {
    Json(caller)
}

/// The catalogue
///
/// HQ's products with base prices (fen per case).
#[utoipa::path(
    get,
    path = "/catalogue",
    tag = "catalogue",
    responses(
        (status = 200, description = "Every product.", body = Vec<Product>),
    ),
)]
async fn products(State(state): State<AppState>, _caller: Caller) -> Json<Vec<Product>> {
    Json(state.brand.catalogue.values().cloned().collect())
}

/// One product
#[utoipa::path(
    get,
    path = "/catalogue/{sku}",
    tag = "catalogue",
    params(
        ("sku" = String, Path, description = "SKU, e.g. `BJ-001`"),
    ),
    responses(
        (status = 200, description = "The product.", body = Product),
        NotFound,
    ),
)]
async fn product(
    State(state): State<AppState>,
    _caller: Caller,
    Path(sku): Path<String>,
) -> ApiResult<Json<Product>> {
    state
        .brand
        .catalogue
        .get(&sku)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found("SKU", sku))
}

/// A regional center as the API shows it.
#[derive(Serialize, ToSchema)]
struct RegionView {
    id: String,
    name: String,
    /// Neighbours in order of preference (rank 1 first).
    neighbours: Vec<String>,
    /// Price adjustment for the whole region, in basis points.
    price_adjustment_bp: i32,
    /// Price adjustments per SKU, in basis points.
    sku_adjustment_bp: std::collections::BTreeMap<String, i32>,
    /// Listed SKUs; null means the whole catalogue.
    listed: Option<Vec<String>>,
}

fn region_view(file: &crate::config::RegionFile) -> RegionView {
    let r = &file.region;
    RegionView {
        id: r.id.clone(),
        name: r.name.clone(),
        neighbours: r.neighbours.clone(),
        price_adjustment_bp: r.price_adjustment_bp,
        sku_adjustment_bp: r.sku_adjustment_bp.clone(),
        listed: r.listed.clone(),
    }
}

/// The regional centers
#[utoipa::path(
    get,
    path = "/regions",
    tag = "catalogue",
    responses(
        (status = 200, description = "Every region.", body = Vec<RegionView>),
    ),
)]
async fn regions(State(state): State<AppState>, _caller: Caller) -> Json<Vec<RegionView>> {
    Json(state.brand.regions.values().map(region_view).collect())
}

/// One regional center
#[utoipa::path(
    get,
    path = "/regions/{id}",
    tag = "catalogue",
    params(
        ("id" = String, Path, description = "Region id, e.g. `gd`"),
    ),
    responses(
        (status = 200, description = "The region.", body = RegionView),
        NotFound,
    ),
)]
async fn region(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RegionView>> {
    let file = state
        .brand
        .regions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("region", id))?;
    Ok(Json(region_view(file)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RegionQuery {
    /// One region's (HQ); a region admin always gets their own.
    region: Option<String>,
}

/// The region a caller's list is scoped to: HQ may ask for any or all.
fn scope(caller: &Caller, asked: Option<String>) -> ApiResult<Option<String>> {
    match (&caller.role, asked) {
        (Role::HqAdmin, asked) => Ok(asked),
        (Role::RegionAdmin { region }, Some(asked)) if &asked != region => {
            Err(ApiError::forbidden(format!(
                "a region admin of {region} may not view region {asked}"
            )))
        }
        (Role::RegionAdmin { region }, _) => Ok(Some(region.clone())),
        (Role::Dealer { .. }, _) => Err(ApiError::forbidden(
            "dealers may not list warehouses or dealers",
        )),
    }
}

/// List warehouses
///
/// At four levels (HQ, region, dealer, store); HQ all or one region's, a
/// region admin their region's.
#[utoipa::path(
    get,
    path = "/warehouses",
    tag = "catalogue",
    params(
        RegionQuery,
    ),
    responses(
        (status = 200, description = "The warehouses.", body = Vec<WarehouseView>),
        Forbidden, Invalid,
    ),
)]
async fn warehouses(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<RegionQuery>,
) -> ApiResult<Json<Vec<WarehouseView>>> {
    let region = scope(&caller, q.region)?;
    Ok(Json(
        catalogue::warehouses(&state.store, region.as_deref()).await?,
    ))
}

/// List dealers
///
/// HQ all or one region's, a region admin their region's.
#[utoipa::path(
    get,
    path = "/dealers",
    tag = "catalogue",
    params(
        RegionQuery,
    ),
    responses(
        (status = 200, description = "The dealers.", body = Vec<DealerView>),
        Forbidden, Invalid,
    ),
)]
async fn list_dealers(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<RegionQuery>,
) -> ApiResult<Json<Vec<DealerView>>> {
    let region = scope(&caller, q.region)?;
    Ok(Json(
        dealers::list(&state.store.pool, region.as_deref()).await?,
    ))
}

/// One dealer
///
/// HQ, its region's admin, or the dealer itself.
#[utoipa::path(
    get,
    path = "/dealers/{id}",
    tag = "catalogue",
    params(
        ("id" = String, Path, description = "Dealer id, e.g. `D-GD-0001`"),
    ),
    responses(
        (status = 200, description = "The dealer.", body = DealerView),
        Forbidden, NotFound,
    ),
)]
async fn dealer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DealerView>> {
    let dealer = dealers::get(&state.store.pool, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("dealer", id))?;
    caller.require_party(&dealer.dealer.id, &dealer.dealer.region, "see this dealer")?;
    Ok(Json(dealer))
}

/// Add a warehouse
///
/// HQ, or the region's admin for their region.
#[utoipa::path(
    post,
    path = "/warehouses",
    tag = "catalogue",
    request_body = WarehouseView,
    responses(
        (status = 201, description = "The warehouse.", body = WarehouseView),
        JsonBody, Forbidden, Conflict,
    ),
)]
async fn add_warehouse(
    State(state): State<AppState>,
    caller: Caller,
    Body(warehouse): Body<WarehouseView>,
) -> ApiResult<(StatusCode, Json<WarehouseView>)> {
    caller.require_admin_of(&warehouse.region, "add warehouses")?;
    let mut problems = Vec::new();
    if warehouse.id.trim().is_empty() {
        problems.push(FieldProblem::new("/id", "must not be empty"));
    }
    if !state.brand.regions.contains_key(&warehouse.region) {
        problems.push(FieldProblem::new(
            "/region",
            format!("unknown region {}", warehouse.region),
        ));
    }
    let owned = matches!(
        warehouse.level,
        WarehouseLevel::Dealer | WarehouseLevel::Store
    );
    match (&warehouse.owner, owned) {
        (Some(owner), true) => {
            if dealers::get(&state.store.pool, owner).await?.is_none() {
                problems.push(FieldProblem::new(
                    "/owner",
                    format!("unknown dealer or store {owner}"),
                ));
            }
        }
        (None, true) => problems.push(FieldProblem::new(
            "/owner",
            "a dealer- or store-level warehouse names who holds it",
        )),
        (Some(_), false) => problems.push(FieldProblem::new(
            "/owner",
            "only dealer- and store-level warehouses have an owner",
        )),
        (None, false) => {}
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let mut conn = state.store.pool.acquire().await?;
    if !catalogue::insert_warehouse(&mut conn, &warehouse).await? {
        return Err(ApiError::conflict(
            format!("warehouse {} already exists", warehouse.id),
            vec![],
        ));
    }
    Ok((StatusCode::CREATED, Json(warehouse)))
}

/// A dealer's or store's profile as HQ or its center sets it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DealerProfile {
    id: String,
    name: String,
    region: String,
    tier: DealerTier,
    class: CustomerClass,
    /// Territories it may ship to; its own region when absent.
    #[serde(default)]
    territory: Option<Vec<String>>,
    /// Fen; not negative.
    credit_limit: i64,
    /// Usual order size, in cases.
    usual_order_cases: i64,
}

impl DealerProfile {
    fn check(self, state: &AppState) -> ApiResult<DealerView> {
        let mut problems = Vec::new();
        if self.id.trim().is_empty() {
            problems.push(FieldProblem::new("/id", "must not be empty"));
        }
        if self.name.trim().is_empty() {
            problems.push(FieldProblem::new("/name", "must not be empty"));
        }
        if !state.brand.regions.contains_key(&self.region) {
            problems.push(FieldProblem::new(
                "/region",
                format!("unknown region {}", self.region),
            ));
        }
        let territory = self.territory.unwrap_or_else(|| vec![self.region.clone()]);
        if territory.is_empty() {
            problems.push(FieldProblem::new("/territory", "at least one territory"));
        }
        for (i, t) in territory.iter().enumerate() {
            if !state.brand.regions.contains_key(t) {
                problems.push(FieldProblem::new(
                    format!("/territory/{i}"),
                    format!("unknown territory {t}"),
                ));
            }
        }
        if self.credit_limit < 0 {
            problems.push(FieldProblem::new(
                "/credit_limit",
                "must not be negative (fen)",
            ));
        }
        if !(0..=u32::MAX as i64).contains(&self.usual_order_cases) {
            problems.push(FieldProblem::new(
                "/usual_order_cases",
                "must be a non-negative number of cases",
            ));
        }
        if !problems.is_empty() {
            return Err(ApiError::invalid_fields(problems));
        }
        Ok(DealerView {
            name: self.name.trim().to_string(),
            dealer: Dealer {
                id: self.id.trim().to_string(),
                region: self.region,
                tier: self.tier,
                class: self.class,
                territory,
                credit_limit: self.credit_limit,
                outstanding_balance: 0,
                usual_order_cases: self.usual_order_cases as u32,
            },
        })
    }
}

/// Add a dealer or store
///
/// HQ, or the region's admin for their region. Its balance starts at 0.
#[utoipa::path(
    post,
    path = "/dealers",
    tag = "catalogue",
    request_body = DealerProfile,
    responses(
        (status = 201, description = "The dealer.", body = DealerView),
        JsonBody, Forbidden, Conflict,
    ),
)]
async fn add_dealer(
    State(state): State<AppState>,
    caller: Caller,
    Body(profile): Body<DealerProfile>,
) -> ApiResult<(StatusCode, Json<DealerView>)> {
    caller.require_admin_of(&profile.region, "add dealers")?;
    let dealer = profile.check(&state)?;
    let mut conn = state.store.pool.acquire().await?;
    if !dealers::insert(&mut conn, &dealer).await? {
        return Err(ApiError::conflict(
            format!("dealer {} already exists", dealer.dealer.id),
            vec![],
        ));
    }
    Ok((StatusCode::CREATED, Json(dealer)))
}

/// Replace a dealer's profile
///
/// Not its balance, which payments move, nor its region: a dealer changing
/// centers is a new dealer.
#[utoipa::path(
    patch,
    path = "/dealers/{id}",
    tag = "catalogue",
    params(
        ("id" = String, Path, description = "Dealer id, e.g. `D-GD-0001`"),
    ),
    request_body = DealerProfile,
    responses(
        (status = 200, description = "The dealer as it now stands.", body = DealerView),
        JsonBody, Forbidden, NotFound,
    ),
)]
async fn edit_dealer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(profile): Body<DealerProfile>,
) -> ApiResult<Json<DealerView>> {
    let current = dealers::get(&state.store.pool, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("dealer", id.clone()))?;
    caller.require_admin_of(&current.dealer.region, "edit dealers")?;
    if profile.id != id {
        return Err(ApiError::invalid(
            "/id",
            format!("the body is for {}, the path for {id}", profile.id),
        ));
    }
    if profile.region != current.dealer.region {
        return Err(ApiError::invalid(
            "/region",
            "a dealer's region cannot change; add it to the new region instead",
        ));
    }
    let mut dealer = profile.check(&state)?;
    dealer.dealer.outstanding_balance = current.dealer.outstanding_balance;
    let mut conn = state.store.pool.acquire().await?;
    dealers::update_profile(&mut conn, &dealer).await?;
    let updated = dealers::get(&mut *conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("dealer", id))?;
    Ok(Json(updated))
}
