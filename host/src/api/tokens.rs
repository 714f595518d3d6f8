//! `/v1/tokens`: HQ issues API tokens. The plain token is shown once, in
//! the response; the store keeps only its hash.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::hash_token;
use super::openapi::{Forbidden, JsonBody};
use super::{ApiError, ApiResult, AppState, Body, Caller, Role};
use crate::store::{dealers, tokens};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue))
}

/// The body of `POST /v1/tokens`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueToken {
    /// Who holds it; recorded as the actor of what it does.
    name: String,
    /// `hq_admin`, `region_admin` (with `region`) or `dealer` (with `dealer_id`).
    role: String,
    region: Option<String>,
    dealer_id: Option<String>,
}

/// A new token: shown once, stored only as its hash.
#[derive(Serialize, ToSchema)]
struct Issued {
    /// The bearer token, `chk_…`.
    token: String,
    name: String,
    #[serde(flatten)]
    role: Role,
}

/// Issue an API token
///
/// HQ only. The plain token is in this answer and nowhere else.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    request_body = IssueToken,
    responses(
        (status = 201, description = "The token.", body = Issued),
        JsonBody, Forbidden,
    ),
)]
async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<IssueToken>,
) -> ApiResult<(StatusCode, Json<Issued>)> {
    caller.require_hq("issue API tokens")?;
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("/name", "must not be empty"));
    }
    let role = match (request.role.as_str(), request.region, request.dealer_id) {
        ("hq_admin", None, None) => Role::HqAdmin,
        ("region_admin", Some(region), None) => {
            if !state.brand.regions.contains_key(&region) {
                return Err(ApiError::invalid(
                    "/region",
                    format!("unknown region {region}"),
                ));
            }
            Role::RegionAdmin { region }
        }
        ("dealer", None, Some(dealer_id)) => {
            let dealer = dealers::get(&state.store.pool, &dealer_id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid("/dealer_id", format!("unknown dealer {dealer_id}"))
                })?;
            Role::Dealer {
                dealer_id,
                region: dealer.dealer.region,
            }
        }
        ("hq_admin" | "region_admin" | "dealer", ..) => {
            return Err(ApiError::invalid(
                "/role",
                "hq_admin takes neither region nor dealer_id; region_admin takes region; dealer takes dealer_id",
            ));
        }
        (other, ..) => {
            return Err(ApiError::invalid(
                "/role",
                format!("unknown role {other}; use hq_admin, region_admin or dealer"),
            ));
        }
    };
    let token = format!("chk_{}", uuid::Uuid::new_v4().simple());
    let mut conn = state.store.pool.acquire().await?;
    tokens::insert(&mut conn, &hash_token(&token), request.name.trim(), &role).await?;
    Ok((
        StatusCode::CREATED,
        Json(Issued {
            token,
            name: request.name.trim().to_string(),
            role,
        }),
    ))
}
