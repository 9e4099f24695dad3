//! One error type for every call, split by what a caller can do about it.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a call.
///
/// The server's own message (the `message` of its error body) is kept in
/// every variant that comes from an answer, so it can be shown as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404, or a 400 that docs/API.md §2 uses for "no such user" (token invalidation).
    #[error("not found: {message}")]
    NotFound {
        /// The server's message, e.g. `Customer user not found`.
        message: String,
    },
    /// 401: missing, wrong, revoked or expired key, missing permission, or a
    /// chat token that does not verify.
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// The server's message, e.g. `Invalid API credentials`.
        message: String,
    },
    /// 429: over a rate limit. Wait `retry_after` (when the server sent
    /// `Retry-After`) before trying again.
    #[error("rate limited: {message}{}", retry_hint(.retry_after))]
    RateLimited {
        /// From the `Retry-After` header, in seconds.
        retry_after: Option<Duration>,
        /// The server's message.
        message: String,
    },
    /// 400, 413 or 422: the request itself was refused; `message` names the field.
    #[error("invalid request: {message}")]
    Validation {
        /// The HTTP status.
        status: u16,
        /// The server's message, naming what to fix.
        message: String,
    },
    /// Any other error status (405, 409, 5xx…).
    #[error("server answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's message, or the start of the body when it had none.
        message: String,
    },
    /// The server could not be reached, or the connection broke mid-answer.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered, but not with what the API promises.
    #[error("unexpected response (HTTP {status}): {detail}")]
    UnexpectedResponse {
        /// The HTTP status of the odd answer.
        status: u16,
        /// What did not fit.
        detail: String,
    },
    /// The client was set up wrongly (bad base URL, missing credentials).
    #[error("client configuration: {0}")]
    Config(String),
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {}s)", d.as_secs()),
        None => String::new(),
    }
}

impl Error {
    /// The HTTP status of the answer this error came from, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::NotFound { .. } => Some(404),
            Error::Unauthorized { .. } => Some(401),
            Error::RateLimited { .. } => Some(429),
            Error::Validation { status, .. }
            | Error::Api { status, .. }
            | Error::UnexpectedResponse { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Config(_) => None,
        }
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Builds the error for a non-success answer from its status, headers and body.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let message = error_message(status, body);
        let code = status.as_u16();
        match code {
            404 => Error::NotFound { message },
            401 => Error::Unauthorized { message },
            429 => Error::RateLimited {
                retry_after: retry_after(headers),
                message,
            },
            400 | 413 | 422 => Error::Validation {
                status: code,
                message,
            },
            _ => Error::Api {
                status: code,
                message,
            },
        }
    }
}

/// The `message` of docs/API.md §0.2, or, from a proxy or anything else that does not speak
/// the error body, the start of the body or the reason phrase.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return parsed.message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("error").to_owned();
    }
    snippet(text)
}

/// At most 200 characters, so an HTML error page does not flood a terminal.
pub(crate) fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `Retry-After` in seconds; the HTTP-date form is not used by this API.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Transport(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_variants() {
        let body = br#"{"statusCode":404,"message":"Customer user not found","error":"Not Found"}"#;
        let e = Error::from_response(StatusCode::NOT_FOUND, &HeaderMap::new(), body);
        assert!(matches!(&e, Error::NotFound { message } if message == "Customer user not found"));

        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let e = Error::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, b"");
        assert!(matches!(
            e,
            Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        assert_eq!(
            e.to_string(),
            "rate limited: Too Many Requests (retry after 7s)"
        );

        let e = Error::from_response(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>bad</html>",
        );
        assert_eq!(e.to_string(), "server answered 502: <html>bad</html>");
    }

    #[test]
    fn snippets_are_cut_on_char_boundaries() {
        let long = "é".repeat(300);
        assert_eq!(snippet(&long).chars().count(), 201);
    }
}
