//! The queue from a reply's generation to its client: bounded, and never
//! waited on. A client that falls behind is dropped (its channel closes
//! without the end event) so that it neither holds up the model nor grows
//! the server's memory; the reply goes on and is stored all the same.

use tokio::sync::mpsc;

use super::ReplyEvent;

/// Events queued towards one client at most.
pub const REPLY_QUEUE: usize = 64;

/// The generation's side of the queue: drops the client rather than wait.
pub(super) struct ToClient {
    pub(super) tx: Option<mpsc::Sender<ReplyEvent>>,
    /// Whether the client wants the pieces, or only the end.
    pub(super) deltas: bool,
}

impl ToClient {
    pub(super) fn delta(&mut self, text: String) {
        self.progress(ReplyEvent::Delta(text));
    }

    /// A delta or a tool event: for clients that want the reply as it goes.
    pub(super) fn progress(&mut self, event: ReplyEvent) {
        if !self.deltas {
            return;
        }
        let Some(tx) = &self.tx else { return };
        // One place stays free for the end event.
        if tx.capacity() <= 1 {
            metrics::counter!("chat_slow_clients_dropped_total").increment(1);
            tracing::info!(
                "a client fell behind its reply stream and was dropped; the reply goes on"
            );
            self.tx = None;
            return;
        }
        if tx.try_send(event).is_err() {
            self.tx = None; // the client has gone
        }
    }

    pub(super) fn end(self, event: ReplyEvent) {
        if let Some(tx) = self.tx {
            // The client may have gone: the reply is stored either way.
            let _ = tx.try_send(event);
        }
    }
}
