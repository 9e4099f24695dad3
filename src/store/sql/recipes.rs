//! SQL for the recipes (docs/API.md §4.4, §4.5), shared by SQLite and PostgreSQL.

use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use serde_json::{Map, Value};

use super::dialect::{Backend, Pools};
use super::{on_pool, storable, user_sets, user_where, NameLookup, Params, SqlStore, SqlValue};
use crate::domain::{
    fold, merge_patch, new_id, CustomerUser, Field, IdKind, Metadata, UserChanges, DAY_MS,
};
use crate::store::rows::{UserRow, USER_COLUMNS};
use crate::store::{DailyStats, UserRecipes, UserStats};
use crate::store::{EncodeUser, ExportChunks, ExportRow, MergeOutcome, UserFilter, UserKey};
use crate::store::{StoreError, StoreResult};

/// Merges retry when another writer changed the metadata in between; each
/// retry re-reads, so this only runs out under pathological contention.
const MERGE_ATTEMPTS: u32 = 64;

const EXPORT_COLUMNS: &str =
    "id, external_id, name, email, metadata, active, created_at, updated_at, last_seen_at";

/// Columns and values of a new user with `changes` applied to the defaults
/// token generation uses (active, no token version bump, `{}` metadata).
fn insert_sql(
    company_id: &str,
    id: &str,
    external_id: &str,
    changes: &UserChanges,
    now: i64,
    params: &mut Params,
) -> String {
    let values = insert_values(company_id, id, external_id, changes, now, params);
    format!("{INSERT_USERS} {values} ON CONFLICT (company_id, external_id)")
}

/// The head of an INSERT of new users, followed by one or more rows of
/// [`insert_values`] (which fills the columns in this order).
pub(super) const INSERT_USERS: &str =
    "INSERT INTO customer_users (company_id, id, external_id, name, name_folded, email, \
     email_folded, metadata, active, token_version, created_at, updated_at, last_seen_at) VALUES";

/// The parenthesised VALUES row of [`insert_sql`]'s columns.
pub(super) fn insert_values(
    company_id: &str,
    id: &str,
    external_id: &str,
    changes: &UserChanges,
    now: i64,
    params: &mut Params,
) -> String {
    let name = match &changes.name {
        Field::Set(n) => Some(n.as_str().to_owned()),
        _ => None,
    };
    let email = match &changes.email {
        Field::Set(e) => Some(e.as_str().to_owned()),
        _ => None,
    };
    let values = [
        params.push(SqlValue::Text(company_id.into())),
        params.push(SqlValue::Text(id.into())),
        params.push(SqlValue::Text(external_id.into())),
        params.push(SqlValue::OptText(name.clone())),
        params.push(SqlValue::OptText(name.map(|n| fold(&n)))),
        params.push(SqlValue::OptText(email.clone())),
        params.push(SqlValue::OptText(email.map(|e| fold(&e)))),
        params.push(SqlValue::Text(
            changes
                .metadata
                .as_ref()
                .map_or_else(|| "{}".into(), Metadata::to_json_text),
        )),
        params.push(SqlValue::Bool(changes.active.unwrap_or(true))),
        params.push(SqlValue::Int(now)),
        // Twice, so that each placeholder is used once (see `Params`).
        params.push(SqlValue::Int(now)),
    ];
    let [company, id, ext, name, name_f, email, email_f, metadata, active, created, updated] =
        values;
    format!(
        "({company}, {id}, {ext}, {name}, {name_f}, {email}, {email_f}, {metadata}, \
         {active}, 0, {created}, {updated}, NULL)"
    )
}

