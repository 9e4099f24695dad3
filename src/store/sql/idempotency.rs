//! `Idempotency-Key` rows, the same SQL on SQLite and PostgreSQL. A claim is
//! an insert that conflicts on the primary key; a row found instead is
//! replayed, refused, or — forgotten (past 24 h) or left by a request whose
//! lease lapsed — taken over by an update conditional on the claim read, so
//! two takers cannot both win.

use async_trait::async_trait;

use super::{on_pool, SqlStore};
use crate::domain::KeptAnswer;
use crate::store::idempotency::{ClaimOutcome, ClaimRequest, IdempotencyScope, IdempotencyStore};
use crate::store::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct Row {
    fingerprint: Vec<u8>,
    claim: String,
    lease_until: Option<i64>,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
    created_at: i64,
}

/// Rounds of claim, read and takeover before giving up: each lost round
/// means another request changed the row in between, which is rare.
const ROUNDS: usize = 4;

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn claim_idempotency(&self, r: &ClaimRequest<'_>) -> StoreResult<ClaimOutcome> {
        let s = r.scope;
        for _ in 0..ROUNDS {
            let inserted = on_pool!(&self.pools, write, |p| sqlx::query(
                "INSERT INTO idempotency_keys \
                 (company_id, api_key_id, idem_key, fingerprint, claim, lease_until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (company_id, api_key_id, idem_key) DO NOTHING"
            )
            .bind(&s.company_id)
            .bind(&s.api_key_id)
            .bind(&s.key)
            .bind(r.fingerprint)
            .bind(r.claim)
            .bind(r.lease_until)
            .bind(r.now)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
            if inserted == 1 {
                return Ok(ClaimOutcome::Claimed);
            }
            let found: Option<Row> = on_pool!(&self.pools, write, |p| sqlx::query_as(
                "SELECT fingerprint, claim, lease_until, status, headers, body, created_at \
                 FROM idempotency_keys \
                 WHERE company_id = $1 AND api_key_id = $2 AND idem_key = $3"
            )
            .bind(&s.company_id)
            .bind(&s.api_key_id)
            .bind(&s.key)
            .fetch_optional(p)
            .await)?;
            // Released between our insert and our read: claim again.
            let Some(row) = found else { continue };
            let forgotten = row.created_at < r.forgotten_before;
            let lapsed = row.status.is_none() && row.lease_until.is_some_and(|t| t < r.now);
            if forgotten || lapsed {
                if self.take_over(r, &row.claim).await? {
                    return Ok(ClaimOutcome::Claimed);
                }
                continue;
            }
            if row.fingerprint != r.fingerprint {
                return Ok(ClaimOutcome::Mismatch);
            }
            let Some(status) = row.status else {
                return Ok(ClaimOutcome::InProgress);
            };
            let headers = match row.headers.as_deref() {
                Some(json) => serde_json::from_str(json).map_err(bad_row)?,
                None => Vec::new(),
            };
            return Ok(ClaimOutcome::Replay(KeptAnswer {
                status: u16::try_from(status).map_err(bad_row)?,
                headers,
                body: row.body.unwrap_or_default(),
            }));
        }
        // Every round lost to another request on the same key: it is busy.
        Ok(ClaimOutcome::InProgress)
    }

    async fn keep_idempotent_answer(
        &self,
        s: &IdempotencyScope,
        claim: &str,
        answer: &KeptAnswer,
    ) -> StoreResult<bool> {
        let headers = serde_json::to_string(&answer.headers).map_err(bad_row)?;
        let done = on_pool!(&self.pools, write, |p| {
            sqlx::query(
            "UPDATE idempotency_keys SET status = $5, headers = $6, body = $7, lease_until = NULL \
             WHERE company_id = $1 AND api_key_id = $2 AND idem_key = $3 AND claim = $4 \
             AND status IS NULL"
        )
        .bind(&s.company_id)
        .bind(&s.api_key_id)
        .bind(&s.key)
        .bind(claim)
        .bind(i64::from(answer.status))
        .bind(headers)
        .bind(&answer.body)
        .execute(p)
        .await
        .map(|done| done.rows_affected())
        })?;
        Ok(done == 1)
    }

    async fn release_idempotency(&self, s: &IdempotencyScope, claim: &str) -> StoreResult<()> {
        on_pool!(&self.pools, write, |p| sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE company_id = $1 AND api_key_id = $2 AND idem_key = $3 AND claim = $4 \
             AND status IS NULL"
        )
        .bind(&s.company_id)
        .bind(&s.api_key_id)
        .bind(&s.key)
        .bind(claim)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    async fn purge_idempotency(
        &self,
        company_id: &str,
        before: i64,
        batch: u32,
    ) -> StoreResult<u64> {
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "DELETE FROM idempotency_keys WHERE company_id = $1 \
             AND (api_key_id, idem_key) IN (SELECT api_key_id, idem_key FROM idempotency_keys \
             WHERE company_id = $1 AND created_at < $2 LIMIT $3)"
        )
        .bind(company_id)
        .bind(before)
        .bind(i64::from(batch))
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done)
    }
}

/// A kept row that does not read back as written: the driver's decode error.
fn bad_row(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Other(sqlx::Error::Decode(Box::new(e)))
}

impl SqlStore {
    /// Replaces a forgotten row or a lapsed claim with `r`'s, if the row
    /// still holds the claim `seen`; `false` when another request changed it.
    async fn take_over(&self, r: &ClaimRequest<'_>, seen: &str) -> StoreResult<bool> {
        let s = r.scope;
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE idempotency_keys SET fingerprint = $5, claim = $6, lease_until = $7, \
             status = NULL, headers = NULL, body = NULL, created_at = $8 \
             WHERE company_id = $1 AND api_key_id = $2 AND idem_key = $3 AND claim = $4"
        )
        .bind(&s.company_id)
        .bind(&s.api_key_id)
        .bind(&s.key)
        .bind(seen)
        .bind(r.fingerprint)
        .bind(r.claim)
        .bind(r.lease_until)
        .bind(r.now)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }
}
