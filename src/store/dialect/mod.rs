//! Everything that differs between SQLite and PostgreSQL: connecting, pragmas,
//! pool shape and the migration set (`connect`). The SQL in `sql.rs` is shared.

mod connect;

pub(super) use connect::{connect, sqlite_options};

use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

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
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// A PostgreSQL connection idle for this long is pinged before it is used.
pub(super) const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

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

/// The trigram index's rowids of one company (migration 0005): its number
/// shifted left by 40 bits, or'ed with each user's `seq` (1099511627775 is
/// 2^40 - 1, the mask of `seq`).
const SQLITE_NAME_RANGE: &str = "customer_users_name_search MATCH $phrase \
     AND rowid BETWEEN (SELECT num << 40 FROM name_search_companies WHERE company_id = $company) \
     AND (SELECT (num << 40) | 1099511627775 FROM name_search_companies WHERE company_id = $company)";

/// SQLite's name search: candidates from the trigram index, within the
/// company's range; the shared `LIKE` then confirms each. PostgreSQL needs no
/// extra condition: its planner uses a trigram index for the `LIKE` itself.
pub(super) fn sqlite_name_search(phrase: &str, company: &str) -> String {
    format!(
        "seq IN (SELECT rowid & 1099511627775 FROM customer_users_name_search WHERE {})",
        sqlite_name_range(phrase, company)
    )
}

/// A name search's exact total on SQLite, counted on the trigram index
/// alone. Only for a filter on the name and nothing else, of three or more
/// characters: on text folded to lower case, a phrase of the case-sensitive
/// trigram index matches exactly the names the `LIKE` would, so no row is
/// read to confirm.
pub(super) fn sqlite_name_count(phrase: &str, company: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM customer_users_name_search WHERE {}",
        sqlite_name_range(phrase, company)
    )
}

fn sqlite_name_range(phrase: &str, company: &str) -> String {
    SQLITE_NAME_RANGE
        .replace("$phrase", phrase)
        .replace("$company", company)
}

pub struct ConnectOptions {
    /// Connections in the (read) pool; SQLite's writer pool always has one.
    pub pool_size: u32,
    /// Whether a missing SQLite file may be created, and so whether the
    /// caller will write (checked at once). Only the server, the quickstart
    /// and a copy's target do: an admin command pointed at the wrong folder
    /// must say so, not work on a new, empty database.
    pub create: bool,
    /// Whether an in-memory SQLite database is acceptable. It is never saved,
    /// so only an explicit request gets one.
    pub allow_in_memory: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            pool_size: 8,
            create: false,
            allow_in_memory: false,
        }
    }
}

/// Why a database could not be opened, in one line that names the cause and
/// the fix; the driver's own words follow only where they add something.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Refused(String),
    #[error("{context}")]
    Driver {
        context: String,
        #[source]
        source: sqlx::Error,
    },
}

const CONNECT_HINT: &str = "set --database-url (or PERFORMCHAT_DATABASE_URL) to sqlite://FILE or postgres://USER[:PASSWORD]@HOST[:PORT]/DB";

/// Page cache of each reader connection, in KiB (negative: SQLite's unit
/// for a size in KiB rather than pages). SQLite's default is 2 MiB a
/// connection; the readers' share of the file is in the kernel's page cache
/// anyway, so a miss costs a `pread`, while eight readers at 2 MiB, plus what
/// the allocator kept around them, were a third of the server's memory
/// (docs/PERFORMANCE.md). The writer keeps the default: its cache holds the
/// index pages that bulk inserts touch again and again.
pub(super) const READER_CACHE_SIZE: &str = "-512";

/// The change feed's horizon (docs/EVENTS.md): a reader may see the events
/// whose `xid` is below it. SQLite has one writer and numbers events inside
/// its transaction, so the committed events are a prefix of `seq` order and
/// every one is shown: no horizon. PostgreSQL numbers them before commit, so
/// an event with a smaller position can commit after one with a larger: the
/// horizon is the oldest transaction of this database that was running when
/// this statement's snapshot was taken and still is (every earlier one has
/// finished, and any later one has a larger xid), or the snapshot's xmax when
/// none is. Only this database's transactions count (`pg_stat_activity`,
/// sampled after the snapshot), so a long transaction elsewhere on the
/// server does not hold the feed back. It must run as its own statement,
/// before the read that uses it, so that read's snapshot is the later one.
pub(super) fn feed_horizon_sql(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            "SELECT COALESCE((SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) x \
             WHERE x::text::bigint % 4294967296 IN (SELECT backend_xid::text::bigint \
             FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL)), \
             pg_snapshot_xmax(pg_current_snapshot())::text::bigint)",
        ),
    }
}

/// Locks a row read inside a transaction against other nodes, skipping it
/// when one already holds it (PostgreSQL). SQLite's single writer needs no
/// lock; the statements that follow re-check what they change.
pub(super) fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    }
}

/// Locks the rows a statement inside a transaction reads until it ends
/// (PostgreSQL): an erasure locks the user and their conversations first, so
/// a chat write or a new conversation racing it waits and then finds them
/// gone, rather than adding a row the erasure's deletes would trip over.
/// SQLite's single writer needs no lock.
pub(super) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// What an erased user's event keeps (docs/API.md §12): its object's id and
/// `"erased": true`. The object of `tokens.invalidated` is the user, whose id
/// is the row's `customer_user_id`.
pub(super) fn erased_event_data(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "json_object('id', COALESCE(json_extract(data, '$.id'), customer_user_id), \
             'erased', json('true'))"
        }
        Backend::Postgres => {
            "json_build_object('id', COALESCE(data::json->>'id', customer_user_id), \
             'erased', true)::text"
        }
    }
}

/// A UTC day as `user_activity` keeps it (`YYYY-MM-DD`), of a column of
/// milliseconds since the epoch. `user_activity_day` is PostgreSQL's
/// function of migration `activity`.
pub(super) fn activity_day(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%d', {column} / 1000, 'unixepoch')"),
        Backend::Postgres => format!("user_activity_day({column})"),
    }
}

/// Token issue's statement with the day it moves `last_seen_at` away from
/// written to `user_activity` (docs/API.md, "Daily stats"): on PostgreSQL
/// in the same statement, by a data-modifying CTE, so the day is written
/// exactly when the token is. SQLite has no such CTE (`None`): its callers
/// write the day in the token statement's transaction
/// (`IssuedRow::left_day`).
pub(super) fn token_with_left_day(backend: Backend, upsert: &str) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(format!(
            "WITH issued AS ({upsert}), left_day AS (INSERT INTO user_activity \
             (company_id, day, customer_user_id) SELECT company_id, \
             user_activity_day(previous_seen_at), id FROM issued \
             WHERE previous_seen_at / 86400000 <> last_seen_at / 86400000 \
             ON CONFLICT DO NOTHING) SELECT * FROM issued"
        )),
    }
}

/// A webhook attempt's `INSERT` and what it does to its delivery (`then`, an
/// `UPDATE` or `DELETE`) as one statement: on PostgreSQL a data-modifying
/// CTE, one round trip instead of `BEGIN`, two statements and `COMMIT`, each
/// paid by the server and the database (docs/PERFORMANCE.md, "With the
/// fan-out window"). SQLite has no such CTE and no round trips to save:
/// its callers keep the transaction (`None`).
pub(super) fn attempt_with(backend: Backend, insert: &str, then: &str) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(format!("WITH attempt AS ({insert}) {then}")),
    }
}
