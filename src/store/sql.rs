//! The SQL implementation of [`Store`], shared by SQLite and PostgreSQL.
//! Placeholders are `$N`, which both drivers accept.

use async_trait::async_trait;

use super::dialect::{self, connect, on_pool, Backend, ConnectOptions, Pools};
use super::rows::{UserRow, USER_COLUMNS};
use super::{KeyProof, PageRequest, Store, TokenUser, UserFilter};
use crate::domain::{CustomerUser, UserChanges};
use crate::store::StoreResult;

pub struct SqlStore {
    pools: Pools,
    backend: Backend,
    /// SQLite on a file: point reads off sqlx's worker threads (fast.rs).
    fast: Option<fast::FastReads>,
    /// SQLite on a file: token writes committed in groups (group.rs).
    group: Option<group::GroupWriter>,
    /// SQLite's file, when it is one (not in memory): exports read it directly (export.rs).
    file: Option<std::path::PathBuf>,
    /// PostgreSQL: connections for the hot statements, without sqlx's release ping (hot.rs).
    hot: Option<hot::HotConns>,
    /// Name-search totals remembered with the names version they were counted at (counts.rs).
    name_totals: counts::NameTotals,
}

impl SqlStore {
    /// Connects and brings the schema up to date (migrations are embedded).
    pub async fn connect(url: &str, options: &ConnectOptions) -> anyhow::Result<Self> {
        let backend = Backend::of_url(url)?;
        let pools = connect(url, options).await?;
        let file = match backend {
            Backend::Sqlite => match dialect::sqlite_options(url, options)? {
                (_, true) => None,
                (file, false) => Some(file.get_filename().to_owned()),
            },
            Backend::Postgres => None,
        };
        let fast = file.as_deref().and_then(fast::FastReads::open);
        let group = match (&pools, &file) {
            (Pools::Sqlite { write, .. }, Some(file)) => {
                group::GroupWriter::open(file, write.clone())
            }
            _ => None,
        };
        let hot = match &pools {
            Pools::Postgres(pool) => Some(hot::HotConns::new(
                pool.connect_options(),
                pool.options().get_max_connections(),
                pool.options().get_acquire_timeout(),
            )),
            Pools::Sqlite { .. } => None,
        };
        Ok(SqlStore {
            pools,
            backend,
            fast,
            group,
            file,
            hot,
            name_totals: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn pools(&self) -> &Pools {
        &self.pools
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => {
                if let Some(hot) = &self.hot {
                    hot.close().await;
                }
                pool.close().await
            }
        }
    }
}

/// `on_pool!` for the hot statements: on PostgreSQL, on one of the store's
/// own connections (hot.rs). `$body` must leave by `?` on any error: only a
/// body that completes gives its connection back; one that returns early
/// closes it.
macro_rules! on_hot {
    ($store:expr, $side:ident, |$p:ident| $body:expr) => {
        // The store has hot connections on PostgreSQL only.
        match &$store.hot {
            Some(hot) => {
                let mut lent = hot.acquire().await?;
                let value = {
                    let $p = lent.conn();
                    $body
                };
                lent.done();
                value
            }
            None => on_pool!(&$store.pools, $side, |$p| $body),
        }
    };
}

/// A value bound into dynamically built SQL.
enum SqlValue {
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    Int(i64),
    OptInt(Option<i64>),
    Bytes(Vec<u8>),
}

/// Collects `$N` placeholders and their values for SQL built at run time.
/// The second field asks for anonymous `?` placeholders instead (bound in
/// order, each value used once): SQLite finds a `$N` by walking the list of
/// names, so a statement with thousands of them costs their square.
#[derive(Default)]
struct Params(Vec<SqlValue>, bool);

impl Params {
    fn anonymous() -> Self {
        Params(Vec::new(), true)
    }

    fn push(&mut self, value: SqlValue) -> String {
        self.0.push(value);
        if self.1 {
            "?".into()
        } else {
            format!("${}", self.0.len())
        }
    }
}

/// Binds a `Params` list onto a sqlx query; used inside `on_pool!` bodies so
/// it expands once per backend.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for value in $params.0 {
            q = match value {
                SqlValue::Text(v) => q.bind(v),
                SqlValue::OptText(v) => q.bind(v),
                SqlValue::Bool(v) => q.bind(v),
                SqlValue::Int(v) => q.bind(v),
                SqlValue::OptInt(v) => q.bind(v),
                SqlValue::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// PostgreSQL text cannot hold NUL, so no stored id contains one. A lookup by
/// such an id matches nothing on every backend instead of failing in the driver.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

// After the macros and helpers above, which they use.
mod backfill;
mod bulk;
mod chat;
mod chat_sql;
mod counts;
mod daily;
mod deliveries;
mod events;
mod export;
mod export_pg;
mod fan_out;
mod fast;
mod fts;
mod group;
mod group_chat;
mod hot;
mod idempotency;
mod knowledge;
mod knowledge_terms;
mod lookup;
mod recipes;
mod rights;
mod tenants;
mod token_sql;
mod tool_messages;
mod tools;
mod user_sql;

use user_sql::{user_sets, user_where, NameLookup, DENSE_NAME_MATCHES};
mod webhooks;

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        on_pool!(&self.pools, read, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn shared_jwt_secret(&self, candidate: &str) -> StoreResult<String> {
        on_pool!(&self.pools, write, |p| {
            sqlx::query("INSERT INTO settings (name, value) VALUES ('jwt_secret', $1) ON CONFLICT (name) DO NOTHING")
                .bind(candidate)
                .execute(p)
                .await?;
            let secret: String =
                sqlx::query_scalar("SELECT value FROM settings WHERE name = 'jwt_secret'")
                    .fetch_one(p)
                    .await?;
            Ok(secret)
        })
    }

    async fn user_for_token(
        &self,
        company_id: &str,
        agent_id: &str,
        external_id: &str,
        now: i64,
        key: Option<KeyProof<'_>>,
    ) -> StoreResult<TokenUser> {
        self.token_user(company_id, agent_id, external_id, now, key)
            .await
    }

    async fn invalidate_tokens(&self, company_id: &str, user_id: &str) -> StoreResult<Option<i64>> {
        if !storable(user_id) {
            return Ok(None);
        }
        let version: Option<i64> = on_pool!(&self.pools, write, |p| sqlx::query_scalar(
            "UPDATE customer_users SET token_version = token_version + 1 \
             WHERE company_id = $1 AND id = $2 RETURNING token_version"
        )
        .bind(company_id)
        .bind(user_id)
        .fetch_optional(p)
        .await)?;
        Ok(version)
    }

    async fn list_users(
        &self,
        company_id: &str,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CustomerUser>, i64)> {
        if filter.external_id.is_some() {
            return self.list_by_external_id(company_id, filter, page).await;
        }
        let total = self.user_total(company_id, filter).await?;
        if page.offset() >= total {
            return Ok((Vec::new(), total));
        }
        let lookup = match self.backend {
            _ if total > DENSE_NAME_MATCHES => NameLookup::Walk,
            Backend::Sqlite => NameLookup::Trigram,
            Backend::Postgres => NameLookup::Like,
        };
        let mut params = Params::default();
        let where_sql = user_where(company_id, filter, &mut params, lookup);
        let limit = params.push(SqlValue::Int(i64::from(page.limit)));
        let offset = params.push(SqlValue::Int(page.offset()));
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM customer_users WHERE {where_sql} \
             ORDER BY created_at, id LIMIT {limit} OFFSET {offset}"
        );
        let rows: Vec<UserRow> = on_pool!(&self.pools, read, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_all(p)
        .await)?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    async fn list_users_checking_key(
        &self,
        company_id: &str,
        key: Option<KeyProof<'_>>,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<CustomerUser>, i64)>> {
        match key {
            Some(key) => self.list_with_key(key, filter, page).await,
            None => Ok(Some(self.list_users(company_id, filter, page).await?)),
        }
    }

    async fn get_user(&self, company_id: &str, user_id: &str) -> StoreResult<Option<CustomerUser>> {
        if !storable(user_id) {
            return Ok(None);
        }
        let sql =
            format!("SELECT {USER_COLUMNS} FROM customer_users WHERE company_id = $1 AND id = $2");
        let row: Option<UserRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn update_user(
        &self,
        company_id: &str,
        user_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<Option<CustomerUser>> {
        if !storable(user_id) {
            return Ok(None);
        }
        let mut params = Params::default();
        let mut sets = vec![format!("updated_at = {}", params.push(SqlValue::Int(now)))];
        sets.extend(user_sets(changes, &mut params));
        let company = params.push(SqlValue::Text(company_id.into()));
        let id = params.push(SqlValue::Text(user_id.into()));
        let sql = format!(
            "UPDATE customer_users SET {} WHERE company_id = {company} AND id = {id} RETURNING {USER_COLUMNS}",
            sets.join(", ")
        );
        let row: Option<UserRow> = on_pool!(&self.pools, write, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_optional(p)
        .await)?;
        Ok(row.map(Into::into))
    }
}
