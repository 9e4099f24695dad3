//! The one way in for API-key requests: [`Call`] proves the key for the
//! route's permission (or answers the refusal) and reads the endpoint's body
//! fields and query parameters, with every failure in the API's error shape.
//! Handlers receive a proven key and never deal with the key protocol.
//!
//! Order of checks: body size and JSON syntax (400/413), then credentials
//! (401, or 429 once an address has failed too often), the key's rate limit
//! (429), permission (401), then the endpoint's fields and query parameters
//! (400). The key's use is noted (`last_used_at`) once it is proven. A write
//! with an `Idempotency-Key` claims it between the permission check and the
//! fields (`http::idempotency`): a replay, 409 or 422 is the answer then.
//!
//! Submodules, in the order they build on one another: `body`,
//! `credentials`, `identity`, `memory`.

mod body;
mod credentials;
mod identity;
mod memory;

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use body::read_json_object_within;
pub use body::{from_fields, BODY_LIMIT};
pub(crate) use body::{read_json_object, too_large};
use credentials::{credentials, missing};
use identity::{identify, recall, Refusal};
use memory::Pending;

use crate::app::SharedState;
use crate::domain::{now_ms, ApiKeyRecord, Permission};
use crate::error::{ApiError, ApiResult};
use crate::http::idempotency::IdempotencySlot;
use crate::http::log::LogSlot;
use crate::http::query::{QueryParams, PAGE};
use crate::http::rate_limit::RateScope;
use crate::limits::Policy;
use crate::store::{KeyProof, Store, StoreResult};

/// A request body type with the permission its endpoint needs.
pub trait Endpoint: DeserializeOwned + Send {
    const PERMISSION: Permission;
    /// The rate limit the call counts against (`docs/API.md`, rate limits).
    const POLICY: Policy = Policy::Api;
    /// Whether the key may come from this node's memory, to be confirmed by
    /// the handler's one statement: only for handlers that answer through
    /// [`Call::run`], whose statement checks the key again.
    const REMEMBERED: bool = false;
    /// The largest request body the endpoint reads.
    const BODY_LIMIT: usize = BODY_LIMIT;
}

/// The query parameters an endpoint reads (in groups); any other parameter
/// is rejected with a 400 naming the accepted ones.
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
    /// Read from the database for this request, or (for an endpoint with
    /// [`Endpoint::REMEMBERED`]) from memory, only what never changes for a
    /// key being read of it (see `auth::KeyCache`) until [`Call::run`].
    pub key: ApiKeyRecord,
    pub body: T,
    pub query: QueryParams,
    /// Set when the key came from memory and is still to be confirmed.
    memory: Option<Pending>,
    names: PhantomData<fn() -> Q>,
}

impl<T: Endpoint, Q: QueryNames> FromRequest<SharedState> for Call<T, Q> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &SharedState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let fields = read_json_object_within(body, T::BODY_LIMIT).await?;
        Call::from_fields(parts, fields, state).await
    }
}

impl<T: Endpoint, Q: QueryNames> Call<T, Q> {
    /// The checks of [`Call`] once the body's fields are read: from JSON, or
    /// from a multipart form's text fields (`http/upload.rs`), so both take
    /// the same way in.
    pub(crate) async fn from_fields(
        parts: Parts,
        fields: serde_json::Map<String, serde_json::Value>,
        state: &SharedState,
    ) -> Result<Self, ApiError> {
        Call::from_body(parts, fields, &[], state).await
    }

