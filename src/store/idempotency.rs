//! Store operations for `Idempotency-Key` (docs/API.md §12): one row per
//! (company, API key, key), claimed by the first request's insert so that
//! two requests — on one node or on several — cannot both run.

use async_trait::async_trait;

use crate::domain::KeptAnswer;
use crate::store::StoreResult;

/// Whose key it is: keys are per API key, under the key's company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope {
    pub company_id: String,
    pub api_key_id: String,
    pub key: String,
}

/// A request's claim on its key.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub scope: &'a IdempotencyScope,
    /// The request's identity (`domain::idempotency::fingerprint`).
    pub fingerprint: &'a [u8],
    /// This claim's own id, so that only its holder keeps or releases it.
    pub claim: &'a str,
    pub now: i64,
    /// Until when the claim holds if its request never finishes (a crash).
    pub lease_until: i64,
    /// Rows first claimed before this are forgotten (past 24 h).
    pub forgotten_before: i64,
}

/// What a claim found.
#[derive(Debug)]
pub enum ClaimOutcome {
    /// The request is this one's to run (first, or taking over a forgotten
    /// row or a lapsed claim).
    Claimed,
    /// It ran: its kept answer.
    Replay(KeptAnswer),
    /// The key was used with another request.
    Mismatch,
    /// The first request still runs.
    InProgress,
}

#[async_trait]
pub trait IdempotencyStore {
    async fn claim_idempotency(&self, request: &ClaimRequest<'_>) -> StoreResult<ClaimOutcome>;

    /// Keeps the answer of the request holding `claim`; `false` when it no
    /// longer holds it (its lease lapsed and another took it over).
    async fn keep_idempotent_answer(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        answer: &KeptAnswer,
    ) -> StoreResult<bool>;

    /// Gives the key up (the request failed, or never answered) so a retry runs.
    async fn release_idempotency(&self, scope: &IdempotencyScope, claim: &str) -> StoreResult<()>;

    /// Deletes up to `batch` of one company's rows first claimed before
    /// `before` (ms); returns how many went.
    async fn purge_idempotency(
        &self,
        company_id: &str,
        before: i64,
        batch: u32,
    ) -> StoreResult<u64>;
}
