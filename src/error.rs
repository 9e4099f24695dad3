//! The one error type every layer returns, rendered as the spec's error body
//! `{ "statusCode", "message", "error" }`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The client took too long to send the request.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    Unavailable(&'static str),
    /// An upstream (the language model) failed.
    #[error("{0}")]
    BadGateway(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ApiError {
    /// The error body as JSON (for an SSE `error` event); internal details
    /// stay in the log, as in [`IntoResponse`].
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            ApiError::Internal(_) => "Internal server error".to_owned(),
            other => other.to_string(),
        };
        error_body(self.status(), &message)
    }
}

pub fn error_body(status: StatusCode, message: &str) -> serde_json::Value {
    serde_json::json!({
        "statusCode": status.as_u16(),
        "message": message,
        "error": status.canonical_reason().unwrap_or("Error"),
    })
}

/// Builds the spec's error body for any status, so layers that never see an
/// `ApiError` (panics, routing) answer in the same shape.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let body = error_body(status, message);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            // The detail may name tables or queries: log it, never send it.
            tracing::error!(%detail, "internal error");
            return error_response(self.status(), "Internal server error");
        }
        let mut response = error_response(self.status(), &self.to_string());
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut => ApiError::Unavailable("Database is busy, try again"),
            // The database is out of reach: a client may retry, so say so.
            sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                ApiError::Unavailable("Database is unavailable, try again")
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                ApiError::Conflict("A resource with this identifier already exists".into())
            }
            _ => ApiError::Internal(err.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
