//! Kept answers are replayed for 24 h from their first request, then
//! forgotten: every node prunes them hourly, a few index-range deletes per
//! company (two nodes pruning at once delete each row once). A row past its
//! day that is still there is treated as gone by a claim all the same.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::idempotency::KEEP_MS;
use crate::domain::now_ms;
use crate::store::{Store, StoreResult};

/// Rows per delete statement, so a large backlog never holds the writer long.
const BATCH: u32 = 1000;
const EVERY: Duration = Duration::from_secs(3600);

/// Deletes every answer first claimed before `before` (ms); returns how many.
pub async fn prune_once(store: &dyn Store, before: i64) -> StoreResult<u64> {
    let mut total = 0;
    for company in store.list_companies().await? {
        loop {
            let n = store.purge_idempotency(&company.id, before, BATCH).await?;
            total += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
    }
    Ok(total)
}

/// Prunes now and then for as long as the process runs.
pub fn spawn_pruning(store: Arc<dyn Store>) {
    tokio::spawn(async move {
        loop {
            match prune_once(store.as_ref(), now_ms() - KEEP_MS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "Idempotency-Key answers past 24 h pruned"),
                // The next round tries again; claims ignore stale rows meanwhile.
                Err(e) => tracing::warn!(error = %e, "pruning Idempotency-Key answers failed"),
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}
