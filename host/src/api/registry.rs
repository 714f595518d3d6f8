//! `/v1/plugins`: publish a signed component to the registry, list and
//! read manifests. The bytes go in as the raw body (`application/wasm`),
//! the signature in the `Chanhost-Signature` header.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::Params;
use super::page;
use super::{ApiError, ApiResult, AppState, Caller};
use crate::service::deployments;
use crate::store::registry::{self, Manifest};

/// Largest component the upload route reads; the engine's own limit
/// (`[limits] max_component_bytes`) is checked when it loads.
const MAX_UPLOAD_BYTES: usize = 32 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/plugins",
            post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
                .get(list),
        )
        .route("/plugins/{hash}", get(show))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Page {
    plugins: Vec<Manifest>,
    next_cursor: Option<String>,
}

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
