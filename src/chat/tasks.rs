//! The replies being generated on this node, counted so that a graceful
//! shutdown waits for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// The replies being generated on this node, so a graceful shutdown can let
/// them finish and be stored even when their clients have already left.
#[derive(Default)]
pub struct ReplyTasks {
    running: AtomicUsize,
    idle: Notify,
}

impl ReplyTasks {
    pub(super) fn start(self: &Arc<Self>) -> ReplyGuard {
        self.running.fetch_add(1, Ordering::SeqCst);
        ReplyGuard(Arc::clone(self))
    }

    /// Resolves once no reply is being generated.
    pub async fn idle(&self) {
        loop {
            // Registered before the check, so a task ending in between still wakes us.
            let idle = self.idle.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

pub(super) struct ReplyGuard(Arc<ReplyTasks>);

impl Drop for ReplyGuard {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
