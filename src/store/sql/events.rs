//! The change feed's SQL, shared by SQLite and PostgreSQL. The events
//! themselves are written by triggers (migrations `*_events.sql`), in the
//! transaction of the change each describes; here they are only read and,
//! past their retention, deleted. The feed's order is (`xid`, `seq`), and
//! `dialect::feed_visible` says which events a reader may see yet.

use async_trait::async_trait;

use super::{on_pool, storable, Params, SqlStore, SqlValue};
use crate::domain::EventRecord;
use crate::store::dialect::feed_horizon_sql;
use crate::store::events::{EventStore, FeedPage};
use crate::store::StoreResult;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    #[sqlx(rename = "type")]
    kind: String,
    created_at: i64,
    data: String,
}

impl From<EventRow> for EventRecord {
    fn from(r: EventRow) -> Self {
        EventRecord {
            id: r.id,
            kind: r.kind,
            created_at: r.created_at,
            data: r.data,
        }
    }
}

#[async_trait]
impl EventStore for SqlStore {
    async fn events_after(
        &self,
        company_id: &str,
        after: Option<&str>,
        types: &[String],
        limit: u32,
    ) -> StoreResult<Option<FeedPage>> {
        let position: (i64, i64) = match after {
            None => (-1, -1),
            Some(id) if !storable(id) => return Ok(None),
            Some(id) => {
                let found: Option<(i64, i64)> = on_pool!(&self.pools, read, |p| sqlx::query_as(
                    "SELECT xid, seq FROM events WHERE company_id = $1 AND id = $2"
                )
                .bind(company_id)
                .bind(id)
                .fetch_optional(p)
                .await)?;
                match found {
                    Some(position) => position,
                    None => return Ok(None),
                }
            }
        };
        let mut params = Params::default();
        let company = params.push(SqlValue::Text(company_id.into()));
        let xid = params.push(SqlValue::Int(position.0));
        let seq = params.push(SqlValue::Int(position.1));
        let mut sql = format!(
            "SELECT id, type, created_at, data FROM events WHERE company_id = {company} \
             AND (xid, seq) > ({xid}, {seq})"
        );
        if let Some(horizon_sql) = feed_horizon_sql(self.backend) {
            let horizon: i64 = on_pool!(&self.pools, read, |p| sqlx::query_scalar(horizon_sql)
                .fetch_one(p)
                .await)?;
            sql += &format!(" AND xid < {}", params.push(SqlValue::Int(horizon)));
        }
        if !types.is_empty() {
            let names: Vec<String> = types
                .iter()
                .map(|t| params.push(SqlValue::Text(t.clone())))
                .collect();
            sql += &format!(" AND type IN ({})", names.join(", "));
        }
        let fetch = params.push(SqlValue::Int(i64::from(limit) + 1));
        sql += &format!(" ORDER BY xid, seq LIMIT {fetch}");
        let mut rows: Vec<EventRow> = on_pool!(&self.pools, read, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_all(p)
        .await)?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok(Some(FeedPage {
            events: rows.into_iter().map(Into::into).collect(),
            has_more,
        }))
    }

    async fn purge_events(&self, company_id: &str, before: i64, batch: u32) -> StoreResult<u64> {
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "DELETE FROM events WHERE company_id = $1 AND id IN (SELECT id FROM events \
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