    /// [`Call::from_fields`] for a body that holds more than its fields:
    /// `extra` (a multipart upload's file) is part of the request's identity
    /// for `Idempotency-Key`.
    pub(crate) async fn from_body(
        mut parts: Parts,
        mut fields: serde_json::Map<String, serde_json::Value>,
        extra: &[&[u8]],
        state: &SharedState,
    ) -> Result<Self, ApiError> {
        let Ok(scope) = RateScope::from_request_parts(&mut parts, state).await;
        // Without credentials there is nothing to guess: no lockout count.
        let credentials =
            credentials(&parts.headers, &mut fields)?.ok_or_else(|| missing(&parts.headers))?;
        let slot = parts.extensions.get::<LogSlot>().cloned();
        let idempotency = parts.extensions.get::<IdempotencySlot>().cloned();
        // A key is claimed only once the API key is proven, so a request
        // with one reads its API key from the database.
        let remembered = match T::REMEMBERED && idempotency.is_none() {
            true => recall(state, &credentials, T::PERMISSION),
            false => None,
        };
        let (key, memory) = match remembered {
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
        // A locked-out address is turned away here even with good credentials.
        if let Err(error) = scope.enforce_key(state, T::POLICY, &key.id).await {
            return Err(match memory {
                Some(pending) => pending.confirm(state).await.err().unwrap_or(error),
                None => error,
            });
        }
        if !key.permissions.contains(T::PERMISSION) {
            // Never for a key from memory: `recall` has checked the permission.
            return Err(ApiError::Unauthorized("Insufficient permissions"));
        }
        // A key from memory is noted as used once its statement confirms it.
        if memory.is_none() {
            state.note_key_used(&key.company_id, &key.id, now_ms());
        }
        if let Some(idempotency) = idempotency {
            idempotency
                .claim(state, &key, &parts, &fields, extra)
                .await?;
        }
        let fields = from_fields(fields).and_then(|body| {
            let query = QueryParams::parse(parts.uri.query(), &Q::NAMES.concat())?;
            Ok((body, query))
        });
        match (fields, memory) {
            (Ok((body, query)), memory) => Ok(Call {
                key,
                body,
                query,
                memory,
                names: PhantomData,
            }),
            (Err(error), None) => Err(error),
            (Err(error), Some(pending)) => Err(pending.refuse(state, error).await),
        }
    }
}

impl<T, Q> Call<T, Q> {
    /// The handler's one statement, for an endpoint whose key may come from
    /// memory ([`Endpoint::REMEMBERED`]). `read` turns the body and query
    /// into the statement's input; `statement` runs on the store with the key to check in
    /// that same statement (`None`: the database has confirmed it for this
    /// request already) and answers `None` when that key no longer holds.
    ///
    /// Any answer other than the statement's own first reads the key as a
    /// request without memory would have, so the key's refusal (and its
    /// lockout count) is the answer whenever the key no longer authenticates.
    /// Should the key hold after all when read again (reactivated meanwhile),
    /// the statement runs once more without a key to check.
    pub async fn run<I, R>(
        self,
        state: &SharedState,
        read: impl FnOnce(T, &QueryParams) -> ApiResult<I>,
        statement: impl for<'a> Fn(
            &'a dyn Store,
            &'a I,
            &'a ApiKeyRecord,
            Option<KeyProof<'a>>,
        ) -> Statement<'a, R>,
    ) -> ApiResult<(ApiKeyRecord, I, R)> {
        let Call {
            key,
            body,
            query,
            memory,
            ..
        } = self;
        let input = match read(body, &query) {
            Ok(input) => input,
            Err(error) => {
                return Err(match memory {
                    Some(pending) => pending.refuse(state, error).await,
                    None => error,
                })
            }
        };
        let store = state.store.as_ref();
        let Some(pending) = memory else {
            let found = statement(store, &input, &key, None).await?;
            // Given no key to check, a statement has nothing to decline for.
            let found = found.ok_or(ApiError::Unauthorized("Invalid API credentials"))?;
            return Ok((key, input, found));
        };
        let found = statement(store, &input, &key, Some(pending.proof(&key))).await?;
        let found = match found {
            Some(found) => {
                pending.confirmed(state, &key.company_id);
                found
            }
            None => {
                pending.reconfirm(state).await?;
                let found = statement(store, &input, &key, None).await?;
                found.ok_or(ApiError::Unauthorized("Invalid API credentials"))?
            }
        };
        Ok((key, input, found))
    }
}

/// What [`Call::run`]'s statement answers: `None` when the key it was given
/// to check no longer holds.
pub type Statement<'a, R> = BoxFuture<'a, StoreResult<Option<R>>>;

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
