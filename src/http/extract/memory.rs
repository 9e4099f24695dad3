//! A key taken from this node's memory that the request's own statement has
//! still to confirm (`store::KeyProof`): that saves the key's own round trip
//! on PostgreSQL and its own read transaction on SQLite. Until confirmed it
//! is not noted as used; any answer given without that confirmation first
//! reads the key as a request without memory would have, so a refused key is
//! answered exactly as without memory, and a write is never made with one
//! (the statement itself declines to write).

use super::credentials::Credentials;
use super::identity::{identify, Refusal};
use crate::app::SharedState;
use crate::domain::{now_ms, ApiKeyRecord};
use crate::error::ApiError;
use crate::http::log::LogSlot;
use crate::http::rate_limit::RateScope;
use crate::store::KeyProof;

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

    /// What the statement must check of `key`, which this was made for.
    pub(super) fn proof<'k>(&self, key: &'k ApiKeyRecord) -> KeyProof<'k> {
        KeyProof {
            key_id: &key.id,
            company_id: &key.company_id,
            secret_hash: &key.secret_hash,
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
    pub(super) fn confirmed(self, state: &SharedState, company_id: &str) {
        state.note_key_used(company_id, &self.credentials.key_id, now_ms());
    }

    /// The statement found the key no longer holding: its refusal, read
    /// again; `Ok` when it holds after all (reactivated meanwhile).
    pub(super) async fn reconfirm(self, state: &SharedState) -> Result<(), ApiError> {
        let key = self.confirm(state).await?;
        state.note_key_used(&key.company_id, &key.id, now_ms());
        Ok(())
    }

    /// The answer to give instead of `error`, found past the permission check
    /// but before the statement ran:
    /// the key's refusal if it no longer authenticates, else `error` itself.
    pub(super) async fn refuse(self, state: &SharedState, error: ApiError) -> ApiError {
        // Past the rate limit and the permission check, as here, a request
        // without memory has noted its key as used.
        match self.reconfirm(state).await {
            Ok(()) => error,
            Err(refused) => refused,
        }
    }
}
