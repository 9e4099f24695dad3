//! Events are kept for a configured time (30 days by default). Every node
//! prunes: the work is a few index-range deletes per company every ten
//! minutes, and two nodes pruning at once delete each row once.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::now_ms;
use crate::store::{Store, StoreResult};

/// Rows per delete statement, so a large backlog never holds the writer long.
const BATCH: u32 = 1000;

#[derive(Debug, Clone, Copy)]
pub struct RetentionConfig {
    /// How long an event is kept.
    pub keep: Duration,
    /// How often a node prunes.
    pub every: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep: Duration::from_secs(30 * 86_400),
            every: Duration::from_secs(600),
        }
    }
}

/// Deletes every event written before `before` (ms); returns how many.
pub async fn purge_once(store: &dyn Store, before: i64) -> StoreResult<u64> {
    let mut total = 0;
    for company in store.list_companies().await? {
        loop {
            let n = store.purge_events(&company.id, before, BATCH).await?;
            total += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
    }
    Ok(total)
}

/// Prunes now and then for as long as the process runs.
pub fn spawn_retention(store: Arc<dyn Store>, config: RetentionConfig) {
    tokio::spawn(async move {
        let keep = i64::try_from(config.keep.as_millis()).unwrap_or(i64::MAX);
        loop {
            let before = now_ms().saturating_sub(keep);
            match purge_once(store.as_ref(), before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "events past their retention pruned"),
                // The next round tries again; the feed is only fuller meanwhile.
                Err(e) => tracing::warn!(error = %e, "pruning old events failed"),
            }
            tokio::time::sleep(config.every).await;
        }
    });
}
