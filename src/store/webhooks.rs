//! Store operations for webhook endpoints and their deliveries: the
//! dispatcher's shared work queue (every node takes from it; a lease per
//! delivery says who is sending it) and the attempts log.

use async_trait::async_trait;

use crate::domain::{WebhookAttempt, WebhookEndpoint};
use crate::store::StoreResult;

/// Changes to an endpoint; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// A delivery this node holds the lease of.
#[derive(Debug, Clone)]
pub struct LeasedDelivery {
    pub company_id: String,
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Where and how to send it: the endpoint as the due query read it, so
    /// a send needs no read of its own (docs/PERFORMANCE.md, "With the
    /// fan-out window").
    pub target: DeliveryTarget,
}

/// The endpoint fields a send needs.
#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Until when (ms) `previous_secret` still signs.
    pub previous_until: Option<i64>,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `Some`: retry then; `None`: done (delivered or given up).
    pub next_attempt_at: Option<i64>,
    /// The endpoint answered 410 Gone: disable it.
    pub gone: bool,
}

/// What one fan-out did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FannedOut {
    /// Deliveries queued.
    pub queued: u64,
    /// Events the endpoints' positions moved past: the queued ones and
    /// those their endpoint did not ask for.
    pub passed: u64,
}

#[async_trait]
pub trait WebhookStore {
    /// Stores a new endpoint; it receives the events committed from now on.
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    async fn list_webhooks(&self, company_id: &str) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn get_webhook(&self, company_id: &str, id: &str)
        -> StoreResult<Option<WebhookEndpoint>>;
    async fn update_webhook(
        &self,
        company_id: &str,
        id: &str,
        changes: &WebhookChanges,
        now: i64,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// Deletes the endpoint and its pending deliveries; false when unknown.
    async fn delete_webhook(&self, company_id: &str, id: &str) -> StoreResult<bool>;
    /// A new secret; the current one keeps signing until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        company_id: &str,
        id: &str,
        secret: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// The endpoint's attempts, newest first.
    async fn webhook_attempts(
        &self,
        company_id: &str,
        endpoint_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<WebhookAttempt>>;
    /// Queues one delivery due now (the test event).
    async fn enqueue_delivery(
        &self,
        company_id: &str,
        endpoint_id: &str,
        event_id: &str,
        body: &str,
        now: i64,
    ) -> StoreResult<()>;
}

/// The dispatcher's side: the queue of deliveries every node works from.
#[async_trait]
pub trait DeliveryQueue {
    /// Turns the events committed since each active endpoint's position into
    /// deliveries, advancing the positions in the same transaction; an
    /// endpoint another node is working on is skipped. Paced by `window`:
    /// an endpoint gets more only while at most half of `window` of its
    /// deliveries are pending (none of their attempts failed yet), then up to `window`; the
    /// rest stays in the feed. At most `batch` events are read per endpoint.
    async fn fan_out(&self, now: i64, batch: u32, window: u32) -> StoreResult<FannedOut>;
    /// Due, unleased deliveries, oldest first, not of the `busy` endpoints.
    async fn due_deliveries(
        &self,
        now: i64,
        busy: &[String],
        limit: u32,
    ) -> StoreResult<Vec<LeasedDelivery>>;
    /// Takes the lease of a due delivery; false when another node has it.
    async fn lease_delivery(
        &self,
        company_id: &str,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool>;
    /// Logs the attempt and, if this node still holds the lease, retries
    /// later, finishes the delivery or disables the endpoint (410).
    async fn record_attempt(
        &self,
        delivery: &LeasedDelivery,
        owner: &str,
        outcome: &AttemptOutcome,
        now: i64,
    ) -> StoreResult<()>;
    /// Pending deliveries: how many, and when the oldest was queued.
    async fn delivery_backlog(&self) -> StoreResult<(i64, Option<i64>)>;
}
