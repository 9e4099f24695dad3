//! The two hot statements of the API: the sync recipe's lookup by external id
//! and token generation's find-or-create, each in one statement, optionally
//! with the caller's API key checked in that same statement ([`KeyProof`]).

use sqlx::{FromRow, Row};

use super::token_sql::{key_holds, token_upsert_sql, ARCHIVE_DAY_SQL};
use super::{group, on_pool, storable, user_where, NameLookup, Params, SqlStore, SqlValue};
use crate::domain::{new_id, CustomerUser, IdKind};
use crate::store::dialect::{token_with_left_day, Backend};
use crate::store::rows::{IssuedRow, UserRow, USER_COLUMNS};
use crate::store::{KeyProof, PageRequest, Store, StoreResult, TenantStore, TokenUser, UserFilter};

/// [`key_holds`] with the key's values pushed onto `params`.
fn key_holds_bound(key: KeyProof<'_>, params: &mut Params) -> String {
    let sql = key_holds(params.0.len() + 1);
    params.0.push(SqlValue::Text(key.key_id.into()));
    params.0.push(SqlValue::Text(key.company_id.into()));
    params.0.push(SqlValue::Bytes(key.secret_hash.into()));
    sql
}

/// The users a page asks for out of every match.
fn page_of(rows: Vec<UserRow>, page: PageRequest) -> (Vec<CustomerUser>, i64) {
    let total = rows.len() as i64;
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let users = rows
        .into_iter()
        .skip(skip)
        .take(page.limit as usize)
        .map(Into::into)
        .collect();
    (users, total)
}

impl SqlStore {
    /// A listing filtered by external id matches at most one user (the
    /// unique (company_id, external_id) constraint), so one statement reads
    /// every match and the total is their number: the sync recipe's lookup
    /// costs one query instead of a count and a page.
    pub(super) async fn list_by_external_id(
        &self,
        company_id: &str,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CustomerUser>, i64)> {
        let mut params = Params::default();
        let where_sql = user_where(company_id, filter, &mut params, NameLookup::Like);
        let fast = self
            .fast
            .as_ref()
            .and_then(|f| f.users(&where_sql, &params));
        let rows: Vec<UserRow> = match fast {
            Some(rows) => rows,
            None => {
                let sql = format!("SELECT {USER_COLUMNS} FROM customer_users WHERE {where_sql}");
                on_pool!(&self.pools, read, |p| bind_params!(
                    sqlx::query_as(&sql),
                    params
                )
                .fetch_all(p)
                .await)?
            }
        };
        Ok(page_of(rows, page))
    }

    /// Whether the key still holds, as a statement of its own.
    async fn key_still_holds(&self, key: KeyProof<'_>) -> StoreResult<bool> {
        let mut params = Params::default();
        let sql = format!("SELECT {}", key_holds_bound(key, &mut params));
        if let Some(holds) = self.fast.as_ref().and_then(|f| f.holds(&sql, &params)) {
            return Ok(holds);
        }
        let holds: bool = on_pool!(&self.pools, read, |p| bind_params!(
            sqlx::query_scalar(&sql),
            params
        )
        .fetch_one(p)
        .await)?;
        Ok(holds)
    }

