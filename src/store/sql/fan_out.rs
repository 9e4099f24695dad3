//! Fan-out in SQL, shared by SQLite and PostgreSQL: an endpoint's new events
//! become deliveries a window at a time (docs/EVENTS.md, "How fan-out is
//! paced").
//!
//! Each active endpoint keeps its position in the feed's order; a node turns
//! the events after it into deliveries and moves the position in one
//! transaction, the endpoint row locked (PostgreSQL, skipping rows another
//! node holds) and the move conditional on the position it read, so two
//! nodes never queue an event twice. Only while the endpoint has at most
//! half its window of deliveries pending does a node queue more, up to the
//! window: the rest stays in the feed behind the position, so a burst costs
//! the writer rows at the rate the endpoint takes them, not at the rate the
//! events were written.

use super::{on_pool, SqlStore};
use crate::domain::{delivery_body, new_id, render_data, IdKind};
use crate::store::dialect::skip_locked;
use crate::store::webhooks::FannedOut;
use crate::store::StoreResult;

/// Delivery rows per `INSERT`: three parameters each (company, endpoint and
/// time are `$1`–`$3` of all), far below SQLite's 32 766 and PostgreSQL's
/// 65 535, and small enough that SQLite's by-name parameter lookup stays cheap.
const INSERT_ROWS: usize = 100;

/// One active endpoint as the fan-out sees it.
pub(super) struct Endpoint {
    pub company_id: String,
    pub id: String,
    /// The event types it asked for (`*`: all).
    pub wanted: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    id: String,
    #[sqlx(rename = "type")]
    kind: String,
    created_at: i64,
    data: String,
    xid: i64,
    seq: i64,
}

/// How many deliveries an endpoint with `pending` of them may have queued
/// now: none until at most half of `window` is pending, then up to the
/// window. Refilling by halves gives each fan-out transaction many rows to
/// write at once instead of one per finished send, while the half still
/// queued keeps the senders busy until the refill.
pub(super) fn room(pending: i64, window: u32) -> u64 {
    let window = i64::from(window);
    if pending.saturating_mul(2) > window {
        return 0;
    }
    u64::try_from(window - pending.max(0)).unwrap_or(0)
}

/// Which of `rows` (in feed order) to queue with `room` free: the wanted
/// ones, at most `room` of them; and how many rows the position moves past.
/// Unwanted rows are passed without counting against the room, but never
/// beyond the last wanted one that fits: the position stops right after it.
fn pick<'a>(rows: &'a [FeedRow], wanted: &[String], room: u64) -> (Vec<&'a FeedRow>, usize) {
    let mut taken = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !wanted.iter().any(|w| w == "*" || *w == row.kind) {
            continue;
        }
        taken.push(row);
        if taken.len() as u64 >= room {
            return (taken, i + 1);
        }
    }
    (taken, rows.len())
}

