//! The one HTTP error type. Every refusal is `application/problem+json`
//! (RFC 9457) naming the offending fields by JSON pointer; database and
//! internal errors are logged and answered as a bare 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

/// One problem with one field of a request, e.g. `/lines/2/quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// A JSON pointer into the body (`/lines/2/quantity`), `?name` for a
    /// query parameter, or a header's name.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldProblem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Syntax the server cannot read at all (malformed JSON, bad header).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        path: Option<String>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The resource is not in a state that allows this; `allowed` lists what is.
    #[error("{detail}")]
    Conflict {
        detail: String,
        allowed: Vec<String>,
    },
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Readable, but wrong: unknown references, bad quantities, refusals.
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        problems: Vec<FieldProblem>,
        /// Extra machine-readable context (e.g. a rejected order's reasons).
        extra: Option<serde_json::Value>,
    },
    #[error("this endpoint does not take that method")]
    MethodNotAllowed,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        ApiError::NotFound {
            what,
            id: id.into(),
        }
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        ApiError::Forbidden(reason.into())
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            path: None,
        }
    }

    /// A 422 for one field.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        let problem = FieldProblem::new(path, message);
        ApiError::Unprocessable {
            detail: format!("{}: {}", problem.path, problem.message),
            problems: vec![problem],
            extra: None,
        }
    }

    /// A 422 for several fields at once, so a form can show them all.
    pub fn invalid_fields(problems: Vec<FieldProblem>) -> Self {
        let detail = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Unprocessable {
            detail,
            problems,
            extra: None,
        }
    }

    /// A 409 naming the current state and the actions it allows.
    pub fn conflict(detail: impl Into<String>, allowed: Vec<String>) -> Self {
        ApiError::Conflict {
            detail: detail.into(),
            allowed,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The problem+json body.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let mut errors = Vec::new();
        let mut allowed = None;
        let mut context = None;
        let detail = match &self {
            ApiError::Store(err) => {
                tracing::error!(error = %err, "database error");
                "internal error; the request was not applied".to_string()
            }
            ApiError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                "internal error; the request was not applied".to_string()
            }
            ApiError::BadRequest { detail, path } => {
                if let Some(path) = path {
                    errors.push(FieldProblem::new(path.clone(), detail.clone()));
                }
                detail.clone()
            }
            ApiError::Unprocessable {
                detail,
                problems,
                extra,
            } => {
                errors = problems.clone();
                context = extra.as_ref();
                detail.clone()
            }
            ApiError::Conflict { allowed: a, .. } => {
                allowed = Some(a.as_slice());
                self.to_string()
            }
            other => other.to_string(),
        };
        let body = Problem {
            kind: format!("https://chanhost.dev/problems/{}", status.as_u16()),
            title,
            status: status.as_u16(),
            detail,
            errors,
            allowed,
            context,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Store(err.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
