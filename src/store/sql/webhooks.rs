//! Webhook endpoints and the attempts log in SQL, shared by SQLite and
//! PostgreSQL (the deliveries queue is in deliveries.rs).

use async_trait::async_trait;

use super::{on_pool, storable, SqlStore};
use crate::domain::{new_id, IdKind, WebhookAttempt, WebhookEndpoint};
use crate::store::webhooks::{WebhookChanges, WebhookStore};
use crate::store::StoreResult;

const ENDPOINT_COLUMNS: &str = "company_id, id, url, events, description, active, secret, \
     previous_secret, previous_until, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    company_id: String,
    id: String,
    url: String,
    events: String,
    description: Option<String>,
    active: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(r: EndpointRow) -> Self {
        WebhookEndpoint {
            company_id: r.company_id,
            id: r.id,
            url: r.url,
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            description: r.description,
            active: r.active,
            secret: r.secret,
            previous_secret: r.previous_secret,
            previous_until: r.previous_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    event_id: String,
    attempt: i64,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(&self, e: &WebhookEndpoint) -> StoreResult<()> {
        // From now on: past every event already final, and on PostgreSQL
        // before every transaction still running.
        let horizon = self.horizon().await?;
        let (xid, seq): (i64, i64) = if horizon == i64::MAX {
            let max: Option<i64> = on_pool!(&self.pools, write, |p| sqlx::query_scalar(
                "SELECT MAX(seq) FROM events"
            )
            .fetch_one(p)
            .await)?;
            (0, max.unwrap_or(0))
        } else {
            (horizon - 1, i64::MAX)
        };
        let events = serde_json::to_string(&e.events).unwrap_or_else(|_| "[]".into());
        on_pool!(&self.pools, write, |p| sqlx::query(
            "INSERT INTO webhook_endpoints (company_id, id, url, events, description, active, \
             secret, after_xid, after_seq, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
        )
        .bind(&e.company_id)
        .bind(&e.id)
        .bind(&e.url)
        .bind(&events)
        .bind(&e.description)
        .bind(e.active)
        .bind(&e.secret)
        .bind(xid)
        .bind(seq)
        .bind(e.created_at)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    async fn list_webhooks(&self, company_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE company_id = $1 \
             ORDER BY created_at, id"
        );
        let rows: Vec<EndpointRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_webhook(
        &self,
        company_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        if !storable(id) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE company_id = $1 AND id = $2"
        );
        let row: Option<EndpointRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn update_webhook(
        &self,
        company_id: &str,
        id: &str,
        c: &WebhookChanges,
        now: i64,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        if !storable(id) {
            return Ok(None);
        }
        let events = c
            .events
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default());
        let sql = format!(
            "UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events), \
             description = CASE WHEN $5 THEN $6 ELSE description END, \
             active = COALESCE($7, active), updated_at = $8 \
             WHERE company_id = $1 AND id = $2 RETURNING {ENDPOINT_COLUMNS}"
        );
        let row: Option<EndpointRow> = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .bind(&c.url)
            .bind(&events)
            .bind(c.description.is_some())
            .bind(c.description.clone().flatten())
            .bind(c.active)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn delete_webhook(&self, company_id: &str, id: &str) -> StoreResult<bool> {
        if !storable(id) {
            return Ok(false);
        }
        on_pool!(&self.pools, write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE company_id = $1 AND endpoint_id = $2",
            )
            .bind(company_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let gone =
                sqlx::query("DELETE FROM webhook_endpoints WHERE company_id = $1 AND id = $2")
                    .bind(company_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            tx.commit().await?;
            Ok(gone.rows_affected() > 0)
        })
    }

    async fn rotate_webhook_secret(
        &self,
        company_id: &str,
        id: &str,
        secret: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        if !storable(id) {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $4, \
             secret = $3, updated_at = $5 WHERE company_id = $1 AND id = $2 \
             RETURNING {ENDPOINT_COLUMNS}"
        );
        let row: Option<EndpointRow> = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .bind(secret)
            .bind(previous_until)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn webhook_attempts(
        &self,
        company_id: &str,
        endpoint_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        let rows: Vec<AttemptRow> = on_pool!(&self.pools, read, |p| {
            sqlx::query_as(
            "SELECT event_id, attempt, status_code, error, duration_ms, next_attempt_at, created_at \
             FROM webhook_attempts WHERE company_id = $1 AND endpoint_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )
        .bind(company_id)
        .bind(endpoint_id)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| WebhookAttempt {
                event_id: r.event_id,
                attempt: r.attempt,
                status_code: r.status_code,
                error: r.error,
                duration_ms: r.duration_ms,
                next_attempt_at: r.next_attempt_at,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn enqueue_delivery(
        &self,
        company_id: &str,
        endpoint_id: &str,
        event_id: &str,
        body: &str,
        now: i64,
    ) -> StoreResult<()> {
        on_pool!(&self.pools, write, |p| {
            sqlx::query(
            "INSERT INTO webhook_deliveries (company_id, id, endpoint_id, event_id, body, state, \
             attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)"
        )
        .bind(company_id)
        .bind(new_id(IdKind::Delivery))
        .bind(endpoint_id)
        .bind(event_id)
        .bind(body)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}
