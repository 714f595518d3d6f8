//! The web console: a single-page app (plain HTML, CSS and ES modules in
//! `host/console/`) embedded in the binary and served under `/console/`.
//! It talks only to the JSON API under `/v1`, with the token the person
//! signs in with; nothing here knows about roles.
//!
//! The asset names carry no content hash, so browsers must revalidate:
//! every answer has `Cache-Control: no-cache` and an `ETag` (the file's
//! SHA-256), and a matching `If-None-Match` gets an empty 304.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;

use super::json::Path;
use super::{ApiError, AppState};

#[derive(Embed)]
#[folder = "console/"]
struct Assets;

/// Scripts, styles and the API from this origin only; no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(index))
        .route("/console/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers).unwrap_or_else(|| {
        ApiError::Internal("the console's index.html is not embedded".into()).into_response()
    })
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
        .unwrap_or_else(|| ApiError::not_found("console asset", path).into_response())
}

/// The embedded file at `path` with its headers, or `None` if there is none.
fn serve(path: &str, request: &HeaderMap) -> Option<Response> {
    // rust-embed only knows the embedded paths, so `..` cannot escape the
    // folder; refusing it anyway keeps the answer a plain 404.
    if path.split('/').any(|part| part == "..") {
        return None;
    }
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return Some((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        content_type(path, file.metadata.mimetype()),
    );
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    Some((StatusCode::OK, headers, file.data.into_owned()).into_response())
}

/// The type a browser needs: ES modules must be served as JavaScript, and
/// text gets its charset.
fn content_type(path: &str, guessed: &str) -> HeaderValue {
    let value = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8".to_string(),
        Some("css") => "text/css; charset=utf-8".to_string(),
        Some("html") => "text/html; charset=utf-8".to_string(),
        Some("svg") => "image/svg+xml".to_string(),
        _ if guessed.starts_with("text/") => format!("{guessed}; charset=utf-8"),
        _ => guessed.to_string(),
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_index_loads_is_embedded() {
        let index = Assets::get("index.html").expect("index.html");
        let index = String::from_utf8(index.data.into_owned()).unwrap();
        assert!(index.contains("js/app.js"), "{index}");
        for name in Assets::iter() {
            assert!(!name.contains(".."), "{name}");
        }
        assert!(Assets::get("js/app.js").is_some());
        assert!(Assets::get("style.css").is_some());
    }

    #[test]
    fn modules_are_javascript_and_text_has_a_charset() {
        assert_eq!(
            content_type("js/app.js", "application/javascript"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("style.css", "text/css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("logo.png", "image/png"), "image/png");
    }

    #[test]
    fn a_matching_etag_answers_304_and_unknown_paths_none() {
        let first = serve("index.html", &HeaderMap::new()).unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert!(
            first
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
        let etag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("index.html", &again).unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
        assert!(serve("nope.js", &HeaderMap::new()).is_none());
        assert!(serve("../Cargo.toml", &HeaderMap::new()).is_none());
    }
}
