//! `serve`'s settings for events out: how long the feed keeps events.

use std::sync::Arc;
use std::time::Duration;

use crate::events::{spawn_retention, RetentionConfig};
use crate::store::Store;

#[derive(clap::Args, Debug, Clone)]
pub struct EventArgs {
    /// Days the change feed keeps an event (GET /rest/v1/events).
    #[arg(long, env = "PERFORMCHAT_EVENTS_RETENTION_DAYS", default_value_t = 30)]
    pub events_retention_days: u64,
}

impl EventArgs {
    /// Starts this node's share of the events work: pruning the feed.
    pub fn start(&self, store: Arc<dyn Store>) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.events_retention_days > 0,
            "--events-retention-days must be at least 1"
        );
        spawn_retention(
            store,
            RetentionConfig {
                keep: Duration::from_secs(self.events_retention_days * 86_400),
                ..RetentionConfig::default()
            },
        );
        Ok(())
    }
}
