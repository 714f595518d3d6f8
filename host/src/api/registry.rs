//! `/v1/plugins`: publish a signed component to the registry, list and
//! read manifests. The bytes go in as the raw body (`application/wasm`),
//! the signature in the `Chanhost-Signature` header.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{Params, Path};
use super::openapi::{BadRequest, Forbidden, Invalid, NotFound, TooLarge};
use super::page;
use super::{ApiError, ApiResult, AppState, Caller};
use crate::service::deployments;
use crate::store::registry::{self, Manifest};

/// Largest component the upload route reads; the engine's own limit
/// (`[limits] max_component_bytes`) is checked when it loads.
const MAX_UPLOAD_BYTES: usize = 32 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    // Components are larger than JSON bodies: the upload alone reads more.
    let (schemas, paths, upload) = routes!(upload);
    OpenApiRouter::new()
        .routes((
            schemas,
            paths,
            upload.layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        ))
        .routes(routes!(list))
        .routes(routes!(show))
}

/// A WebAssembly component's bytes, as a request body's schema.
struct WasmComponent;

impl utoipa::PartialSchema for WasmComponent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .content_media_type("application/wasm")
            .into()
    }
}

impl ToSchema for WasmComponent {}

/// Publish a plugin component
///
/// The signed WebAssembly component as the raw body, its signature in the
/// `Chanhost-Signature` header. HQ only. Uploading bytes the registry
/// already holds answers their manifest with 200.
#[utoipa::path(
    post,
    path = "/plugins",
    tag = "registry",
    params(
        ("Chanhost-Signature" = Option<String>, Header, description = "The ed25519 signature `chanhost plugin sign` wrote, as visible ASCII; required unless HQ trusts unsigned uploads."),
    ),
    request_body(content = WasmComponent, content_type = "application/wasm", description = "The component bytes (at most 32 MiB)."),
    responses(
        (status = 201, description = "Stored; its manifest.", body = Manifest),
        (status = 200, description = "Already stored; its manifest.", body = Manifest),
        BadRequest, Forbidden, TooLarge, Invalid,
    ),
)]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<Manifest>)> {
    let wasm = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: MAX_UPLOAD_BYTES,
            }
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/wasm") {
        return Err(ApiError::bad_request(format!(
            "send the component as the body with Content-Type: application/wasm (got {content_type:?})"
        )));
    }
    let signature = match headers.get("chanhost-signature") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::invalid("Chanhost-Signature", "not visible ASCII"))?,
        ),
        None => None,
    };
    let (manifest, created) =
        deployments::upload(&state, &caller, wasm.to_vec(), signature).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(manifest)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Manifests per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of the registry, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = PluginPage)]
struct Page {
    plugins: Vec<Manifest>,
    next_cursor: Option<String>,
}

/// List the registry
///
/// Newest first.
#[utoipa::path(
    get,
    path = "/plugins",
    tag = "registry",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "One page of manifests.", body = Page),
        Invalid,
    ),
)]
async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Page>> {
    let limit = page::limit(q.limit, 100, 500)?;
    let after = page::decode_time_cursor(q.cursor.as_deref())?;
    let mut conn = state.store.pool.acquire().await?;
    let mut plugins = registry::list(&mut conn, after, limit + 1).await?;
    let next_cursor = page::cut(&mut plugins, limit, |m| {
        page::time_cursor(m.uploaded_at, &m.hash)
    });
    Ok(Json(Page {
        plugins,
        next_cursor,
    }))
}

/// One component's manifest
#[utoipa::path(
    get,
    path = "/plugins/{hash}",
    tag = "registry",
    params(
        ("hash" = String, Path, description = "Content hash, hex, with or without `sha256:`"),
    ),
    responses(
        (status = 200, description = "The manifest.", body = Manifest),
        NotFound,
    ),
)]
async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    Path(hash): Path<String>,
) -> ApiResult<Json<Manifest>> {
    let hash = hash.strip_prefix("sha256:").unwrap_or(&hash).to_string();
    let mut conn = state.store.pool.acquire().await?;
    registry::get(&mut conn, &hash)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("plugin", hash))
}
