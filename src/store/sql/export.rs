//! The export on a SQLite file, off sqlx: one statement stepped on a blocking
//! thread with rusqlite, each row written straight into the output buffer by
//! the caller's encoder, without copying its fields, and handed on in chunks.
//! sqlx-sqlite moves every row to the async side as owned values, and paging
//! with LIMIT re-enters the index each batch; that was most of an export's
//! time.
//!
//! One statement is one read transaction, so the file is a single snapshot
//! however long the client takes. The channel holds few chunks: a slow
//! client stops the reader, and a gone one (the receiver dropped) ends it,
//! which closes its connection.

use std::mem;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rusqlite::types::{FromSqlError, Type};
use rusqlite::{Connection, OpenFlags, Row};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::fast::bind;
use super::{Params, SqlStore};
use crate::store::dialect::{Pools, BUSY_TIMEOUT, READER_CACHE_SIZE};
use crate::store::{EncodeUser, ExportChunks, ExportUser, StoreError, StoreResult, EXPORT_CHUNK};

/// Chunks waiting for the client: enough to keep the socket busy while the
/// reader fills the next one, few enough that memory does not follow the export.
pub(super) const QUEUED_CHUNKS: usize = 2;

/// An empty chunk, with room for the row that takes it past [`EXPORT_CHUNK`].
pub(super) fn chunk_buffer() -> Vec<u8> {
    Vec::with_capacity(EXPORT_CHUNK * 5 / 4)
}

/// Rows stepped between checks that the client is still there, for filters
/// that skip many rows between chunks.
const CHECK_EVERY: u32 = 4096;

impl SqlStore {
    /// `Ok(None)` where this path does not apply (PostgreSQL, SQLite in
    /// memory) or the statement could not start; the caller then pages
    /// through the pool, which reports a real failure properly.
    pub(super) async fn export_snapshot(
        &self,
        sql: String,
        params: Params,
        encode: EncodeUser,
    ) -> StoreResult<Option<ExportChunks>> {
        let (Some(file), Pools::Sqlite { read, .. }) = (&self.file, &self.pools) else {
            return Ok(None);
        };
        let (chunks, receiver) = mpsc::channel(QUEUED_CHUNKS);
        let (started, start) = oneshot::channel();
        let reader = Reader {
            file: file.clone(),
            pool: read.clone(),
            chunks,
            encode,
        };
        tokio::task::spawn_blocking(move || reader.run(&sql, &params, started));
        // The first row is stepped before answering, so that a database that
        // cannot be read gets an error status rather than a cut-off body.
        Ok(start.await.unwrap_or(false).then_some(receiver))
    }
}

struct Reader {
    file: PathBuf,
    /// Checked between chunks: a closed store ends the export in an error.
    pool: SqlitePool,
    chunks: mpsc::Sender<StoreResult<Bytes>>,
    encode: EncodeUser,
}

impl Reader {
    fn run(self, sql: &str, params: &Params, started: oneshot::Sender<bool>) {
        let conn = match open(&self.file) {
            Ok(conn) => conn,
            Err(e) => return fall_back(started, &e),
        };
        let stmt = conn.prepare(sql).and_then(|mut stmt| {
            bind(&mut stmt, params)?;
            Ok(stmt)
        });
        let mut stmt = match stmt {
            Ok(stmt) => stmt,
            Err(e) => return fall_back(started, &e),
        };
        let mut rows = stmt.raw_query();
        let mut started = Some(started);
        let mut buf = chunk_buffer();
        let mut stepped = 0u32;
        loop {
            let step = rows.next();
            if let Some(started) = started.take() {
                match &step {
                    Err(e) => return fall_back(started, e),
                    Ok(_) if started.send(true).is_err() => return,
                    Ok(_) => {}
                }
            }
            let row = match step.and_then(|row| row.map(user).transpose()) {
                Ok(Some(user)) => user,
                Ok(None) => break,
                Err(e) => {
                    return self.fail(StoreError::Other(sqlx::Error::AnyDriverError(e.into())))
                }
            };
            (self.encode)(&row, &mut buf);
            stepped += 1;
            if buf.len() >= EXPORT_CHUNK || stepped.is_multiple_of(CHECK_EVERY) {
                if self.chunks.is_closed() {
                    return;
                }
                if self.pool.is_closed() {
                    return self.fail(StoreError::Unavailable(sqlx::Error::PoolClosed));
                }
            }
            if buf.len() >= EXPORT_CHUNK {
                let full = mem::replace(&mut buf, chunk_buffer());
                if self.chunks.blocking_send(Ok(full.into())).is_err() {
                    return;
                }
            }
        }
        if !buf.is_empty() {
            let _ = self.chunks.blocking_send(Ok(buf.into()));
        }
    }

    fn fail(&self, error: StoreError) {
        let _ = self.chunks.blocking_send(Err(error));
    }
}

/// Before the first row: the caller pages through the pool instead.
fn fall_back(started: oneshot::Sender<bool>, error: &rusqlite::Error) {
    tracing::warn!(error = %error, "SQLite export falls back to the pool");
    let _ = started.send(false);
}

/// A connection of the export's own, read-only like the point reads'
/// (fast.rs); it lives as long as the export.
fn open(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // A walk in index order reads each page once: a large cache would only
    // hold copies of the kernel's pages.
    conn.pragma_update(None, "cache_size", READER_CACHE_SIZE)?;
    Ok(conn)
}

/// The row of `EXPORT_COLUMNS`, borrowed from the statement.
fn user<'r>(row: &'r Row<'_>) -> rusqlite::Result<ExportUser<'r>> {
    let text = |i: usize| -> rusqlite::Result<Option<&'r str>> {
        row.get_ref(i)?.as_str_or_null().map_err(|e: FromSqlError| {
            rusqlite::Error::FromSqlConversionFailure(i, Type::Text, e.into())
        })
    };
    let required = |i: usize| -> rusqlite::Result<&'r str> {
        text(i)?.ok_or(rusqlite::Error::InvalidColumnType(
            i,
            "NULL".into(),
            Type::Null,
        ))
    };
    Ok(ExportUser {
        id: required(0)?,
        external_id: required(1)?,
        name: text(2)?,
        email: text(3)?,
        metadata: required(4)?,
        active: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        last_seen_at: row.get(8)?,
    })
}
