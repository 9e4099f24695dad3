//! Connecting to either database: the pools' shape and pragmas, the
//! migrations, and failures told in the operator's terms.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;

use super::{
    Backend, Checkpointer, ConnectError, ConnectOptions, Pools, BUSY_TIMEOUT, CONNECT_HINT,
    IDLE_PING_AFTER, READER_CACHE_SIZE,
};

/// Opens the pools `url` names and brings its schema up to date.
pub(in crate::store) async fn connect(
    url: &str,
    options: &ConnectOptions,
) -> Result<Pools, ConnectError> {
    let backend = Backend::of_url(url).map_err(|e| ConnectError::Refused(format!("{e}")))?;
    match backend {
        Backend::Sqlite => connect_sqlite(url, options).await,
        Backend::Postgres => connect_postgres(url, options).await,
    }
}

/// How long a pool waits for a connection before giving up.
const ACQUIRE: Duration = Duration::from_secs(10);

/// The writer (which runs the migrations) and the readers of a SQLite file.
async fn connect_sqlite(url: &str, options: &ConnectOptions) -> Result<Pools, ConnectError> {
    let acquire = ACQUIRE;
    let (connect, in_memory) = sqlite_options(url, options)?;
    let connect = connect
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Erased text (docs/API.md §12) must not linger in the file's free
        // space: every connection that writes zeroes what it frees (a
        // deleted row, the old copy of a rewritten one). Per connection, so
        // set here for all of ours (and in sql/group.rs for the group writer).
        .pragma("secure_delete", "ON")
        // Other processes (the admin CLI) may write to the same file.
        .busy_timeout(BUSY_TIMEOUT);
    let file = connect.get_filename().display().to_string();
    let mut write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(acquire);
    if in_memory {
        // An in-memory database lives as long as one connection to it.
        write = write
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let write = write
        .connect_with(connect.clone())
        .await
        .map_err(|e| sqlite_error(&file, e))?;
    // A read-only file opens without complaint and fails at the first
    // write, far from here (for the server: reading the JWT secret).
    // The commands that will write (`create`) find out now, before any
    // migration, by rewriting `user_version` with its own value: a real
    // write of SQLite's header that changes nothing. The others (an
    // admin listing, a copy's source) may well read a read-only file.
    if options.create {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&write)
            .await
            .map_err(|e| sqlite_error(&file, e))?;
        sqlx::query(&format!("PRAGMA user_version = {version}"))
            .execute(&write)
            .await
            .map_err(|e| sqlite_error(&file, e))?;
    }
    sqlx::migrate!("./migrations/sqlite")
        .run(&write)
        .await
        .map_err(|e| ConnectError::Refused(format!("migrating {file}: {e}")))?;
    let read = SqlitePoolOptions::new()
        .max_connections(options.pool_size.max(1))
        .acquire_timeout(acquire)
        .connect_with(connect.pragma("cache_size", READER_CACHE_SIZE))
        .await
        .map_err(|e| sqlite_error(&file, e))?;
    Ok(Pools::Sqlite {
        read,
        _checkpointer: Checkpointer::start(write.clone()),
        write,
    })
}

/// A PostgreSQL pool, after one direct attempt that names any failure.
async fn connect_postgres(url: &str, options: &ConnectOptions) -> Result<Pools, ConnectError> {
    let acquire = ACQUIRE;
    let connect = PgConnectOptions::from_str(url).map_err(|e| {
        ConnectError::Refused(format!(
            "invalid PostgreSQL URL: {}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DB",
            driver_reason(&e)
        ))
    })?;
    // The pool retries a failed connection until its acquire timeout
    // and then only says "timed out"; one direct attempt first tells
    // the real cause at once (refused, unknown database, auth).
    let probe = tokio::time::timeout(acquire, PgConnection::connect_with(&connect)).await;
    match probe {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) => return Err(postgres_error(&connect, e)),
        Err(_) => {
            return Err(ConnectError::Refused(format!(
                "PostgreSQL at {} did not answer within {}s: check the host, port and firewall",
                pg_address(&connect),
                acquire.as_secs()
            )))
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size.max(1))
        .acquire_timeout(acquire)
        // sqlx pings a connection when it goes back to the pool and,
        // by default, again when it is taken: a round trip of its own
        // before every statement. One released less than a second
        // ago has just answered that first ping; only one idle for
        // longer (a database restarted meanwhile) is checked again.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_PING_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect.clone())
        .await
        .map_err(|e| postgres_error(&connect, e))?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|e| ConnectError::Refused(format!("migrating the PostgreSQL database: {e}")))?;
    Ok(Pools::Postgres(pool))
}

