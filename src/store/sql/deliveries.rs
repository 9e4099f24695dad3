//! The deliveries queue in SQL, shared by SQLite and PostgreSQL.
//!
//! Fan-out (each endpoint's share of the feed, a window at a time) is in
//! fan_out.rs. Sending: a node takes a delivery's lease with a conditional
//! UPDATE (only one node's can match), so no delivery is sent by two nodes
//! at once, and a dead node's lease lapses. A delivery is `pending` until
//! its first failed attempt, `retrying` after: only pending ones fill the
//! endpoint's window, so deliveries waiting out a retry (up to hours) never
//! hold back the events behind them.

use async_trait::async_trait;

use super::fan_out::{room, Endpoint};
use super::{on_pool, SqlStore};
use crate::domain::{new_id, IdKind};
use crate::store::dialect::{attempt_with, feed_horizon_sql};
use crate::store::webhooks::{
    AttemptOutcome, DeliveryQueue, DeliveryTarget, FannedOut, LeasedDelivery,
};
use crate::store::StoreResult;

/// Binds [`INSERT_ATTEMPT`]'s `$1`–`$11` for delivery `$d`'s attempt with
/// outcome `$o` at `$now` (a macro: the query's database differs by pool).
macro_rules! bind_attempt {
    ($query:expr, $d:expr, $o:expr, $now:expr) => {
        $query
            .bind(&$d.company_id)
            .bind(new_id(IdKind::Attempt))
            .bind(&$d.endpoint_id)
            .bind(&$d.id)
            .bind(&$d.event_id)
            .bind($d.attempts + 1)
            .bind($o.status_code)
            .bind(&$o.error)
            .bind($o.duration_ms)
            .bind($o.next_attempt_at)
            .bind($now)
    };
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    company_id: String,
    id: String,
    endpoint_id: String,
    event_id: String,
    body: String,
    attempts: i64,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
}

impl SqlStore {
    /// The position below which every event is committed or abandoned for
    /// good (`i64::MAX` on SQLite, where every committed event is final).
    pub(super) async fn horizon(&self) -> StoreResult<i64> {
        match feed_horizon_sql(self.backend) {
            None => Ok(i64::MAX),
            Some(sql) => Ok(on_pool!(&self.pools, read, |p| sqlx::query_scalar(sql)
                .fetch_one(p)
                .await)?),
        }
    }
}

#[async_trait]
impl DeliveryQueue for SqlStore {
    async fn fan_out(&self, now: i64, batch: u32, window: u32) -> StoreResult<FannedOut> {
        // The endpoints table is small (endpoints, not events): a company
        // without one costs nothing here. Each endpoint's pending count
        // comes along (an index range of about a window at most), so one whose
        // window is full costs no write transaction.
        let endpoints: Vec<(String, String, String, i64)> = on_pool!(&self.pools, read, |p| {
            sqlx::query_as(
                "SELECT e.company_id, e.id, e.events, (SELECT COUNT(*) FROM webhook_deliveries d \
                 WHERE d.company_id = e.company_id AND d.endpoint_id = e.id \
                 AND d.state = 'pending') FROM webhook_endpoints e WHERE e.active",
            )
            .fetch_all(p)
            .await
        })?;
        let open: Vec<Endpoint> = endpoints
            .into_iter()
            .filter(|(_, _, _, pending)| room(*pending, window) > 0)
            .map(|(company_id, id, events, _)| Endpoint {
                company_id,
                id,
                wanted: serde_json::from_str(&events).unwrap_or_default(),
            })
            .collect();
        let mut total = FannedOut::default();
        if open.is_empty() {
            return Ok(total);
        }
        let horizon = self.horizon().await?;
        for endpoint in &open {
            let done = self
                .fan_out_endpoint(endpoint, horizon, now, batch, window)
                .await?;
            total.queued += done.queued;
            total.passed += done.passed;
        }
        Ok(total)
    }

