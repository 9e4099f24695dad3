//! The export on PostgreSQL: one statement on a connection of its own, its
//! rows written into the output buffer as PostgreSQL sends them, borrowed
//! from each row, and handed on in chunks. Paged in keyset batches through
//! the pool, every 500 rows cost a transaction, a fresh plan and sqlx's
//! release ping, and the batches ran one after the other with the client
//! waiting.
//!
//! One statement is one snapshot. The connection is not the pool's, so a
//! slow download holds no connection the API needs; it closes when the
//! export ends, the client goes (the receiver dropped) or the store closes.

use std::mem;

use futures::TryStreamExt;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::{Connection, Row};
use tokio::sync::{mpsc, oneshot};

use super::export::{chunk_buffer, QUEUED_CHUNKS};
use super::{Params, SqlStore, SqlValue};
use crate::store::dialect::Pools;
use crate::store::{EncodeUser, ExportChunks, ExportUser, StoreError, StoreResult, EXPORT_CHUNK};

impl SqlStore {
    /// `Ok(None)` where this path does not apply (SQLite) or the statement
    /// could not start; the caller then pages through the pool, which
    /// reports a real failure properly.
    pub(super) async fn export_stream(
        &self,
        sql: String,
        params: Params,
        encode: EncodeUser,
    ) -> StoreResult<Option<ExportChunks>> {
        let Pools::Postgres(pool) = &self.pools else {
            return Ok(None);
        };
        let (chunks, receiver) = mpsc::channel(QUEUED_CHUNKS);
        let (started, start) = oneshot::channel();
        let export = Export {
            pool: pool.clone(),
            chunks,
            encode,
        };
        tokio::spawn(export.run(sql, params, started));
        // The first row is read before answering, so that a database that
        // cannot be read gets an error status rather than a cut-off body.
        Ok(start.await.unwrap_or(false).then_some(receiver))
    }
}

struct Export {
    /// Where the connection's options come from; checked between chunks:
    /// a closed store ends the export in an error.
    pool: PgPool,
    chunks: mpsc::Sender<StoreResult<bytes::Bytes>>,
    encode: EncodeUser,
}

impl Export {
    async fn run(self, sql: String, params: Params, started: oneshot::Sender<bool>) {
        let mut started = Some(started);
        if let Err(error) = self.stream(&sql, params, &mut started).await {
            match started.take() {
                Some(started) => {
                    tracing::warn!(%error, "PostgreSQL export falls back to paging");
                    let _ = started.send(false);
                }
                None => {
                    let _ = self.chunks.send(Err(error)).await;
                }
            }
        }
    }

    /// Ends quietly when the client goes; an error is the caller's to report.
    async fn stream(
        &self,
        sql: &str,
        params: Params,
        started: &mut Option<oneshot::Sender<bool>>,
    ) -> StoreResult<()> {
        // Named, so that an operator can tell it from the pool's in pg_stat_activity.
        let options = (*self.pool.connect_options())
            .clone()
            .application_name("performchat export");
        let mut conn = PgConnection::connect_with(&options).await?;
        // As for the paged batches (recipes.rs): right after a bulk load the
        // statistics are stale and the planner would sort every row instead
        // of walking the index in list order. The connection is the
        // export's alone, so the setting ends with it.
        sqlx::query("SET enable_sort = off")
            .execute(&mut conn)
            .await?;
        let mut rows = bind_params!(sqlx::query(sql), params).fetch(&mut conn);
        let mut buf = chunk_buffer();
        loop {
            let row = rows.try_next().await?;
            if let Some(started) = started.take() {
                if started.send(true).is_err() {
                    return Ok(());
                }
            }
            let Some(row) = row else { break };
            (self.encode)(&user(&row)?, &mut buf);
            if buf.len() >= EXPORT_CHUNK {
                if self.pool.is_closed() {
                    return Err(StoreError::Unavailable(sqlx::Error::PoolClosed));
                }
                let full = mem::replace(&mut buf, chunk_buffer());
                if self.chunks.send(Ok(full.into())).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !buf.is_empty() {
            let _ = self.chunks.send(Ok(buf.into())).await;
        }
        Ok(())
    }
}

/// The row of `EXPORT_COLUMNS`, borrowed from PostgreSQL's message.
fn user(row: &PgRow) -> Result<ExportUser<'_>, sqlx::Error> {
    Ok(ExportUser {
        id: row.try_get(0)?,
        external_id: row.try_get(1)?,
        name: row.try_get(2)?,
        email: row.try_get(3)?,
        metadata: row.try_get(4)?,
        active: row.try_get(5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
        last_seen_at: row.try_get(8)?,
    })
}
