//! Extractors: credentials from Basic auth, the JSON body (on every method,
//! GET included) or the `X-Api-Key-*` headers, and the endpoint's own body
//! fields, with every failure in the error shape of docs/API.md §0.2.
//!
//! Order of checks: body size and JSON syntax (400/413), then credentials
//! (401, or 429 once an address has failed too often), the key's rate limit
//! (429), permission (401), then the endpoint's fields and query parameters
//! (400).

use std::marker::PhantomData;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::keyed::{recall, Pending};
use crate::app::SharedState;
use crate::auth::secret_matches;
use crate::domain::{now_ms, ApiKeyRecord, Permission};
use crate::error::ApiError;
use crate::http::limit::RateScope;
use crate::http::query::{QueryParams, PAGE};
use crate::limits::Policy;

pub const BODY_LIMIT: usize = 1024 * 1024;

/// A request body type with the permission its endpoint needs.
pub trait Endpoint: DeserializeOwned + Send {
    const PERMISSION: Permission;
    /// The rate limit the call counts against (docs/API.md §0.4).
    const POLICY: Policy = Policy::Api;
    /// The largest request body the endpoint reads.
    const BODY_LIMIT: usize = BODY_LIMIT;
}

/// The query parameters an endpoint reads (in groups); any other parameter
/// is refused with a 400 naming the accepted ones.
pub trait QueryNames {
    const NAMES: &'static [&'static [&'static str]];
}

/// No query parameters at all: the default of [`Call`].
pub struct NoQuery;

impl QueryNames for NoQuery {
    const NAMES: &'static [&'static [&'static str]] = &[];
}

/// `page` and `limit` only.
pub struct Paged;

impl QueryNames for Paged {
    const NAMES: &'static [&'static [&'static str]] = &[PAGE];
}

/// An authenticated, authorised call carrying the endpoint's body fields and
/// its query parameters, checked against `Q`.
pub struct Call<T, Q = NoQuery> {
    pub key: ApiKeyRecord,
    pub body: T,
    pub query: QueryParams,
    names: PhantomData<fn() -> Q>,
}

pub(super) struct Credentials {
    pub(super) key_id: String,
    pub(super) secret: String,
}

impl<T: Endpoint, Q: QueryNames> FromRequest<SharedState> for Call<T, Q> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &SharedState) -> Result<Self, ApiError> {
        // Without memory the key is always read: no check is left pending.
        authenticate(req, state, false).await.map(|(call, _)| call)
    }
}

/// The extractors' common path. With `remembered`, a key this node has
/// authenticated before may be taken from memory (`AppState::key_cache`):
/// the call then comes with a [`Pending`] check for the handler's statement
/// to finish, and any answer given here first reads the key as it would
/// have without memory, so refusals are the same either way.
pub(super) async fn authenticate<T: Endpoint, Q: QueryNames>(
    req: Request,
    state: &SharedState,
    remembered: bool,
) -> Result<(Call<T, Q>, Option<Pending>), ApiError> {
    let (parts, body) = req.into_parts();
    let fields = read_json_object_within(body, T::BODY_LIMIT).await?;
    authenticate_fields(parts, fields, state, remembered).await
}

/// [`authenticate`] once the body's fields are read (from JSON, or from a
/// multipart form by `http/upload.rs`).
pub(super) async fn authenticate_fields<T: Endpoint, Q: QueryNames>(
    mut parts: Parts,
    mut fields: Map<String, Value>,
    state: &SharedState,
    remembered: bool,
) -> Result<(Call<T, Q>, Option<Pending>), ApiError> {
    let Ok(scope) = RateScope::from_request_parts(&mut parts, state).await;
    // Without credentials there is nothing to guess: no lockout count.
    let credentials =
        credentials(&parts.headers, &mut fields)?.ok_or_else(|| missing(bearer(&parts.headers)))?;
    let slot = parts.extensions.get::<super::log::LogSlot>().cloned();
    let memory = remembered
        .then(|| recall(state, &credentials, T::PERMISSION))
        .flatten();
    let (key, pending) = match memory {
        Some(key) => (
            key,
            Some(Pending::new(credentials, scope.clone(), slot.clone())),
        ),
        None => match identify(state, credentials).await {
            Ok(key) => (key, None),
            Err(Refusal::Credentials(refused)) => {
                // Over the lockout limit, the 429 replaces the 401.
                scope.failed_auth(state).await?;
                return Err(refused);
            }
            Err(Refusal::Store(error)) => return Err(error),
        },
    };
    if let Some(slot) = &slot {
        slot.set_key(&key.id);
    }
    // A locked-out address is refused here even with good credentials.
    if let Err(error) = scope.enforce_key(state, T::POLICY, &key.id).await {
        return Err(match pending {
            Some(pending) => pending.confirm(state).await.err().unwrap_or(error),
            None => error,
        });
    }
    if !key.permissions.contains(T::PERMISSION) {
        // Never for a key from memory: `recall` has checked the permission.
        return Err(ApiError::Unauthorized("Insufficient permissions"));
    }
    // A key from memory is noted as used once its statement confirms it.
    if pending.is_none() {
        state.note_key_used(&key.company_id, &key.id, now_ms());
    }
    let fields = from_fields(fields).and_then(|body| {
        let query = QueryParams::parse(parts.uri.query(), &Q::NAMES.concat())?;
        Ok((body, query))
    });
    match (fields, pending) {
        (Ok((body, query)), pending) => Ok((
            Call {
                key,
                body,
                query,
                names: PhantomData,
            },
            pending,
        )),
        (Err(error), None) => Err(error),
        (Err(error), Some(pending)) => Err(pending.refuse(state, error).await),
    }
}

pub(crate) async fn read_json_object(body: Body) -> Result<Map<String, Value>, ApiError> {
    read_json_object_within(body, BODY_LIMIT).await
}

/// The body as a JSON object, refused past `limit` bytes.
async fn read_json_object_within(body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    let bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::PayloadTooLarge(too_large(limit))
            } else if let Some(late) = super::deadline::body_timed_out(&*e) {
                ApiError::RequestTimeout(late.to_string())
            } else {
                ApiError::bad_request("Could not read the request body")
            }
        })?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "Request body must be a JSON object, got {}",
            crate::domain::json_type(&other)
        ))),
        Err(e) => Err(ApiError::bad_request(format!("Malformed JSON body: {e}"))),
    }
}

