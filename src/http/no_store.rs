//! Answers that carry a credential (a chat token, a key secret, a webhook or
//! tool secret) must not be kept by a browser, proxy or CDN cache: wrap the
//! handler's answer in [`NoStore`] and it goes out with
//! `Cache-Control: no-store`, whatever it is.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// `T`'s response with `Cache-Control: no-store` (and `Pragma: no-cache` for
/// HTTP/1.0 caches that predate `Cache-Control`).
pub struct NoStore<T>(pub T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}
