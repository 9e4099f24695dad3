//! Events out of the service: the change feed's retention and, in
//! `webhooks`, signed deliveries to the companies' endpoints. The events
//! themselves are written by the database, in the transaction of each change
//! (docs/EVENTS.md); this use case only reads, sends and prunes them.

mod dispatch;
mod retention;

pub use dispatch::{next_attempt, DispatchConfig, Dispatcher, RETRY_SCHEDULE};
pub use retention::{purge_once, spawn_retention, RetentionConfig};

/// What a webhook endpoint's secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
