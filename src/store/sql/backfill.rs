//! Copies committed pages from SQLite's WAL into the database file on a
//! thread of its own, so the group writer (group.rs) rarely does it.
//!
//! Left to SQLite, whichever connection commits past 1 000 WAL pages copies
//! them back and syncs the file before its commit returns: under the token
//! benchmark that was a quarter of the group-commit thread's time, and every
//! call queued behind it waited. The group writer therefore turns automatic
//! checkpoints off and calls [`Backfill::committed`] after each commit. That
//! wakes this thread, which runs a passive checkpoint (it takes no lock a
//! writer or a reader waits for) at most every [`PAUSE`].
//!
//! Passes beside a busy writer never quite catch up with it, and SQLite only
//! starts the WAL afresh when a write begins with every page copied back; the
//! WAL would grow until the writer pool's periodic checkpoint (dialect.rs),
//! which then holds up writes while readers leave it. So after a pass that
//! found the WAL long, the writer copies the little left itself, and its next
//! transaction starts the WAL over.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, Thread};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Between two passes: enough for each to copy many commits' pages at once.
const PAUSE: Duration = Duration::from_millis(50);

/// A WAL longer than this many pages after a pass is finished by the writer.
const FINISH_AFTER: i64 = 2000;

pub(super) struct Backfill {
    thread: Thread,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
    /// The pass after which the writer last finished the copy.
    finished: Cell<u64>,
}

/// What the passes found: how many ran, and the WAL's length at the last.
#[derive(Default)]
struct Progress {
    passes: AtomicU64,
    wal_pages: AtomicI64,
}

impl Backfill {
    /// `None` if no connection or thread could be had: the caller then keeps
    /// SQLite's automatic checkpoints.
    pub(super) fn start(file: &Path) -> Option<Self> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            // As the other connections: the WAL is synced before a
            // checkpoint copies from it, the file after.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            Ok(conn)
        })
        .map_err(|e| tracing::warn!(error = %e, "no SQLite backfill connection"))
        .ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
        let (stopped, published) = (Arc::clone(&stop), Arc::clone(&progress));
        let handle = thread::Builder::new()
            .name("sqlite-backfill".into())
            .spawn(move || run(&conn, &stopped, &published))
            .map_err(|e| tracing::warn!(error = %e, "no SQLite backfill thread"))
            .ok()?;
        Some(Backfill {
            thread: handle.thread().clone(),
            stop,
            progress,
            finished: Cell::new(0),
        })
    }

    /// The writer on `conn` has just committed.
    pub(super) fn committed(&self, conn: &Connection) {
        self.thread.unpark();
        let passes = self.progress.passes.load(Ordering::Acquire);
        let long = self.progress.wal_pages.load(Ordering::Acquire) >= FINISH_AFTER;
        if passes != self.finished.get() && long {
            self.finished.set(passes);
            // Passive too: should the thread be copying, this returns at once.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}

impl Drop for Backfill {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

fn run(conn: &Connection, stop: &AtomicBool, progress: &Progress) {
    loop {
        thread::park();
        if stop.load(Ordering::Acquire) {
            return;
        }
        // A pass that meets a lock copies what it can; the next tries again.
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)) {
            Ok(pages) => progress.wal_pages.store(pages, Ordering::Release),
            Err(e) => tracing::debug!(error = %e, "SQLite backfill pass failed"),
        }
        progress.passes.fetch_add(1, Ordering::AcqRel);
        thread::sleep(PAUSE);
    }
}
