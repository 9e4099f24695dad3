//! docs/API.md §8.1: the chat widget script and a demo page that embeds it, both
//! compiled into the binary so a company needs nothing but a script tag.

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Four source files for reading and testing, one script for the browser.
const WIDGET_JS: &str = concat!(
    include_str!("../../widget/core.js"),
    include_str!("../../widget/tools.js"),
    include_str!("../../widget/styles.js"),
    include_str!("../../widget/ui.js"),
);
const DEMO_HTML: &str = include_str!("../../widget/chat-demo.html");
const DEMO_JS: &str = include_str!("../../widget/chat-demo.js");

/// The URL is not versioned, so a year-long `max-age` would pin visitors to an
/// old widget after an upgrade. A day of freshness, a week of serving the
/// cached copy while revalidating, and a cheap 304 through the ETag after that.
const WIDGET_CACHE: &str = "public, max-age=86400, stale-while-revalidate=604800";

/// A strong validator: a digest of the exact bytes served, computed once.
static WIDGET_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag_of(WIDGET_JS.as_bytes()));

fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
}

/// RFC 9110 section 13.1.2: `If-None-Match` uses the weak comparison, so `W/"x"`
/// matches `"x"`, and `*` matches any current representation.
fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

#[utoipa::path(get, path = "/widget.js", tag = "widget",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The chat widget: PerformChat.init({ baseUrl, getToken, target? })", content_type = "text/javascript"),
        (status = 304, description = "Not modified: the ETag matched"),
    ))]
pub async fn widget_js(headers: HeaderMap) -> Response {
    let etag = WIDGET_ETAG.clone();
    let cache = HeaderValue::from_static(WIDGET_CACHE);
    if none_match(&headers, &etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// The demo page's policy: only our own scripts and API, and no inline style
/// but the page's own `<style>` (by its digest). It is a second line of
/// defence behind the widget rendering model text as text, and it shows that
/// the widget works on a site with a strict policy.
static DEMO_CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let style = DEMO_HTML
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(css, _)| css);
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; \
         style-src 'sha256-{digest}'; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ))
    .expect("the policy is ASCII")
});

/// The demo page reads its token from the URL fragment, which browsers never
/// send, so the token stays out of request lines and access logs.
#[utoipa::path(get, path = "/chat-demo", tag = "widget",
    responses((status = 200, description = "A page with the widget; give it a chat token as /chat-demo#token=…", content_type = "text/html")))]
pub async fn chat_demo() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CONTENT_SECURITY_POLICY, DEMO_CSP.clone()),
        ],
        DEMO_HTML,
    )
        .into_response()
}

/// The demo page's own script, a separate file so the page's policy needs no
/// inline script.
#[utoipa::path(get, path = "/chat-demo.js", tag = "widget",
    responses((status = 200, description = "The demo page's script", content_type = "text/javascript")))]
pub async fn chat_demo_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        DEMO_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inm(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn etag_is_strong_and_depends_on_the_bytes() {
        let a = etag_of(b"one");
        assert!(a.to_str().unwrap().starts_with('"'));
        assert_ne!(a, etag_of(b"two"));
        assert_eq!(a, etag_of(b"one"));
    }

    #[test]
    fn if_none_match_forms() {
        let tag = etag_of(b"x");
        let t = tag.to_str().unwrap();
        assert!(none_match(&with_inm(t), &tag));
        assert!(none_match(&with_inm(&format!("W/{t}")), &tag));
        assert!(none_match(&with_inm(&format!("\"other\", {t}")), &tag));
        assert!(none_match(&with_inm("*"), &tag));
        assert!(!none_match(&with_inm("\"other\""), &tag));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }
}
