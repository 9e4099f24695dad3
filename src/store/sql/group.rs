//! Group commit for token issue and bulk create on SQLite. Every token call
//! writes (it finds or creates its user and stamps `last_seen_at`), and SQLite
//! takes one writer at a time. One transaction per call made each call wait its turn for the
//! writer connection, hand its statement to sqlx's worker thread and back, and
//! append its own commit to the WAL: a profile of the token benchmark spent a
//! third of its time switching threads.
//!
//! Here a thread of its own owns a second write connection. Calls queue their
//! writes; the thread takes everything queued, runs it in one transaction,
//! commits once, and only then answers each call, so nothing is acknowledged
//! before it is durable. The more calls wait, the more one commit carries.
//! A bulk create's inserts run here too, inside a savepoint so they stand or
//! fall together: through sqlx, each of the thousand rows they return crossed
//! a channel from sqlx's worker thread, more than half the server's time.
//!
//! While it writes, the thread holds the sqlx writer pool's one connection,
//! so it never competes with the process's other writes (or the checkpoint)
//! for SQLite's lock; other processes are met by the busy timeout as before.
//! It keeps that connection from batch to batch while calls keep coming, and
//! gives it back whenever its queue is empty, a batch fails, or it has held
//! it for 10 ms.
//! Copying its commits from the WAL into the database file is left to
//! another thread (backfill.rs), off the path every call waits on.
//! Any failure answers `None` and the caller takes the usual path, which
//! reports the error in the store's terms: nothing of a failed batch was
//! committed, so running the write again is safe.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::oneshot;

use super::backfill::Backfill;
use super::fast::{bind, user_row};
use super::group_chat::{self, ChatDone, ChatSql, ChatWrite};
use super::token_sql::{key_holds, token_upsert_sql, ARCHIVE_DAY_SQL};
use super::Params;
use crate::store::dialect::BUSY_TIMEOUT;
use crate::store::rows::{IssuedRow, UserRow};

/// A bound on one transaction, so the first caller of a long queue does not
/// wait for all of it.
const MAX_BATCH: usize = 256;

/// How long the thread keeps the writer gate across batches before letting
/// the process's other writers have it.
const GATE_TURN: Duration = Duration::from_millis(10);

pub(super) struct TokenWrite {
    pub company_id: String,
    pub new_id: String,
    pub external_id: String,
    pub now: i64,
    pub agent_id: String,
    /// The remembered key the statement must find still holding (`KeyProof`).
    pub key: Option<TokenKey>,
}

/// A `KeyProof` the group thread can own.
pub(super) struct TokenKey {
    pub key_id: String,
    pub company_id: String,
    pub secret_hash: Vec<u8>,
}

/// What a token write found: the row, or none when the agent or the user
/// refused. The outer `None` everywhere here: take the usual path.
type Answer = Option<Option<IssuedRow>>;
/// The rows a bulk create's statements inserted.
type Inserted = Option<Vec<UserRow>>;

enum Job {
    Token {
        write: TokenWrite,
        reply: oneshot::Sender<Answer>,
    },
    Insert {
        statements: Vec<(String, Params)>,
        reply: oneshot::Sender<Inserted>,
    },
    Chat {
        write: ChatWrite,
        reply: oneshot::Sender<Option<ChatDone>>,
    },
}

impl Job {
    fn is_abandoned(&self) -> bool {
        match self {
            Job::Token { reply, .. } => reply.is_closed(),
            Job::Insert { reply, .. } => reply.is_closed(),
            Job::Chat { reply, .. } => reply.is_closed(),
        }
    }
}

/// A job's result, sent only once the transaction is committed.
enum Done {
    Token(Answer),
    Insert(Inserted),
    Chat(Option<ChatDone>),
}

pub(super) struct GroupWriter {
    queue: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// `None` if the file cannot be opened this way; token writes then take
    /// the pool as before.
    pub(super) fn open(file: &Path, gate: SqlitePool) -> Option<Self> {
        let conn = open(file)
            .map_err(|e| tracing::warn!(error = %e, "SQLite token writes stay on the pool"))
            .ok()?;
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        // Checkpoints on a thread of their own (backfill.rs), when there is one.
        let backfill = Backfill::start(file);
        if backfill.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| tracing::warn!(error = %e, "SQLite token writes stay on the pool"))
                .ok()?;
        }
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-group-commit".into())
            .spawn(move || run(&conn, &jobs, &gate, &runtime, backfill.as_ref()))
            .map_err(|e| tracing::warn!(error = %e, "no group-commit thread"))
            .ok()?;
        Some(GroupWriter { queue })
    }

    /// `Some(row or no row)` once committed; `None`: take the usual path.
    pub(super) async fn token_upsert(&self, write: TokenWrite) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Token { write, reply }).ok()?;
        answer.await.ok().flatten()
    }

    /// Runs `statements` (each an `INSERT … RETURNING` of user rows) together:
    /// all their rows once committed, or `None` with nothing written.
    pub(super) async fn insert_users(&self, statements: Vec<(String, Params)>) -> Inserted {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Insert { statements, reply }).ok()?;
        answer.await.ok().flatten()
    }

    /// A chat message's write (group_chat.rs), once committed; `None`: take
    /// the usual path, nothing of it was written.
    pub(super) async fn chat(&self, write: ChatWrite) -> Option<ChatDone> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Chat { write, reply }).ok()?;
        answer.await.ok().flatten()
    }
}

