//! Store operations for the change feed (the events the database's triggers
//! write in the transaction of each change) and webhook endpoints.

use async_trait::async_trait;

use crate::domain::EventRecord;
use crate::store::StoreResult;

/// A page of the feed.
#[derive(Debug)]
pub struct FeedPage {
    pub events: Vec<EventRecord>,
    pub has_more: bool,
}

#[async_trait]
pub trait EventStore {
    /// The company's events after the event `after` (from the oldest kept
    /// without it), in commit order, `types` only when not empty. Only
    /// events every earlier one of which (in that order) is committed or
    /// abandoned are shown. `None` when `after` names no event of this company.
    async fn events_after(
        &self,
        company_id: &str,
        after: Option<&str>,
        types: &[String],
        limit: u32,
    ) -> StoreResult<Option<FeedPage>>;

    /// Deletes up to `batch` events of one company written before `before`
    /// (ms); returns how many went.
    async fn purge_events(&self, company_id: &str, before: i64, batch: u32) -> StoreResult<u64>;
}
