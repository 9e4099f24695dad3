//! Health, the OpenAPI document, and the answers for unknown routes, wrong
//! methods and panics, all in the error shape of docs/API.md §0.2.

use std::any::Any;

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

use super::users::bulk::BulkItem;
use super::views::{ErrorBody, Health, RateLimitHealth};
use crate::app::SharedState;
use crate::error::{error_response, ApiError};

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn health(State(state): State<SharedState>) -> Response {
    match state.store.ping().await {
        // Still 200 when Redis is away: the node serves under its own limits.
        Ok(()) => Json(Health {
            status: "ok",
            rate_limits: RateLimitHealth::new(state.limits.status()),
        })
        .into_response(),
        Err(_) => ApiError::Unavailable("Database is not answering").into_response(),
    }
}

/// The document's fixed parts; the paths come from the route list
/// (`http::openapi`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PerformChat-compatible API",
        description = "Chat tokens for AI agents and the customer users behind them. \
        Every /rest/v1 route except /rest/v1/openapi.json and the chat routes needs an API key, in any of three places \
        (the first one present is used): HTTP Basic (keyId:keySecret), the body fields keyId and keySecret \
        (on every method, GET included), or the X-Api-Key-Id and X-Api-Key-Secret headers. \
        The chat routes (/rest/v1/chat/...) take only the end user's chat token as a Bearer token. \
        Every /rest/v1 route is also served under /rest/v1/v1 (the same handlers), as the PerformChat docs' examples use that prefix. \
        Rate limits per key (tokens: token generation; api: the rest; chat: messages per customer user) are reported in \
        RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy and RateLimit on every authenticated answer; \
        429 answers carry Retry-After. An address that fails authentication too often gets 429 until its lockout bucket has room again. \
        Every answer carries X-Request-Id (the caller's, when it is 1-128 visible ASCII characters, else a fresh one). \
        Errors always have the body {statusCode, message, error}; a known path with a method it does not have answers 405 with an Allow header."
    ),
    components(schemas(ErrorBody, BulkItem))
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<SharedState>) -> Response {
    // Generated from the route list in `http/mod.rs`; 3.1 as utoipa 5 emits.
    // The token lifetime's bound is configuration, so it is filled in here.
    let mut doc = super::openapi().clone();
    super::openapi::set_expires_in_pattern(&mut doc, state.config.max_token_ttl_secs);
    Json(doc).into_response()
}

/// The API reference, browsable at `/docs`: Swagger UI with its assets
/// compiled into the binary (no CDN), reading the document served above.
pub fn docs() -> axum::Router<SharedState> {
    let config = utoipa_swagger_ui::Config::new(["/rest/v1/openapi.json"]);
    utoipa_swagger_ui::SwaggerUi::new("/docs")
        .config(config)
        .into()
}

pub async fn not_found(method: Method, uri: Uri) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        &format!("Cannot {method} {}", uri.path()),
    )
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method {method} is not allowed on {}", uri.path()),
    )
}

pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}
