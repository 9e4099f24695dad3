//! A few PostgreSQL connections of the store's own for the two statements
//! nearly every API call makes (the keyed lookup and the token write,
//! lookup.rs). sqlx's pool pings every connection it takes back, a round
//! trip of its own after each statement; here a connection goes back to the
//! idle list as it is, and is pinged only before it is used again after a
//! second or more of rest, as the pool does on acquire (dialect.rs).
//!
//! A connection goes back only when its statement completed: one whose
//! caller returned early with an error, or whose request was dropped
//! mid-statement, is closed instead, so none is reused in an unknown state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::dialect::IDLE_PING_AFTER;

pub(super) struct HotConns {
    options: Arc<PgConnectOptions>,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    /// At most this many at once, like the pool beside it.
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

impl HotConns {
    pub(super) fn new(
        options: Arc<PgConnectOptions>,
        size: u32,
        acquire_timeout: Duration,
    ) -> Self {
        HotConns {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1) as usize)),
            acquire_timeout,
        }
    }

    /// An idle connection (pinged if it rested), else a new one.
    pub(super) async fn acquire(&self) -> Result<HotConn<'_>, sqlx::Error> {
        let permit = tokio::time::timeout(
            self.acquire_timeout,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let rested = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some((mut conn, since)) = rested else {
                break;
            };
            if since.elapsed() < IDLE_PING_AFTER || conn.ping().await.is_ok() {
                return Ok(HotConn::new(self, conn, permit));
            }
        }
        let conn = PgConnection::connect_with(&self.options).await?;
        Ok(HotConn::new(self, conn, permit))
    }

    /// Closes the idle connections and refuses new ones.
    pub(super) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }
}

/// A connection lent out; dropped without [`HotConn::done`], it closes.
pub(super) struct HotConn<'a> {
    conns: &'a HotConns,
    conn: Option<PgConnection>,
    _permit: OwnedSemaphorePermit,
}

impl<'a> HotConn<'a> {
    fn new(conns: &'a HotConns, conn: PgConnection, permit: OwnedSemaphorePermit) -> Self {
        HotConn {
            conns,
            conn: Some(conn),
            _permit: permit,
        }
    }

    pub(super) fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lent connection is present until done")
    }

    /// The statement completed: the connection may serve the next one.
    pub(super) fn done(mut self) {
        if let Some(conn) = self.conn.take() {
            if !self.conns.permits.is_closed() {
                let mut idle = self.conns.idle.lock().unwrap_or_else(|e| e.into_inner());
                idle.push((conn, Instant::now()));
            }
        }
    }
}