    async fn due_deliveries(
        &self,
        now: i64,
        busy: &[String],
        limit: u32,
    ) -> StoreResult<Vec<LeasedDelivery>> {
        // Deliveries are deleted once done, so this reads pending work only.
        let mut sql = String::from(
            "SELECT d.company_id, d.id, d.endpoint_id, d.event_id, d.body, d.attempts, \
             e.url, e.secret, e.previous_secret, e.previous_until \
             FROM webhook_deliveries d JOIN webhook_endpoints e \
             ON e.company_id = d.company_id AND e.id = d.endpoint_id AND e.active \
             WHERE d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)",
        );
        for i in 0..busy.len() {
            sql += &format!(" AND d.endpoint_id <> ${}", i + 3);
        }
        sql += " ORDER BY d.next_attempt_at LIMIT $2";
        let rows: Vec<DeliveryRow> = on_pool!(&self.pools, read, |p| {
            let mut q = sqlx::query_as(&sql).bind(now).bind(i64::from(limit));
            for b in busy {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| LeasedDelivery {
                company_id: r.company_id,
                id: r.id,
                endpoint_id: r.endpoint_id,
                event_id: r.event_id,
                body: r.body,
                attempts: r.attempts,
                target: DeliveryTarget {
                    url: r.url,
                    secret: r.secret,
                    previous_secret: r.previous_secret,
                    previous_until: r.previous_until,
                },
            })
            .collect())
    }

    async fn lease_delivery(
        &self,
        company_id: &str,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let taken = on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = $3, lease_until = $5 \
             WHERE company_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until < $4)"
        )
        .bind(company_id)
        .bind(id)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }

    async fn record_attempt(
        &self,
        d: &LeasedDelivery,
        owner: &str,
        o: &AttemptOutcome,
        now: i64,
    ) -> StoreResult<()> {
        // PostgreSQL: the usual outcomes in one statement (`attempt_with`).
        if !o.gone {
            let then = match o.next_attempt_at {
                Some(_) => RETRY_AFTER_ATTEMPT,
                None => DONE_AFTER_ATTEMPT,
            };
            if let Some(sql) = attempt_with(self.backend, INSERT_ATTEMPT, then) {
                on_pool!(&self.pools, write, |p| bind_attempt!(
                    sqlx::query(&sql),
                    d,
                    o,
                    now
                )
                .bind(owner)
                .execute(p)
                .await
                .map(|_| ()))?;
                return Ok(());
            }
        }
        on_pool!(&self.pools, write, |p| {
            let mut tx = p.begin().await?;
            bind_attempt!(sqlx::query(INSERT_ATTEMPT), d, o, now)
                .execute(&mut *tx)
                .await?;
            match o.next_attempt_at {
                Some(next) => {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $4, \
                         state = 'retrying', lease_owner = NULL, lease_until = NULL \
                         WHERE company_id = $1 AND id = $2 AND lease_owner = $3",
                    )
                    .bind(&d.company_id)
                    .bind(&d.id)
                    .bind(owner)
                    .bind(next)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "DELETE FROM webhook_deliveries WHERE company_id = $1 AND id = $2 \
                         AND lease_owner = $3",
                    )
                    .bind(&d.company_id)
                    .bind(&d.id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if o.gone {
                sqlx::query(
                    "UPDATE webhook_endpoints SET active = FALSE, updated_at = $3 \
                     WHERE company_id = $1 AND id = $2",
                )
                .bind(&d.company_id)
                .bind(&d.endpoint_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE company_id = $1 AND endpoint_id = $2",
                )
                .bind(&d.company_id)
                .bind(&d.endpoint_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn delivery_backlog(&self) -> StoreResult<(i64, Option<i64>)> {
        Ok(on_pool!(&self.pools, read, |p| sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries"
        )
        .fetch_one(p)
        .await)?)
    }
}

/// An attempt of a leased delivery: `$1`–`$11` (company, attempt id,
/// endpoint, delivery, event, attempt number, status, error, duration, next
/// attempt, time).
const INSERT_ATTEMPT: &str = "INSERT INTO webhook_attempts (company_id, id, endpoint_id, \
    delivery_id, event_id, attempt, status_code, error, duration_ms, next_attempt_at, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// After [`INSERT_ATTEMPT`] in one statement, `$12` the lease's owner: the
/// delivery waits for its retry at `$10`, out of the fan-out window.
const RETRY_AFTER_ATTEMPT: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, \
    next_attempt_at = $10, state = 'retrying', lease_owner = NULL, lease_until = NULL \
    WHERE company_id = $1 AND id = $4 AND lease_owner = $12";

/// Likewise: the delivery is done (delivered or given up).
const DONE_AFTER_ATTEMPT: &str =
    "DELETE FROM webhook_deliveries WHERE company_id = $1 AND id = $4 AND lease_owner = $12";