/// The SQLite options a URL gives, and whether the database is in memory.
pub(in crate::store) fn sqlite_options(
    url: &str,
    options: &ConnectOptions,
) -> Result<(SqliteConnectOptions, bool), ConnectError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or("");
    let in_memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    if in_memory && !options.allow_in_memory {
        return Err(ConnectError::Refused(if path.is_empty() {
            format!("the database URL {url:?} names no file: use sqlite://FILE, e.g. sqlite://performchat.db")
        } else {
            format!("{url:?} is an in-memory database, lost when the process exits: use sqlite://FILE, or pass --in-memory if that is what you want")
        }));
    }
    let parsed = SqliteConnectOptions::from_str(url).map_err(|e| {
        ConnectError::Refused(format!(
            "invalid SQLite URL {url:?}: {}; {CONNECT_HINT}",
            driver_reason(&e)
        ))
    })?;
    if in_memory {
        return Ok((parsed, true));
    }
    let file = absolute(parsed.get_filename());
    let parsed = parsed.filename(&file);
    if !file.exists() {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if !options.create {
            return Err(ConnectError::Refused(format!(
                "no database at {}: this command does not create one. Point --database-url (or PERFORMCHAT_DATABASE_URL) at the server's database, or create it by starting the server (`performchat serve`) or with `performchat quickstart`",
                file.display()
            )));
        }
        if !folder.is_dir() {
            return Err(ConnectError::Refused(format!(
                "cannot create the database {}: the folder {} does not exist (create it with `mkdir -p {}`, or choose another path)",
                file.display(),
                folder.display(),
                folder.display()
            )));
        }
        crate::store::private_file::create_private(&file).map_err(|e| {
            ConnectError::Refused(format!(
                "cannot create the database {}: {e}",
                file.display()
            ))
        })?;
    }
    Ok((parsed.create_if_missing(options.create), false))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The driver's message without the repetition some of its errors carry
/// ("invalid domain character: invalid domain character").
fn driver_reason(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Configuration(inner) => inner.to_string(),
        other => other.to_string(),
    };
    match text.split_once(": ") {
        Some((a, b)) if a == b => a.to_owned(),
        _ => text,
    }
}

fn sqlite_error(file: &str, e: sqlx::Error) -> ConnectError {
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .map(|c| c & 0xff);
    let message = match code {
        // SQLITE_READONLY
        Some(8) => format!(
            "the database {file} is read-only (file or folder permissions, a read-only mount, or mode=ro): the server must be able to write to it and to create {file}-wal beside it"
        ),
        // SQLITE_CANTOPEN
        Some(14) => format!(
            "cannot open the database {file}: check that its folder exists and that this user may read and write both the file and the folder"
        ),
        // SQLITE_NOTADB
        Some(26) => format!("{file} is not a SQLite database"),
        _ => return ConnectError::Driver { context: format!("opening the database {file}"), source: e },
    };
    ConnectError::Refused(message)
}

fn pg_address(o: &PgConnectOptions) -> String {
    format!("{}:{}", o.get_host(), o.get_port())
}

fn postgres_error(o: &PgConnectOptions, e: sqlx::Error) -> ConnectError {
    let at = pg_address(o);
    let db = o.get_database().unwrap_or("(default)").to_owned();
    let message = match &e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot reach PostgreSQL at {at}: connection refused. Is the server running and listening there?"
        ),
        sqlx::Error::Io(io) => format!("cannot reach PostgreSQL at {at}: {io}"),
        sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => format!(
            "PostgreSQL at {at} has no database {db:?}: create it (`createdb -h {} -p {} {db}`) or name another in the URL",
            o.get_host(),
            o.get_port()
        ),
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("28P01" | "28000")) => format!(
            "PostgreSQL at {at} refused the login: {}. Check the user and password in the URL",
            d.message()
        ),
        _ => return ConnectError::Driver { context: format!("connecting to PostgreSQL at {at}"), source: e },
    };
    ConnectError::Refused(message)
}
