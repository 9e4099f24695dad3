//! The company console (docs/CONSOLE.md): one page, its ES modules, its
//! stylesheet and the vendored uPlot chart library, all compiled into the
//! binary like the widget, so serving it needs no files, CDN or build step.
//! Everything is sent under `default-src 'self'`: the page has no inline
//! script or style, and talks only to this server's API.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::views::ErrorBody;
use crate::error::ApiError;

/// The policy the page works under: only this origin, nothing inline, and
/// never framed (the page holds an API key).
const CSP: &str = "default-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("../../console/index.html");

/// The assets under `/console/`, by name, with their content type.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("../../console/app.js")),
    ("api.js", JS, include_str!("../../console/api.js")),
    ("format.js", JS, include_str!("../../console/format.js")),
    ("overview.js", JS, include_str!("../../console/overview.js")),
    ("users.js", JS, include_str!("../../console/users.js")),
    (
        "conversations.js",
        JS,
        include_str!("../../console/conversations.js"),
    ),
    (
        "knowledge.js",
        JS,
        include_str!("../../console/knowledge.js"),
    ),
    ("webhooks.js", JS, include_str!("../../console/webhooks.js")),
    ("erase.js", JS, include_str!("../../console/erase.js")),
    (
        "console.css",
        CSS,
        include_str!("../../console/console.css"),
    ),
    (
        "uPlot.iife.min.js",
        JS,
        include_str!("../../console/vendor/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        CSS,
        include_str!("../../console/vendor/uPlot.min.css"),
    ),
    // Without an icon the browser asks for /favicon.ico and logs a 404.
    (
        "favicon.svg",
        SVG,
        include_str!("../../console/favicon.svg"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

fn served(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Small files, changed by upgrades: always revalidated.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(get, path = "/console", tag = "console",
    responses((status = 200, description = "The company console: sign in with an API key", content_type = "text/html")))]
pub async fn page() -> Response {
    served("text/html; charset=utf-8", PAGE)
}

#[utoipa::path(get, path = "/console/{file}", tag = "console",
    params(("file" = String, Path, description = "A script or stylesheet of the console")),
    responses((status = 200, description = "The file", content_type = "text/javascript"), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => served(content_type, body),
        None => ApiError::NotFound("Console file not found").into_response(),
    }
}
