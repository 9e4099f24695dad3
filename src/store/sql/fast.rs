//! Point reads on SQLite on the calling thread. sqlx-sqlite runs every
//! statement on a worker thread of its connection and hands rows back through
//! a channel: two thread switches per statement, which is most of what a
//! lookup by key costs. The two reads every API call makes (its key, and the
//! sync recipe's user by external id) are index lookups of microseconds, so
//! here they run directly on a few connections of their own.
//!
//! These connections are read-only (`query_only`), never wait for a lock
//! (busy timeout 0) and are only tried, never waited for: when all are in use
//! or SQLite answers anything but rows, the caller takes the usual path. Each
//! read is its own transaction, so it sees every commit made before it, by
//! this process or any other (a key revoked by the CLI is refused at once).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Statement};

use super::Params;
use super::SqlValue;
use crate::store::rows::{KeyRow, UserRow, KEY_COLUMNS, USER_COLUMNS};

/// Built once: every API call reads its key with it.
static KEY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN companies c ON c.id = k.company_id \
         WHERE k.id = ?1"
    )
});

/// Enough for the runtime's worker threads to rarely find all in use.
const CONNECTIONS: usize = 4;

pub(super) struct FastReads {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl FastReads {
    /// `None` if the file cannot be opened this way; the store then works as before.
    pub(super) fn open(file: &Path) -> Option<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(file, flags)?;
            conn.pragma_update(None, "query_only", true)?;
            conn.busy_timeout(Duration::ZERO)?;
            // An index lookup touches a handful of pages; the default 2 MiB
            // cache a connection would only hold copies of the kernel's pages.
            conn.pragma_update(None, "cache_size", -256)?;
            Ok(conn)
        };
        let connections = (0..CONNECTIONS)
            .map(|_| open().map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| tracing::warn!(error = %e, "SQLite point reads stay on the pool"))
            .ok()?;
        Some(FastReads {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `read` on a free connection; `None` when none is free or the read
    /// failed, for the caller to ask the pool instead.
    fn try_read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.connections.len();
        let conn = (0..n).find_map(|i| self.connections[(start + i) % n].try_lock().ok())?;
        read(&conn)
            .map_err(|e| tracing::debug!(error = %e, "SQLite point read falls back to the pool"))
            .ok()
    }

    /// `Some(None)`: no such key. `None`: ask the pool.
    pub(super) fn api_key(&self, key_id: &str) -> Option<Option<KeyRow>> {
        self.try_read(|conn| {
            let mut stmt = conn.prepare_cached(&KEY_SQL)?;
            let mut rows = stmt.query([key_id])?;
            let Some(r) = rows.next()? else {
                return Ok(None);
            };
            Ok(Some(KeyRow {
                id: r.get(0)?,
                company_id: r.get(1)?,
                name: r.get(2)?,
                environment: r.get(3)?,
                permissions: r.get(4)?,
                secret_hash: r.get(5)?,
                expires_at: r.get(6)?,
                revoked_at: r.get(7)?,
                created_at: r.get(8)?,
                last_used_at: r.get(9)?,
                company_active: r.get(10)?,
            }))
        })
    }

    /// Users matching `where_sql` (with `$N` placeholders bound from `params`).
    pub(super) fn users(&self, where_sql: &str, params: &Params) -> Option<Vec<UserRow>> {
        self.try_read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM customer_users WHERE {where_sql}"
            ))?;
            bind(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            let mut users = Vec::new();
            while let Some(r) = rows.next()? {
                users.push(user_row(r)?);
            }
            Ok(users)
        })
    }

    /// The one-row answer of a statement whose only column is a boolean.
    pub(super) fn holds(&self, sql: &str, params: &Params) -> Option<bool> {
        self.try_read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            bind(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            match rows.next()? {
                Some(r) => r.get(0),
                None => Err(rusqlite::Error::QueryReturnedNoRows),
            }
        })
    }

    /// The rows of `sql`: a key's verdict in the first column, then a user's
    /// columns, null when no user matched. `Some(None)`: the key refused.
    pub(super) fn users_if(&self, sql: &str, params: &Params) -> Option<Option<Vec<UserRow>>> {
        self.try_read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            bind(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            let mut users = Vec::new();
            while let Some(r) = rows.next()? {
                if !r.get::<_, bool>(0)? {
                    return Ok(None);
                }
                if r.get_ref(2)? != rusqlite::types::ValueRef::Null {
                    users.push(user_row_at(r, 1)?);
                }
            }
            Ok(Some(users))
        })
    }
}

/// A row that starts with [`USER_COLUMNS`].
pub(super) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    user_row_at(r, 0)
}

/// A row with [`USER_COLUMNS`] from column `at` on.
fn user_row_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        company_id: r.get(at)?,
        id: r.get(at + 1)?,
        external_id: r.get(at + 2)?,
        name: r.get(at + 3)?,
        email: r.get(at + 4)?,
        metadata: r.get(at + 5)?,
        active: r.get(at + 6)?,
        token_version: r.get(at + 7)?,
        created_at: r.get(at + 8)?,
        updated_at: r.get(at + 9)?,
        last_seen_at: r.get(at + 10)?,
    })
}

/// Binds `params` to the `$N` placeholders of SQL built with them.
pub(super) fn bind(stmt: &mut Statement<'_>, params: &Params) -> rusqlite::Result<()> {
    for (i, value) in params.0.iter().enumerate() {
        let index = if params.1 {
            i + 1
        } else {
            match stmt.parameter_index(&format!("${}", i + 1))? {
                Some(index) => index,
                None => continue,
            }
        };
        match value {
            SqlValue::Text(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::OptText(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::OptInt(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Bool(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Int(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Bytes(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}