fn open(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    // As the sqlx connections are set up (dialect.rs).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "secure_delete", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Ends when the store, and with it the queue's sender, is dropped.
fn run(
    conn: &Connection,
    jobs: &mpsc::Receiver<Job>,
    gate: &SqlitePool,
    runtime: &tokio::runtime::Handle,
    backfill: Option<&Backfill>,
) {
    // Returning a pool connection spawns a task.
    let _runtime = runtime.enter();
    let token_sql = TokenSql {
        plain: token_upsert_sql(""),
        keyed: token_upsert_sql(&format!(" AND {}", key_holds(6))),
        chat: ChatSql::new(),
    };
    // The gate, kept from one batch to the next while calls keep coming:
    // each release pings the connection on sqlx's worker thread and the next
    // acquire waits for it to come back, a handful of thread switches a batch.
    let mut gate_held: Option<(PoolConnection<Sqlite>, Instant)> = None;
    loop {
        let first = match jobs.try_recv() {
            Ok(job) => job,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                // Idle: other writers may have the gate meanwhile.
                gate_held = None;
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
        };
        let mut batch = vec![first];
        batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
        // Callers gone before their turn (a dropped request) need no write.
        batch.retain(|job| !job.is_abandoned());
        if batch.is_empty() {
            continue;
        }
        // Given back now and then, so that the process's other writes (and
        // the checkpoint) get their turn under a steady stream of calls.
        if gate_held
            .as_ref()
            .is_none_or(|(_, since)| since.elapsed() >= GATE_TURN)
        {
            gate_held = None;
            let Ok(writer) = runtime.block_on(gate.acquire()) else {
                // The pool is closed or busy for its whole wait: the usual
                // path will say which.
                continue;
            };
            gate_held = Some((writer, Instant::now()));
        }
        let written = write_batch(conn, &token_sql, &batch);
        match written {
            Ok(done) => {
                for (job, done) in batch.into_iter().zip(done) {
                    // A caller that left meanwhile needs no answer.
                    let _ = match (job, done) {
                        (Job::Token { reply, .. }, Done::Token(a)) => reply.send(a).is_ok(),
                        (Job::Insert { reply, .. }, Done::Insert(a)) => reply.send(a).is_ok(),
                        (Job::Chat { reply, .. }, Done::Chat(a)) => reply.send(a).is_ok(),
                        _ => unreachable!("answers follow their jobs"),
                    };
                }
                if let Some(backfill) = backfill {
                    backfill.committed(conn);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "group commit failed; its calls take the pool");
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // They will need the gate's connection.
                gate_held = None;
            }
        }
    }
}

/// One transaction for the whole batch; a statement that fails leaves its
/// call to the usual path and the others go on (SQLite undoes just that
/// statement, or the savepoint a bulk create's inserts share), unless the
/// failure ended the transaction.
fn write_batch(
    conn: &Connection,
    token_sql: &TokenSql,
    batch: &[Job],
) -> rusqlite::Result<Vec<Done>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut done = Vec::with_capacity(batch.len());
    for job in batch {
        let result = match job {
            Job::Token { write, .. } => token(conn, token_sql, write).map(Done::Token),
            Job::Insert { statements, .. } => insert(conn, statements).map(Done::Insert),
            Job::Chat { write, .. } => {
                group_chat::write(conn, &token_sql.chat, write).map(|d| Done::Chat(Some(d)))
            }
        };
        match result {
            Ok(d) => done.push(d),
            Err(e) if conn.is_autocommit() => return Err(e),
            Err(_) => done.push(match job {
                Job::Token { .. } => Done::Token(None),
                Job::Insert { .. } => Done::Insert(None),
                Job::Chat { .. } => Done::Chat(None),
            }),
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(done)
}

/// The token statement without and with a key to check, and the chat
/// writes' statements.
struct TokenSql {
    plain: String,
    keyed: String,
    chat: ChatSql,
}

fn token(conn: &Connection, sql: &TokenSql, w: &TokenWrite) -> rusqlite::Result<Answer> {
    let issued = |r: &rusqlite::Row<'_>| {
        Ok(IssuedRow {
            user: user_row(r)?,
            agent_name: r.get(11)?,
            previous_seen_at: r.get(12)?,
        })
    };
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
        ("$1", &w.company_id),
        ("$2", &w.new_id),
        ("$3", &w.external_id),
        ("$4", &w.now),
        ("$5", &w.agent_id),
    ];
    let sql = match &w.key {
        None => &sql.plain,
        Some(key) => {
            params.extend([
                ("$6", &key.key_id as &dyn rusqlite::ToSql),
                ("$7", &key.company_id),
                ("$8", &key.secret_hash),
            ]);
            &sql.keyed
        }
    };
    let row = conn.prepare_cached(sql)?.query_row(&*params, issued);
    match row {
        Ok(row) => {
            // In this batch's transaction: the day is kept exactly when the
            // token is.
            if let Some(day) = row.left_day() {
                conn.prepare_cached(ARCHIVE_DAY_SQL)?
                    .execute(rusqlite::named_params! {
                        "$1": w.company_id, "$2": day, "$3": row.user.id,
                    })?;
            }
            Ok(Some(Some(row)))
        }
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(Some(None)),
        Err(e) => Err(e),
    }
}

fn insert(conn: &Connection, statements: &[(String, Params)]) -> rusqlite::Result<Inserted> {
    conn.execute_batch("SAVEPOINT bulk_create")?;
    let inserted = (|| {
        let mut rows = Vec::new();
        for (sql, params) in statements {
            // Not cached: each statement's text depends on its row count.
            let mut stmt = conn.prepare(sql)?;
            bind(&mut stmt, params)?;
            let mut returned = stmt.raw_query();
            while let Some(r) = returned.next()? {
                rows.push(user_row(r)?);
            }
        }
        Ok(rows)
    })();
    match inserted {
        Ok(rows) => {
            conn.execute_batch("RELEASE bulk_create")?;
            Ok(Some(rows))
        }
        Err(e) => {
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK TO bulk_create; RELEASE bulk_create")?;
            }
            Err(e)
        }
    }
}
