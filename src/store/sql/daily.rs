//! The console's daily figures (`GET /stats/daily`): per UTC day, users
//! active, users created, conversations started and messages written.
//! Creation counts are index ranges on each table's `(company_id,
//! created_at…)` index, grouped by day number (integer division, the same on
//! both databases). Active users are the distinct users of two sources: the
//! days kept in `user_activity` (the days a token moved `last_seen_at` away
//! from, and the days of users' chat messages) and each user's latest day,
//! the day of `last_seen_at` (docs/API.md, "Daily stats").

use chrono::{Days, NaiveDate};

use super::{on_pool, SqlStore};
use crate::domain::DAY_MS;
use crate::store::dialect::{activity_day, Backend};
use crate::store::{DailyStats, StoreResult};

/// The three creation counts in one statement: kind, day number, count.
const CREATED_SQL: &str = "\
    SELECT 'u', created_at / 86400000, COUNT(*) FROM customer_users \
    WHERE company_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 2 \
    UNION ALL SELECT 'c', created_at / 86400000, COUNT(*) FROM conversations \
    WHERE company_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 2 \
    UNION ALL SELECT 'm', created_at / 86400000, COUNT(*) FROM messages \
    WHERE company_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 2";

/// Days are `YYYY-MM-DD` text, which sorts as the dates do; `UNION` counts a
/// user once a day whichever source names them, or both. Each side is a
/// range of a `company_id`-led index.
fn active_sql(backend: Backend) -> String {
    let seen_day = activity_day(backend, "last_seen_at");
    format!(
        "SELECT day, COUNT(*) FROM (\
         SELECT day, customer_user_id FROM user_activity \
         WHERE company_id = $1 AND day >= $2 AND day <= $3 \
         UNION SELECT {seen_day} AS day, id FROM customer_users \
         WHERE company_id = $1 AND last_seen_at >= $4 AND last_seen_at < $5) AS active \
         GROUP BY day"
    )
}

impl SqlStore {
    pub(super) async fn daily(
        &self,
        company_id: &str,
        first: NaiveDate,
        days: u32,
    ) -> StoreResult<Vec<DailyStats>> {
        let mut out: Vec<DailyStats> = (0..days)
            .filter_map(|i| first.checked_add_days(Days::new(i.into())))
            .map(|date| DailyStats {
                date,
                ..DailyStats::default()
            })
            .collect();
        let (Some(start), Some(last)) = (out.first(), out.last()) else {
            return Ok(out);
        };
        let (start, last) = (start.date, last.date);
        let start_ms = day_number(start) * DAY_MS;
        let end_ms = (day_number(last) + 1) * DAY_MS;
        let created: Vec<(String, i64, i64)> =
            on_pool!(&self.pools, read, |p| sqlx::query_as(CREATED_SQL)
                .bind(company_id)
                .bind(start_ms)
                .bind(end_ms)
                .fetch_all(p)
                .await)?;
        let first_number = day_number(start);
        for (kind, day, n) in created {
            let Some(slot) = usize::try_from(day - first_number)
                .ok()
                .and_then(|i| out.get_mut(i))
            else {
                continue;
            };
            match kind.as_str() {
                "u" => slot.new_users = n,
                "c" => slot.conversations = n,
                _ => slot.messages = n,
            }
        }
        let active_sql = active_sql(self.backend);
        let active: Vec<(String, i64)> =
            on_pool!(&self.pools, read, |p| sqlx::query_as(&active_sql)
                .bind(company_id)
                .bind(start.to_string())
                .bind(last.to_string())
                .bind(start_ms)
                .bind(end_ms)
                .fetch_all(p)
                .await)?;
        for (day, n) in active {
            let Ok(date) = day.parse::<NaiveDate>() else {
                continue;
            };
            if let Some(slot) = out.iter_mut().find(|s| s.date == date) {
                slot.active_users = n;
            }
        }
        Ok(out)
    }
}

/// Days since 1970-01-01.
fn day_number(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}
