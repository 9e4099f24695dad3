//! Many new users in one statement, for bulk create (docs/API.md §4.5): one multi-row
//! INSERT instead of a statement, and a commit, per user.

use std::collections::HashMap;

use super::recipes::{insert_values, INSERT_USERS};
use super::{on_pool, Backend, Params, SqlStore, SqlValue};
use crate::domain::{new_id, CustomerUser, IdKind, UserChanges};
use crate::store::rows::{UserRow, USER_COLUMNS};
use crate::store::StoreResult;

/// Rows per statement: 11 parameters a row stays below both backends' limits
/// (SQLite 32 766, PostgreSQL 65 535).
const ROWS_PER_STATEMENT: usize = 1000;

impl SqlStore {
    pub(super) async fn insert_many(
        &self,
        company_id: &str,
        users: &[(&str, &UserChanges)],
        now: i64,
    ) -> StoreResult<Vec<Option<CustomerUser>>> {
        // Built afresh for the fallback below: nothing of the first try was
        // written, so its ids need not be kept.
        let statements = || -> Vec<(String, Params)> {
            users
                .chunks(ROWS_PER_STATEMENT)
                .map(|chunk| {
                    let mut params = match self.backend() {
                        Backend::Sqlite => Params::anonymous(),
                        Backend::Postgres => Params::default(),
                    };
                    let rows: Vec<String> = chunk
                        .iter()
                        .map(|(external_id, changes)| {
                            let id = new_id(IdKind::CustomerUser);
                            insert_values(company_id, &id, external_id, changes, now, &mut params)
                        })
                        .collect();
                    // DO NOTHING returns only the rows this statement inserted, so
                    // a user that already existed is simply missing from the answer.
                    let sql = format!(
                        "{INSERT_USERS} {} ON CONFLICT (company_id, external_id) DO NOTHING \
                     RETURNING {USER_COLUMNS}",
                        rows.join(", ")
                    );
                    (sql, params)
                })
                .collect()
        };
        // One transaction: one commit (one fsync) for the whole request. On a
        // SQLite file it runs on the group-commit thread (group.rs), and falls
        // back here only if that fails, with nothing written.
        let grouped = match &self.group {
            Some(group) => group.insert_users(statements()).await,
            None => None,
        };
        let inserted: Vec<UserRow> = match grouped {
            Some(rows) => rows,
            None => on_pool!(self.pools(), write, |p| {
                let mut tx = p.begin().await?;
                let mut inserted = Vec::with_capacity(users.len());
                for (sql, params) in statements() {
                    let rows: Vec<UserRow> = bind_params!(sqlx::query_as(&sql), params)
                        .fetch_all(&mut *tx)
                        .await?;
                    inserted.extend(rows);
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(inserted)
            })?,
        };
        let mut created: HashMap<String, CustomerUser> = inserted
            .into_iter()
            .map(|row| {
                let user = CustomerUser::from(row);
                (user.external_id.clone(), user)
            })
            .collect();
        // RETURNING promises no order: match the rows up by external id,
        // which the caller keeps distinct.
        Ok(users
            .iter()
            .map(|(external_id, _)| created.remove(*external_id))
            .collect())
    }
}