/// The 413 message for a body over `limit` bytes.
pub(super) fn too_large(limit: usize) -> String {
    format!("Request body must not exceed {} MiB", limit / (1024 * 1024))
}

/// Deserialises the endpoint's fields; the error names the offending field.
pub fn from_fields<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ApiError::bad_request(inner)
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

/// First source found wins: Basic auth, then the body, then the headers. The
/// body's credential fields are always taken out so they never count as
/// unknown fields.
fn credentials(
    headers: &HeaderMap,
    fields: &mut Map<String, Value>,
) -> Result<Option<Credentials>, ApiError> {
    let body_id = take_string(fields, "keyId")?;
    let body_secret = take_string(fields, "keySecret")?;
    if let Some(basic) = basic_auth(headers)? {
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

fn basic_auth(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let Some(encoded) = text
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())
    else {
        // Another scheme (say, a bearer token meant for a proxy): not ours.
        return Ok(None);
    };
    // Undecodable credentials are still credentials that fail, and count.
    let decoded = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let (key_id, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    Ok(Some(Credentials {
        key_id: key_id.to_owned(),
        secret: secret.to_owned(),
    }))
}

/// Whether the request carries a bearer token, which on these routes means a
/// chat token sent where an API key belongs.
fn bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}

fn missing(sent_bearer: bool) -> ApiError {
    ApiError::Unauthorized(if sent_bearer {
        "Missing API credentials: this route takes an API key (HTTP Basic keyId:keySecret, the body fields keyId and keySecret, or the X-Api-Key-Id and X-Api-Key-Secret headers), not a Bearer chat token"
    } else {
        "Missing API credentials"
    })
}

/// Why presented credentials were not accepted.
pub(super) enum Refusal {
    /// Unknown, wrong, revoked or expired: counts towards the lockout.
    Credentials(ApiError),
    /// The store could not answer: not the caller's fault.
    Store(ApiError),
}

/// Why a stored key does not authenticate `secret`, if it does not: the
/// checks a request makes of its key, whether read now or remembered.
pub(super) fn key_refusal(key: &ApiKeyRecord, secret: &str) -> Option<&'static str> {
    if !secret_matches(&key.id, secret, &key.secret_hash)
        || key.revoked_at.is_some()
        || !key.company_active
    {
        return Some("Invalid API credentials");
    }
    if key.expires_at.is_some_and(|at| at <= now_ms()) {
        return Some("Expired API key");
    }
    None
}

/// The key these credentials belong to, if they authenticate.
pub(super) async fn identify(
    state: &SharedState,
    credentials: Credentials,
) -> Result<ApiKeyRecord, Refusal> {
    let invalid = || Refusal::Credentials(ApiError::Unauthorized("Invalid API credentials"));
    // Ids are short; anything long cannot be ours and is not worth a query.
    if credentials.key_id.is_empty() || credentials.key_id.len() > 128 {
        return Err(invalid());
    }
    let Some(key) = state
        .store
        .find_api_key(&credentials.key_id)
        .await
        .map_err(|e| Refusal::Store(e.into()))?
    else {
        return Err(invalid());
    };
    if let Some(refused) = key_refusal(&key, &credentials.secret) {
        return Err(Refusal::Credentials(ApiError::Unauthorized(refused)));
    }
    state.key_cache.insert(&key);
    Ok(key)
}

/// A path segment naming a resource id, with rejections in our error shape.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| PathId(id))
            .map_err(|e| ApiError::bad_request(format!("Invalid path: {e}")))
    }
}
