//! Health, the OpenAPI document, and the answers for unknown routes, wrong
//! methods and panics, all in the spec's error shape.

use std::any::Any;

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

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
        Every endpoint except /health and /rest/v1/openapi.json needs an API key: HTTP Basic (keyId:keySecret), \
        the body fields keyId and keySecret (on every method, GET included), or the X-Api-Key-Id and X-Api-Key-Secret headers. \
        Rate limits per key (tokens: token generation; api: the rest) are reported in RateLimit-Limit, RateLimit-Remaining, \
        RateLimit-Reset, RateLimit-Policy and RateLimit on every authenticated answer; 429 answers carry Retry-After. \
        An address that fails authentication too often gets 429 until its lockout bucket has room again."
    ),
    components(schemas(ErrorBody)),
    modifiers(&ChatTokenScheme)
)]
pub struct ApiDoc;

/// The chat routes (spec 8) take the end user's chat token as a bearer token.
struct ChatTokenScheme;

impl utoipa::Modify for ChatTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "chat_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A chat token from POST /rest/v1/auth/token"))
                    .build(),
            ),
        );
    }
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This OpenAPI document")))]
pub async fn openapi_json() -> Response {
    // Generated from the route list in `http/mod.rs`; 3.1 as utoipa 5 emits.
    Json(super::openapi()).into_response()
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
