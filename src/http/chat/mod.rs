//! The end-user chat API (docs/API.md §8): bearer chat tokens only, and the only
//! routes that answer browsers from other origins (CORS).

mod bearer;
mod post;
mod routes;

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::app::SharedState;

/// The chat routes with their CORS layer; `origins` empty means any origin.
/// Paths are relative to `/rest/v1/chat`.
pub fn router(origins: &[String]) -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(routes::session).map(|r| r.options(options_get)))
        .routes(routes!(routes::list, routes::create).map(|r| r.options(options)))
        .routes(routes!(routes::messages, post::post).map(|r| r.options(options)))
        .layer(cors(origins))
}

/// OPTIONS is routed so that the CORS layer sees preflights (it answers them
/// itself); a plain OPTIONS gets the methods the path has.
async fn options() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [(header::ALLOW, "GET, POST, OPTIONS")],
    )
}

async fn options_get() -> impl IntoResponse {
    (StatusCode::NO_CONTENT, [(header::ALLOW, "GET, OPTIONS")])
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    // A browser script may read these: the widget waits `Retry-After` on 429.
    let exposed = [
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "ratelimit",
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers(exposed)
        .max_age(Duration::from_secs(600))
}
