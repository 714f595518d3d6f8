//! The request extractors: the JSON body (malformed JSON is a 400, JSON of
//! the wrong shape a 422 naming the field by JSON pointer, an oversized
//! body a 413), query and path parameters; all refusing with problem+json
//! rather than axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest request body the API reads (an order of a few thousand lines fits).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body of type `T`.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        parse(&bytes).map(Body)
    }
}

/// An optional JSON body: an empty body, or JSON `null`, is `None`.
pub struct OptionalBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return Ok(OptionalBody(None));
        }
        parse(&bytes).map(|value| OptionalBody(Some(value)))
    }
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: MAX_BODY_BYTES,
            }
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

/// Path parameters of type `T`. axum's own `Path` answers a segment that
/// is not UTF-8 once percent-decoded with a plain-text 400; this one with
/// the problem+json every other refusal uses.
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        if parts.uri.path().to_ascii_lowercase().contains("%00") {
            return Err(ApiError::bad_request(format!(
                "a path segment {NUL_REFUSED}"
            )));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// Query-string parameters of type `T`; a bad one is a 422 naming it.
pub struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            return Err(ApiError::invalid(format!("?{name}"), NUL_REFUSED));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Params)
            .map_err(|err| ApiError::invalid(format!("?{}", err.path()), err.inner().to_string()))
    }
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// The `Idempotency-Key` header, if sent; present but unreadable is a 400.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_LEN)
        .map(|key| Some(key.to_string()))
        .ok_or_else(|| ApiError::BadRequest {
            detail: format!(
                "Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ),
            path: Some("Idempotency-Key".into()),
        })
}

/// A 201 with `body`; a retry answered from the first request says so with
/// `idempotent-replayed: true`.
pub fn created<T: serde::Serialize>(
    body: T,
    location: Option<String>,
    replayed: bool,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (axum::http::StatusCode::CREATED, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Some(location) = location.and_then(|l| l.parse().ok()) {
        headers.insert(axum::http::header::LOCATION, location);
    }
    if replayed {
        headers.insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}

/// Why a NUL is refused: PostgreSQL cannot store it in text, and no name,
/// id or note needs it; refused alike on every backend.
const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

/// Parses a JSON document, locating any error by JSON pointer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_only(bytes)?;
    if has_nul_escape(bytes) {
        let document: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|err| ApiError::bad_request(format!("malformed JSON: {err}")))?;
        let mut at = String::new();
        if nul_pointer(&document, &mut at) {
            return Err(ApiError::invalid(
                if at.is_empty() { "/".to_string() } else { at },
                NUL_REFUSED,
            ));
        }
    }
    Ok(value)
}

/// Does the JSON text hold a `\u0000` escape (the only way a JSON
/// document carries a NUL)? Cheap enough to run on every body.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Finds the first string (key or value) holding a NUL; `at` ends as its
/// JSON pointer.
fn nul_pointer(value: &serde_json::Value, at: &mut String) -> bool {
    use serde_json::Value;
    let escaped = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = at.len();
            at.push_str(&format!("/{i}"));
            let found = nul_pointer(item, at);
            if !found {
                at.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = at.len();
            at.push('/');
            at.push_str(&escaped(key));
            let found = key.contains('\0') || nul_pointer(item, at);
            if !found {
                at.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

fn parse_only<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = pointer(err.path());
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid(path, inner.to_string()),
            _ => ApiError::BadRequest {
                detail: format!("malformed JSON: {inner}"),
                path: None,
            },
        }
    })?;
    deserializer
        .end()
        .map_err(|err| ApiError::bad_request(format!("malformed JSON: {err}")))?;
    Ok(value)
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() { "/".to_string() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }

    #[test]
    fn wrong_shape_names_the_field() {
        let err = parse::<Order>(br#"{"lines":[{"quantity":1},{"quantity":-3}]}"#).unwrap_err();
        match err {
            ApiError::Unprocessable { problems, .. } => {
                assert_eq!(problems[0].path, "/lines/1/quantity")
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_anywhere_in_a_body_is_named() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Note {
            note: String,
            tags: Vec<String>,
        }
        let err = parse::<Note>(br#"{"note":"ok","tags":["a","b\u0000c"]}"#).unwrap_err();
        match err {
            ApiError::Unprocessable { problems, .. } => assert_eq!(problems[0].path, "/tags/1"),
            other => panic!("expected 422, got {other:?}"),
        }
        // An escaped backslash followed by `u0000` is text, not a NUL.
        let note = parse::<Note>(br#"{"note":"C:\\u0000","tags":[]}"#).unwrap();
        assert_eq!(note.note, "C:\\u0000");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let err = parse::<Order>(br#"{"lines":[{"quantity":1}"#).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest { .. }), "{err:?}");
    }
}
