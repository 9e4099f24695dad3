//! Step 2 of `Idempotency-Key`: the API-key extractor, with the key proven,
//! claims the request's key before anything else of the request is read.

use std::sync::Arc;

use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::{lease, Held, IdempotencySlot};
use crate::app::SharedState;
use crate::domain::idempotency::{
    fingerprint, valid_key, BAD_KEY, IN_PROGRESS, KEEP_MS, REPEATED_KEY, REUSED,
};
use crate::domain::{now_ms, ApiKeyRecord};
use crate::error::ApiError;
use crate::store::{ClaimOutcome, ClaimRequest, IdempotencyScope};

impl IdempotencySlot {
    /// Claims the key for this request of `key`'s: `Ok` when the request is
    /// to run (its answer is kept after the handler), else the answer to
    /// give instead — the kept answer, 409 while the first request runs,
    /// 422 for another request under the same key, 400 for a key outside
    /// the rules. `fields` are the body's fields with the credentials taken
    /// out; `extra` is what else the body holds (a multipart upload's file).
    pub(crate) async fn claim(
        &self,
        state: &SharedState,
        key: &ApiKeyRecord,
        parts: &Parts,
        fields: &Map<String, Value>,
        extra: &[&[u8]],
    ) -> Result<(), ApiError> {
        let sent = match self.0.sent.as_slice() {
            [one] => one,
            _ => return Err(ApiError::bad_request(REPEATED_KEY)),
        };
        if !valid_key(sent) {
            return Err(ApiError::bad_request(BAD_KEY));
        }
        // Checked printable ASCII just above.
        let idem_key = String::from_utf8_lossy(sent).into_owned();
        // The path as the route sees it: the doubled `/rest/v1/v1` alias
        // names the same request as `/rest/v1`.
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |p| p.as_str());
        let fingerprint = fingerprint(parts.method.as_str(), path, fields, extra);
        let scope = IdempotencyScope {
            company_id: key.company_id.clone(),
            api_key_id: key.id.clone(),
            key: idem_key,
        };
        let claim = ulid::Ulid::new().to_string();
        let now = now_ms();
        let lease_ms =
            i64::try_from(lease(&state.config.time_limits).as_millis()).unwrap_or(i64::MAX);
        let request = ClaimRequest {
            scope: &scope,
            fingerprint: &fingerprint,
            claim: &claim,
            now,
            lease_until: now.saturating_add(lease_ms),
            forgotten_before: now - KEEP_MS,
        };
        match state.store.claim_idempotency(&request).await? {
            ClaimOutcome::Claimed => {
                self.hold(Held {
                    store: Arc::clone(&state.store),
                    scope,
                    claim,
                    settled: false,
                });
                Ok(())
            }
            ClaimOutcome::Replay(answer) => Err(ApiError::Replayed(Box::new(answer))),
            ClaimOutcome::Mismatch => Err(ApiError::Unprocessable(REUSED.into())),
            ClaimOutcome::InProgress => Err(ApiError::Conflict(IN_PROGRESS.into())),
        }
    }
}
