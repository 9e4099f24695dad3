//! The API's error type, rendered as the error body of docs/API.md §0.2
//! `{ "statusCode", "message", "error" }`. This is where HTTP statuses meet
//! the store's errors: `From<StoreError>` below is the one mapping.

use std::error::Error as StdError;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::TokenRejected;
use crate::chat::{ChatError, MODEL_UNAVAILABLE};
pub use crate::domain::error_chain as chain;
use crate::domain::idempotency::IDEMPOTENT_REPLAYED;
use crate::domain::KeptAnswer;
use crate::knowledge::KnowledgeError;
use crate::store::{StoreError, UniqueKey};

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
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    /// The client took too long to send the request.
    #[error("{0}")]
    RequestTimeout(String),
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
    /// Our own failure. The cause (with its chain) goes to the log, never to
    /// the client: it may name tables or queries.
    #[error("internal error: {0}")]
    Internal(Box<dyn StdError + Send + Sync>),
    /// Not a failure: the answer kept for this request's `Idempotency-Key`,
    /// given again in place of running the request (docs/API.md §12).
    #[error("an answer kept for its Idempotency-Key")]
    Replayed(Box<KeptAnswer>),
}

/// The error body of every failed request.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[schema(example = 400)]
    pub status_code: u16,
    #[schema(example = "limit must be an integer between 1 and 100")]
    pub message: String,
    #[schema(example = "Bad Request")]
    pub error: String,
}

impl ErrorBody {
    pub fn new(status: StatusCode, message: &str) -> Self {
        ErrorBody {
            status_code: status.as_u16(),
            message: message.to_owned(),
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
        }
    }
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
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Replayed(kept) => {
                StatusCode::from_u16(kept.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The message the client sees; internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(cause = %chain(cause.as_ref()), "internal error");
                "Internal server error".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The error body as JSON (for an SSE `error` event).
    pub fn body(&self) -> serde_json::Value {
        let body = ErrorBody::new(self.status(), &self.public_message());
        serde_json::to_value(body).unwrap_or_default()
    }
}

/// Builds the error body of docs/API.md §0.2 for any status, so layers that never see an
/// `ApiError` (panics, routing) answer in the same shape.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(ErrorBody::new(status, message))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Replayed(kept) = self {
            return replay(*kept);
        }
        let mut response = error_response(self.status(), &self.public_message());
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

/// A kept answer as it was first given, marked as given again.
fn replay(kept: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// What a storage failure means to an API client. A unique rule is a
/// conflict only where a client can cause it; elsewhere it is our bug.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(message) => ApiError::NotFound(message),
            StoreError::Duplicate {
                key: UniqueKey::UserExternalId,
                ..
            } => ApiError::Conflict("A customer user with this external_id already exists".into()),
            StoreError::Duplicate {
                key: UniqueKey::ToolName,
                ..
            } => ApiError::Conflict("This agent already has a tool with this name".into()),
            StoreError::Contention(message) => ApiError::Conflict(message.into()),
            StoreError::Busy(_) => ApiError::Unavailable("Database is busy, try again"),
            // The database is out of reach: a client may retry, so say so.
            StoreError::Unavailable(_) => {
                ApiError::Unavailable("Database is unavailable, try again")
            }
            other @ (StoreError::Duplicate { .. } | StoreError::Other(_)) => {
                ApiError::Internal(Box::new(other))
            }
        }
    }
}

/// What a refused knowledge-base request means to an API client.
impl From<KnowledgeError> for ApiError {
    fn from(err: KnowledgeError) -> Self {
        match err {
            KnowledgeError::Invalid(message) => ApiError::BadRequest(message),
            KnowledgeError::UnsupportedType(message) => ApiError::UnsupportedMediaType(message),
            KnowledgeError::Unprocessable(message) => ApiError::Unprocessable(message),
            KnowledgeError::NotFound(message) => ApiError::NotFound(message),
            KnowledgeError::Conflict(message) => ApiError::Conflict(message.into()),
            KnowledgeError::Store(e) => e.into(),
        }
    }
}

/// What the chat use case's failures mean to a client.
impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        match err {
            ChatError::NotFound => ApiError::NotFound("Conversation not found"),
            ChatError::Busy => ApiError::Conflict("A reply is already being generated".into()),
            ChatError::ModelUnavailable => ApiError::BadGateway(MODEL_UNAVAILABLE),
            ChatError::Store(err) => err.into(),
        }
    }
}

/// A chat token that fails its check is a 401 with the check's own message.
impl From<TokenRejected> for ApiError {
    fn from(err: TokenRejected) -> Self {
        match err {
            TokenRejected::Unauthorized(message) => ApiError::Unauthorized(message),
            TokenRejected::Store(err) => err.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