/// A short random pause, growing with the attempt, so merges that keep
/// colliding spread out instead of colliding again in lockstep.
async fn backoff(attempt: u32) {
    let cap = 1u64 << attempt.min(4);
    let ms = rand::thread_rng().gen_range(0..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[async_trait]
impl UserRecipes for SqlStore {
    // Compare-and-swap on the stored metadata text: read, merge in Rust (the
    // same code and limits on both backends), then write only if the text is
    // still what was read, else retry. This needs no row locks, no
    // backend-specific SQL (SQLite has no SELECT … FOR UPDATE) and no
    // migration; a concurrent change that restored the same text is harmless,
    // since the merge result depends on nothing but that text.
    async fn merge_user(
        &self,
        company_id: &str,
        key: UserKey<'_>,
        changes: &UserChanges,
        metadata_patch: Option<&Map<String, Value>>,
        now: i64,
    ) -> StoreResult<MergeOutcome> {
        let (column, value) = match key {
            UserKey::Id(v) => ("id", v),
            UserKey::ExternalId(v) => ("external_id", v),
        };
        if !storable(value) {
            return Ok(MergeOutcome::NotFound);
        }
        let find = format!(
            "SELECT id, metadata FROM customer_users WHERE company_id = $1 AND {column} = $2"
        );
        let fields = UserChanges {
            metadata: match metadata_patch {
                Some(_) => None,
                None => changes.metadata.clone(),
            },
            ..changes.clone()
        };
        for attempt in 0..MERGE_ATTEMPTS {
            // Read on the writer pool: on SQLite it sees the latest commit,
            // which makes a lost race (and a retry) less likely.
            let found: Option<(String, String)> =
                on_pool!(&self.pools, write, |p| sqlx::query_as(&find)
                    .bind(company_id)
                    .bind(value)
                    .fetch_optional(p)
                    .await)?;
            let Some((id, stored)) = found else {
                return Ok(MergeOutcome::NotFound);
            };
            let mut params = Params::default();
            let mut sets = vec![format!("updated_at = {}", params.push(SqlValue::Int(now)))];
            sets.extend(user_sets(&fields, &mut params));
            let mut guard = String::new();
            if let Some(patch) = metadata_patch {
                let merged = match merge_patch(&Metadata::from_stored(&stored), patch) {
                    Ok(m) => m,
                    Err(e) => return Ok(MergeOutcome::Invalid(e)),
                };
                let p = params.push(SqlValue::Text(merged.to_json_text()));
                sets.push(format!("metadata = {p}"));
                guard = format!(" AND metadata = {}", params.push(SqlValue::Text(stored)));
            }
            let company = params.push(SqlValue::Text(company_id.into()));
            let id = params.push(SqlValue::Text(id));
            let sql = format!(
                "UPDATE customer_users SET {} WHERE company_id = {company} AND id = {id}{guard} \
                 RETURNING {USER_COLUMNS}",
                sets.join(", ")
            );
            let row: Option<UserRow> = on_pool!(&self.pools, write, |p| bind_params!(
                sqlx::query_as(&sql),
                params
            )
            .fetch_optional(p)
            .await)?;
            match row {
                Some(row) => return Ok(MergeOutcome::Updated(Box::new(row.into()))),
                // Without a guard, no row means the user is gone.
                None if metadata_patch.is_none() => return Ok(MergeOutcome::NotFound),
                None => backoff(attempt).await,
            }
        }
        Err(StoreError::Contention(
            "metadata kept changing concurrently; retry the request",
        ))
    }

    // The unique (company_id, external_id) constraint decides between insert
    // and update inside one statement, so concurrent calls cannot both
    // create. The row we get back is ours exactly when it has the id we made.
    async fn upsert_user(
        &self,
        company_id: &str,
        external_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<(CustomerUser, bool)> {
        let new = new_id(IdKind::CustomerUser);
        let mut params = Params::default();
        let insert = insert_sql(company_id, &new, external_id, changes, now, &mut params);
        let mut sets = vec!["updated_at = excluded.updated_at".to_owned()];
        sets.extend(user_sets(changes, &mut params));
        let sql = format!(
            "{insert} DO UPDATE SET {} RETURNING {USER_COLUMNS}",
            sets.join(", ")
        );
        let row: UserRow = on_pool!(&self.pools, write, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_one(p)
        .await)?;
        let user = CustomerUser::from(row);
        let created = user.id == new;
        Ok((user, created))
    }

    async fn insert_user(
        &self,
        company_id: &str,
        external_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<Option<CustomerUser>> {
        let new = new_id(IdKind::CustomerUser);
        let mut params = Params::default();
        let insert = insert_sql(company_id, &new, external_id, changes, now, &mut params);
        let sql = format!("{insert} DO NOTHING RETURNING {USER_COLUMNS}");
        let row: Option<UserRow> = on_pool!(&self.pools, write, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_optional(p)
        .await)?;
        Ok(row.map(Into::into))
    }

    async fn insert_users(
        &self,
        company_id: &str,
        users: &[(&str, &UserChanges)],
        now: i64,
    ) -> StoreResult<Vec<Option<CustomerUser>>> {
        self.insert_many(company_id, users, now).await
    }

    // Keyset pagination: each batch starts after the last (created_at, id)
    // seen, so it costs the same at row 10 000 as at row 0 (the index
    // (company_id, created_at, id) serves it). The condition must be the row
    // value `(created_at, id) > (a, b)`: PostgreSQL turns only that form into
    // an index bound; spelt out with OR it scans the company's index from its
    // first row each batch, which makes the export quadratic.
    async fn export_users(
        &self,
        company_id: &str,
        filter: &UserFilter,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<ExportRow>> {
        let mut params = Params::default();
        // No trigram lookup: the export walks every match in list order
        // anyway, which is what the (company_id, created_at, id) index serves.
        let mut where_sql = user_where(company_id, filter, &mut params, NameLookup::Like);
        if let Some((created_at, id)) = after {
            let a = params.push(SqlValue::Int(created_at));
            let b = params.push(SqlValue::Text(id.into()));
            where_sql += &format!(" AND (created_at, id) > ({a}, {b})");
        }
        let limit = params.push(SqlValue::Int(i64::from(limit)));
        let sql = format!(
            "SELECT {EXPORT_COLUMNS} FROM customer_users WHERE {where_sql} \
             ORDER BY created_at, id LIMIT {limit}"
        );
        let rows: Vec<ExportRow> = match &self.pools {
            Pools::Sqlite { read, .. } => {
                bind_params!(sqlx::query_as(&sql), params)
                    .fetch_all(read)
                    .await?
            }
            // Right after a bulk load PostgreSQL's statistics are stale, and
            // it then prefers a bitmap scan of every row after the cursor,
            // sorted, over the index walk in list order: each batch would
            // cost the rest of the table. Without sorts allowed, only the
            // walk remains, whatever the statistics say.
            Pools::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET LOCAL enable_sort = off")
                    .execute(&mut *tx)
                    .await?;
                let rows = bind_params!(sqlx::query_as(&sql), params)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows
            }
        };
        Ok(rows)
    }

    async fn export_chunks(
        &self,
        company_id: &str,
        filter: &UserFilter,
        encode: EncodeUser,
    ) -> StoreResult<Option<ExportChunks>> {
        let mut params = Params::default();
        let where_sql = user_where(company_id, filter, &mut params, NameLookup::Like);
        let sql = format!(
            "SELECT {EXPORT_COLUMNS} FROM customer_users WHERE {where_sql} ORDER BY created_at, id"
        );
        match self.backend {
            Backend::Sqlite => self.export_snapshot(sql, params, encode).await,
            Backend::Postgres => self.export_stream(sql, params, encode).await,
        }
    }

    // Totals from the counts the triggers keep (migration 0004); the time
    // windows are index range counts on (company_id, last_seen_at), so they
    // cost what the recently seen users number. The windows compare with
    // `>` as the seed's dashboard does. One read snapshot for all four.
    async fn user_stats(&self, company_id: &str, now: i64) -> StoreResult<UserStats> {
        let sql = "SELECT \
             COALESCE((SELECT total FROM customer_user_counts WHERE company_id = $1), 0), \
             COALESCE((SELECT active FROM customer_user_counts WHERE company_id = $1), 0), \
             (SELECT COUNT(*) FROM customer_users WHERE company_id = $1 AND last_seen_at > $2), \
             (SELECT COUNT(*) FROM customer_users WHERE company_id = $1 AND last_seen_at > $3)";
        let (total, active, last_day, last_week): (i64, i64, i64, i64) =
            on_pool!(&self.pools, read, |p| sqlx::query_as(sql)
                .bind(company_id)
                .bind(now - DAY_MS)
                .bind(now - 7 * DAY_MS)
                .fetch_one(p)
                .await)?;
        Ok(UserStats {
            total,
            active,
            last_day,
            last_week,
        })
    }

    async fn daily_stats(
        &self,
        company_id: &str,
        first: chrono::NaiveDate,
        days: u32,
    ) -> StoreResult<Vec<DailyStats>> {
        self.daily(company_id, first, days).await
    }
}