    pub(super) async fn list_with_key(
        &self,
        key: KeyProof<'_>,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<CustomerUser>, i64)>> {
        if filter.external_id.is_none() {
            // A search is a count and a page: one more statement is little.
            if !self.key_still_holds(key).await? {
                return Ok(None);
            }
            return Ok(Some(self.list_users(key.company_id, filter, page).await?));
        }
        // One row with the key's verdict, joined with the match if any (the
        // verdict comes back even when no user matches). Inlined, PostgreSQL
        // would work the verdict out twice, so it is materialized there;
        // SQLite works it out once either way, and materialized it would
        // build and drop a temporary table per lookup (a tenth of its CPU).
        let mut params = Params::default();
        let where_sql = user_where(key.company_id, filter, &mut params, NameLookup::Like);
        let held_sql = key_holds_bound(key, &mut params);
        let materialized = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "MATERIALIZED",
        };
        let sql = format!(
            "WITH held AS {materialized} (SELECT {held_sql} AS key_ok) \
             SELECT held.key_ok, {USER_COLUMNS} FROM held \
             LEFT JOIN customer_users ON held.key_ok AND {where_sql}"
        );
        // On SQLite, one read transaction for the key and the user instead
        // of one each: the transaction's locks cost more than the lookups.
        if let Some(rows) = self.fast.as_ref().and_then(|f| f.users_if(&sql, &params)) {
            return Ok(rows.map(|rows| page_of(rows, page)));
        }
        let rows: Option<Vec<UserRow>> = on_hot!(self, read, |p| {
            let rows = bind_params!(sqlx::query(&sql), params).fetch_all(p).await?;
            let (mut users, mut held) = (Vec::with_capacity(rows.len()), true);
            for row in &rows {
                held &= row.try_get::<bool, _>("key_ok")?;
                if held && row.try_get::<Option<String>, _>("id")?.is_some() {
                    users.push(UserRow::from_row(row)?);
                }
            }
            held.then_some(users)
        });
        Ok(rows.map(|rows| page_of(rows, page)))
    }

    pub(super) async fn token_user(
        &self,
        company_id: &str,
        agent_id: &str,
        external_id: &str,
        now: i64,
        key: Option<KeyProof<'_>>,
    ) -> StoreResult<TokenUser> {
        if !storable(agent_id) {
            return Ok(match key {
                Some(key) if !self.key_still_holds(key).await? => TokenUser::KeyRefused,
                _ => TokenUser::AgentNotFound,
            });
        }
        // One statement on the hot path (token_sql::token_upsert_sql): no row
        // back means the agent, the user or the key (when given) refused.
        let id = new_id(IdKind::CustomerUser);
        // SQLite commits its writes in groups (group.rs).
        let grouped = match &self.group {
            Some(group) => {
                let write = group::TokenWrite {
                    company_id: company_id.into(),
                    new_id: id.clone(),
                    external_id: external_id.into(),
                    now,
                    agent_id: agent_id.into(),
                    key: key.map(|key| group::TokenKey {
                        key_id: key.key_id.into(),
                        company_id: key.company_id.into(),
                        secret_hash: key.secret_hash.into(),
                    }),
                };
                group.token_upsert(write).await
            }
            None => None,
        };
        let row: Option<IssuedRow> = match grouped {
            Some(row) => row,
            None => {
                let key_sql = key.map(|_| format!(" AND {}", key_holds(6)));
                let upsert = token_upsert_sql(&key_sql.unwrap_or_default());
                let bound = TokenBinds {
                    company_id,
                    id: &id,
                    external_id,
                    now,
                    agent_id,
                    key,
                };
                match token_with_left_day(self.backend, &upsert) {
                    // One statement keeps the day it leaves (PostgreSQL).
                    Some(sql) => {
                        on_hot!(self, write, |p| bound.query(&sql).fetch_optional(p).await?)
                    }
                    // SQLite: the token and the day it leaves in one transaction.
                    None => on_pool!(&self.pools, write, |p| {
                        let mut tx = p.begin().await?;
                        let row: Option<IssuedRow> =
                            bound.query(&upsert).fetch_optional(&mut *tx).await?;
                        if let Some(day) = row.as_ref().and_then(IssuedRow::left_day) {
                            sqlx::query(ARCHIVE_DAY_SQL)
                                .bind(company_id)
                                .bind(day)
                                .bind(row.as_ref().map(|r| r.user.id.as_str()))
                                .execute(&mut *tx)
                                .await?;
                        }
                        tx.commit().await?;
                        row
                    }),
                }
            }
        };
        if let Some(row) = row {
            return Ok(TokenUser::Issued {
                agent_name: row.agent_name,
                user: Box::new(row.user.into()),
            });
        }
        // The refusal path only: say which check refused.
        if let Some(key) = key {
            if !self.key_still_holds(key).await? {
                return Ok(TokenUser::KeyRefused);
            }
        }
        Ok(match self.get_agent(company_id, agent_id).await? {
            Some(agent) if agent.active => TokenUser::UserInactive,
            _ => TokenUser::AgentNotFound,
        })
    }
}

/// The values token issue's statement binds, `$1` to `$8`.
struct TokenBinds<'a> {
    company_id: &'a str,
    id: &'a str,
    external_id: &'a str,
    now: i64,
    agent_id: &'a str,
    key: Option<KeyProof<'a>>,
}

impl<'a> TokenBinds<'a> {
    fn query<'q, DB>(
        &self,
        sql: &'q str,
    ) -> sqlx::query::QueryAs<'q, DB, IssuedRow, <DB as sqlx::Database>::Arguments<'q>>
    where
        'a: 'q,
        DB: sqlx::Database,
        IssuedRow: for<'r> FromRow<'r, DB::Row>,
        &'a str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        &'a [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut query = sqlx::query_as(sql)
            .bind(self.company_id)
            .bind(self.id)
            .bind(self.external_id)
            .bind(self.now)
            .bind(self.agent_id);
        if let Some(key) = self.key {
            query = query
                .bind(key.key_id)
                .bind(key.company_id)
                .bind(key.secret_hash);
        }
        query
    }
}
