//! A call whose API key may come from this node's memory, for the two hot
//! handlers whose one statement can check the key again (the lookup by
//! external id and token generation): that saves the key's own round trip on
//! PostgreSQL and its own read transaction on SQLite. Every other handler
//! takes a [`Call`], whose key the database has just confirmed.
//!
//! The handler hands [`KeyCheck::proof`] to the store and reports what the
//! statement found with [`KeyCheck::settle`]; any answer it gives before the
//! statement goes through [`KeyCheck::refuse`]. Both read the key from the
//! database whenever memory may be wrong, so a refused key is answered exactly
//! as without memory, and a write is never made with one (the statement itself
//! refuses to write).

use std::marker::PhantomData;

use axum::extract::{FromRequest, Request};

use super::extract::{
    authenticate, identify, key_refusal, Call, Credentials, Endpoint, NoQuery, QueryNames, Refusal,
};
use super::limit::RateScope;
use super::log::LogSlot;
use crate::app::SharedState;
use crate::domain::{now_ms, ApiKeyRecord, Permission};
use crate::error::ApiError;
use crate::http::query::QueryParams;
use crate::store::KeyProof;

pub struct KeyedCall<T, Q = NoQuery> {
    /// Only what never changes for a key is read from it (see `auth::KeyCache`).
    pub key: ApiKeyRecord,
    pub body: T,
    pub query: QueryParams,
    pub check: KeyCheck,
    names: PhantomData<fn() -> Q>,
}

/// What is still to be checked of the key: nothing once the database has
/// answered for it.
pub struct KeyCheck(Option<Pending>);

impl<T: Endpoint, Q: QueryNames> FromRequest<SharedState> for KeyedCall<T, Q> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &SharedState) -> Result<Self, ApiError> {
        let (call, pending): (Call<T, Q>, _) = authenticate(req, state, true).await?;
        Ok(KeyedCall {
            key: call.key,
            body: call.body,
            query: call.query,
            check: KeyCheck(pending),
            names: PhantomData,
        })
    }
}

impl KeyCheck {
    /// What the store must check in its statement; `None` when the key was
    /// read from the database for this request already.
    pub fn proof<'a>(&self, key: &'a ApiKeyRecord) -> Option<KeyProof<'a>> {
        self.0.as_ref().map(|_| KeyProof {
            key_id: &key.id,
            company_id: &key.company_id,
            secret_hash: &key.secret_hash,
        })
    }

    /// The statement given [`Self::proof`] found the key holding (`held`) or
    /// not. Not holding: the key is read again, and its refusal is the answer;
    /// should it hold after all (reactivated meanwhile), `Ok` and no proof is
    /// asked any more, for the caller to run its statement again.
    pub async fn settle(
        &mut self,
        state: &SharedState,
        key: &ApiKeyRecord,
        held: bool,
    ) -> Result<(), ApiError> {
        let Some(pending) = self.0.take() else {
            return Ok(());
        };
        if held {
            pending.confirmed(state, &key.company_id);
            return Ok(());
        }
        let key = pending.confirm(state).await?;
        state.note_key_used(&key.company_id, &key.id, now_ms());
        Ok(())
    }

    /// The answer to give instead of `error`, found before the statement:
    /// the key's own refusal when it no longer authenticates.
    pub async fn refuse(self, state: &SharedState, error: ApiError) -> ApiError {
        match self.0 {
            Some(pending) => pending.refuse(state, error).await,
            None => error,
        }
    }
}

/// The key from memory when it passes every check that [`identify`] and the
/// permission check would make of it; `None` sends the request the usual way,
/// so every refusal is decided from the database, as without memory.
pub(super) fn recall(
    state: &SharedState,
    credentials: &Credentials,
    permission: Permission,
) -> Option<ApiKeyRecord> {
    let key = state.key_cache.get(&credentials.key_id)?;
    let good =
        key_refusal(&key, &credentials.secret).is_none() && key.permissions.contains(permission);
    good.then(|| (*key).clone())
}

/// A key taken from memory that the request's statement has still to confirm
/// (`store::KeyProof`); until then it has not been noted as used.
pub(super) struct Pending {
    credentials: Credentials,
    scope: RateScope,
    slot: Option<LogSlot>,
}

impl Pending {
    pub(super) fn new(credentials: Credentials, scope: RateScope, slot: Option<LogSlot>) -> Self {
        Pending {
            credentials,
            scope,
            slot,
        }
    }

    /// Reads the key from the database, as a request without memory would
    /// have. A refusal is answered as it would have been then: the key is
    /// forgotten, the failure counts towards the lockout, and no key id is logged.
    pub(super) async fn confirm(self, state: &SharedState) -> Result<ApiKeyRecord, ApiError> {
        let key_id = self.credentials.key_id.clone();
        match identify(state, self.credentials).await {
            Ok(key) => Ok(key),
            Err(Refusal::Credentials(refused)) => {
                state.key_cache.remove(&key_id);
                if let Some(slot) = &self.slot {
                    slot.clear_key();
                }
                self.scope.failed_auth(state).await?;
                Err(refused)
            }
            Err(Refusal::Store(error)) => Err(error),
        }
    }

    /// The key holds (its statement found it so): note it as used.
    pub(super) fn confirmed(&self, state: &SharedState, company_id: &str) {
        state.note_key_used(company_id, &self.credentials.key_id, now_ms());
    }

    /// The answer to give instead of `error`, found past the permission check
    /// but before the statement ran:
    /// the key's refusal if it no longer authenticates, else `error` itself.
    pub(super) async fn refuse(self, state: &SharedState, error: ApiError) -> ApiError {
        match self.confirm(state).await {
            Ok(key) => {
                // Past the rate limit and the permission check, as here, a
                // request without memory has noted its key as used.
                state.note_key_used(&key.company_id, &key.id, now_ms());
                error
            }
            Err(refused) => refused,
        }
    }
}
