//! Where an API key's credentials travel: HTTP Basic auth, the body fields
//! `keyId` and `keySecret` (taken out of the body either way), or the
//! `X-Api-Key-Id` and `X-Api-Key-Secret` headers. First source found wins.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub(super) struct Credentials {
    pub(super) key_id: String,
    pub(super) secret: String,
}

/// The credentials the request presents, if any. The body's credential
/// fields are always taken out so they never count as unknown fields.
pub(super) fn credentials(
    headers: &HeaderMap,
    fields: &mut Map<String, Value>,
) -> Result<Option<Credentials>, ApiError> {
    let body_id = take_string(fields, "keyId")?;
    let body_secret = take_string(fields, "keySecret")?;
    if let Some(basic) = basic_auth(headers) {
        return Ok(Some(basic));
    }
    if body_id.is_some() || body_secret.is_some() {
        return Ok(Some(Credentials {
            key_id: body_id.unwrap_or_default(),
            secret: body_secret.unwrap_or_default(),
        }));
    }
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (id, secret) = (header("x-api-key-id"), header("x-api-key-secret"));
    if id.is_some() || secret.is_some() {
        return Ok(Some(Credentials {
            key_id: id.unwrap_or_default(),
            secret: secret.unwrap_or_default(),
        }));
    }
    Ok(None)
}

fn take_string(fields: &mut Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match fields.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

fn basic_auth(headers: &HeaderMap) -> Option<Credentials> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = value.to_str().unwrap_or_default();
    // Another scheme (say, a bearer token meant for a proxy): not ours.
    let encoded = text
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())?;
    // Undecodable credentials are still credentials that fail, and count.
    let decoded = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let (key_id, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    Some(Credentials {
        key_id: key_id.to_owned(),
        secret: secret.to_owned(),
    })
}

/// The 401 for a request without credentials; a bearer token on these
/// routes means a chat token sent where an API key belongs, and says so.
pub(super) fn missing(headers: &HeaderMap) -> ApiError {
    let sent_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    ApiError::Unauthorized(if sent_bearer {
        "Missing API credentials: this route takes an API key (HTTP Basic keyId:keySecret, the body fields keyId and keySecret, or the X-Api-Key-Id and X-Api-Key-Secret headers), not a Bearer chat token"
    } else {
        "Missing API credentials"
    })
}