/// `INSERT` of `rows` pending deliveries: per row its id, event id and body.
fn insert_sql(rows: usize) -> String {
    let values = (0..rows)
        .map(|r| {
            let p = 3 * r + 4;
            format!(
                "($1, ${p}, $2, ${}, ${}, 'pending', 0, $3, $3)",
                p + 1,
                p + 2
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO webhook_deliveries (company_id, id, endpoint_id, event_id, body, state, \
         attempts, next_attempt_at, created_at) VALUES {values}"
    )
}

impl SqlStore {
    /// Fans out one endpoint's new events, as far as its window allows.
    pub(super) async fn fan_out_endpoint(
        &self,
        endpoint: &Endpoint,
        horizon: i64,
        now: i64,
        batch: u32,
        window: u32,
    ) -> StoreResult<FannedOut> {
        let (company_id, id) = (endpoint.company_id.as_str(), endpoint.id.as_str());
        let lock = format!(
            "SELECT after_xid, after_seq FROM webhook_endpoints WHERE company_id = $1 AND id = $2 \
             AND active{}",
            skip_locked(self.backend)
        );
        let wants_all = endpoint.wanted.iter().any(|w| w == "*");
        on_pool!(&self.pools, write, |p| {
            let mut tx = p.begin().await?;
            let position: Option<(i64, i64)> = sqlx::query_as(&lock)
                .bind(company_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((xid, seq)) = position else {
                return Ok(FannedOut::default());
            };
            // Counted again under the lock: the caller's count may be stale,
            // and another node may have queued since.
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1 \
                 AND endpoint_id = $2 AND state = 'pending'",
            )
            .bind(company_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let room = room(pending, window);
            if room == 0 {
                return Ok(FannedOut::default());
            }
            // Every row read is wanted when the endpoint takes all types, so
            // reading more than fits would be wasted.
            let limit = if wants_all {
                room.min(u64::from(batch))
            } else {
                u64::from(batch)
            };
            let rows: Vec<FeedRow> = sqlx::query_as(
                "SELECT id, type, created_at, data, xid, seq FROM events WHERE company_id = $1 \
                 AND (xid, seq) > ($2, $3) AND xid < $4 ORDER BY xid, seq LIMIT $5",
            )
            .bind(company_id)
            .bind(xid)
            .bind(seq)
            .bind(horizon)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await?;
            let (taken, passed) = pick(&rows, &endpoint.wanted, room);
            let Some(last) = passed.checked_sub(1).map(|i| &rows[i]) else {
                return Ok(FannedOut::default());
            };
            let moved = sqlx::query(
                "UPDATE webhook_endpoints SET after_xid = $3, after_seq = $4 WHERE company_id = $1 \
                 AND id = $2 AND after_xid = $5 AND after_seq = $6",
            )
            .bind(company_id)
            .bind(id)
            .bind(last.xid)
            .bind(last.seq)
            .bind(xid)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                // Another node moved it first: its deliveries stand.
                return Ok(FannedOut::default());
            }
            for chunk in taken.chunks(INSERT_ROWS) {
                let sql = insert_sql(chunk.len());
                let mut q = sqlx::query(&sql).bind(company_id).bind(id).bind(now);
                for e in chunk {
                    let body = delivery_body(&e.kind, e.created_at, render_data(&e.data));
                    q = q.bind(new_id(IdKind::Delivery)).bind(&e.id).bind(body);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(FannedOut {
                queued: taken.len() as u64,
                passed: passed as u64,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, kind: &str) -> FeedRow {
        FeedRow {
            id: format!("evt_{seq}"),
            kind: kind.into(),
            created_at: 0,
            data: "{}".into(),
            xid: 1,
            seq,
        }
    }

    #[test]
    fn room_opens_at_half_the_window_and_fills_it() {
        assert_eq!(room(0, 256), 256);
        assert_eq!(room(128, 256), 128);
        assert_eq!(room(129, 256), 0);
        assert_eq!(room(256, 256), 0);
        assert_eq!(room(300, 256), 0);
        assert_eq!(room(0, 1), 1);
        assert_eq!(room(1, 1), 0);
    }

    #[test]
    fn unwanted_events_are_passed_without_taking_room() {
        let rows: Vec<FeedRow> = ["a", "b", "b", "a", "b", "a", "b"]
            .iter()
            .enumerate()
            .map(|(i, k)| row(i as i64, k))
            .collect();
        let wanted = vec!["a".to_owned()];
        // Room for two: the position stops right after the second "a".
        let (taken, passed) = pick(&rows, &wanted, 2);
        assert_eq!(taken.iter().map(|r| r.seq).collect::<Vec<_>>(), [0, 3]);
        assert_eq!(passed, 4);
        // Room for all: every row is passed, trailing unwanted ones too.
        let (taken, passed) = pick(&rows, &wanted, 10);
        assert_eq!(taken.len(), 3);
        assert_eq!(passed, 7);
        // Nothing wanted: all passed, none taken.
        let (taken, passed) = pick(&rows, &["c".to_owned()], 1);
        assert!(taken.is_empty());
        assert_eq!(passed, 7);
        let (taken, passed) = pick(&rows, &["*".to_owned()], 3);
        assert_eq!((taken.len(), passed), (3, 3));
    }

    #[test]
    fn the_insert_numbers_each_rows_parameters_after_the_shared_ones() {
        assert_eq!(
            insert_sql(2),
            "INSERT INTO webhook_deliveries (company_id, id, endpoint_id, event_id, body, state, \
             attempts, next_attempt_at, created_at) VALUES \
             ($1, $4, $2, $5, $6, 'pending', 0, $3, $3), ($1, $7, $2, $8, $9, 'pending', 0, $3, $3)"
        );
    }
}
