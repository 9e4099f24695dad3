//! Everything that differs between SQLite and PostgreSQL: connecting, pragmas,
//! pool shape and the migration set. The SQL in `sql.rs` is shared.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE or postgres://…")
        }
    }
}

/// SQLite allows one writer at a time, so writes go through a pool of one
/// connection (they queue in the pool instead of spinning on SQLITE_BUSY) and
/// reads use their own pool, which WAL lets run beside the writer.
pub(super) enum Pools {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        _checkpointer: Checkpointer,
    },
    Postgres(PgPool),
}

/// SQLite's automatic checkpoints are passive: under a steady stream of
/// overlapping reads they never get to reset the WAL, which then grows without
/// bound and slows every read (seen: 650 MB of WAL after a minute of token
/// calls). So a task checkpoints on the writer once a second in TRUNCATE mode,
/// which waits for current readers to move on and then starts the WAL afresh.
/// It waits at most `CHECKPOINT_WAIT`, since writes queue behind it: a reader
/// that stays (say, another process's long transaction) costs one skipped
/// checkpoint, not a stall. It ends with the store.
pub(super) struct Checkpointer(tokio::task::JoinHandle<()>);

const CHECKPOINT_WAIT: Duration = Duration::from_millis(50);
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Checkpointer {
    fn start(write: SqlitePool) -> Self {
        Checkpointer(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !write.is_closed() {
                tick.tick().await;
                if let Err(e) = checkpoint(&write).await {
                    if write.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "SQLite checkpoint failed; will retry");
                }
            }
        }))
    }
}

async fn checkpoint(write: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = write.acquire().await?;
    let pragma = |ms: u128| format!("PRAGMA busy_timeout = {ms}");
    sqlx::query(&pragma(CHECKPOINT_WAIT.as_millis()))
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut *conn)
        .await;
    if sqlx::query(&pragma(BUSY_TIMEOUT.as_millis()))
        .execute(&mut *conn)
        .await
        .is_err()
    {
        // Never hand a writer with the short timeout back to the pool.
        conn.close_on_drop();
    }
    done.map(|_| ())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool for reads or writes.
/// The body is compiled once per backend, so the SQL stays shared while each
/// backend keeps its native, statically typed driver.
macro_rules! on_pool {
    ($pools:expr, read, |$pool:ident| $body:expr) => {
        match $pools {
            $crate::store::dialect::Pools::Sqlite { read: $pool, .. } => $body,
            $crate::store::dialect::Pools::Postgres($pool) => $body,
        }
    };
    ($pools:expr, write, |$pool:ident| $body:expr) => {
        match $pools {
            $crate::store::dialect::Pools::Sqlite { write: $pool, .. } => $body,
            $crate::store::dialect::Pools::Postgres($pool) => $body,
        }
    };
}
pub(super) use on_pool;

/// SQLite's name search: candidates from the trigram index (migration 0002);
/// the shared `LIKE` then confirms each. PostgreSQL needs no extra condition:
/// its planner uses a trigram index for the `LIKE` itself.
pub(super) const SQLITE_NAME_SEARCH: &str =
    "seq IN (SELECT rowid FROM customer_users_name_search WHERE customer_users_name_search MATCH $phrase)";

pub struct ConnectOptions {
    /// Connections in the (read) pool; SQLite's writer pool always has one.
    pub pool_size: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions { pool_size: 8 }
    }
}

pub(super) async fn connect(url: &str, options: &ConnectOptions) -> anyhow::Result<Pools> {
    let acquire = Duration::from_secs(10);
    match Backend::of_url(url)? {
        Backend::Sqlite => {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // Other processes (the admin CLI) may write to the same file.
                .busy_timeout(BUSY_TIMEOUT);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(acquire)
                .connect_with(connect.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(options.pool_size.max(1))
                .acquire_timeout(acquire)
                .connect_with(connect)
                .await?;
            Ok(Pools::Sqlite {
                read,
                _checkpointer: Checkpointer::start(write.clone()),
                write,
            })
        }
        Backend::Postgres => {
            let pool = PgPoolOptions::new()
                .max_connections(options.pool_size.max(1))
                .acquire_timeout(acquire)
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Pools::Postgres(pool))
        }
    }
}
