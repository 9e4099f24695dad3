//! `serve`'s settings for events out: how long the feed keeps events, where
//! company-set URLs may point, and the webhook dispatcher's timings.

use std::sync::Arc;
use std::time::Duration;

use crate::app::Config;
use crate::events::{spawn_retention, DispatchConfig, Dispatcher, RetentionConfig};
use crate::outbound::OutboundRule;
use crate::store::Store;

#[derive(clap::Args, Debug, Clone)]
pub struct EventArgs {
    /// Days the change feed keeps an event (GET /rest/v1/events).
    #[arg(long, env = "PERFORMCHAT_EVENTS_RETENTION_DAYS", default_value_t = 30)]
    pub events_retention_days: u64,

    /// Networks (CIDR,...) that webhook URLs may point to besides public
    /// addresses, over http too (e.g. 127.0.0.0/8 for on-premises receivers).
    #[arg(long, env = "PERFORMCHAT_OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,

    /// The waits between webhook attempts, in seconds, comma-separated
    /// (each ±20 %); after the last, a delivery is given up. For tests.
    #[arg(
        long,
        hide = true,
        value_delimiter = ',',
        default_value = "5,300,1800,7200,18000,36000,36000"
    )]
    pub webhook_retry_secs: Vec<f64>,

    /// How long one webhook attempt may take (ms). For tests.
    #[arg(long, hide = true, default_value_t = 15_000)]
    pub webhook_timeout_ms: u64,

    /// How long a node's lease on a delivery lasts (ms). For tests.
    #[arg(long, hide = true, default_value_t = 60_000)]
    pub webhook_lease_ms: u64,
}

impl EventArgs {
    /// Fills the request-side settings (the outbound rule) into `config`.
    pub fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        config.outbound = OutboundRule::parse(&self.outbound_allow)
            .map_err(|e| anyhow::anyhow!("--outbound-allow: {e}"))?;
        Ok(())
    }

    /// Starts this node's share of the events work: pruning the feed and
    /// sending webhooks.
    pub fn start(&self, store: Arc<dyn Store>, rule: OutboundRule) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.events_retention_days > 0,
            "--events-retention-days must be at least 1"
        );
        anyhow::ensure!(
            self.webhook_retry_secs
                .iter()
                .all(|s| s.is_finite() && *s >= 0.0),
            "--webhook-retry-secs takes non-negative numbers of seconds"
        );
        anyhow::ensure!(
            self.webhook_timeout_ms > 0 && self.webhook_lease_ms > self.webhook_timeout_ms,
            "--webhook-lease-ms must be longer than --webhook-timeout-ms"
        );
        spawn_retention(
            Arc::clone(&store),
            RetentionConfig {
                keep: Duration::from_secs(self.events_retention_days * 86_400),
                ..RetentionConfig::default()
            },
        );
        let config = DispatchConfig {
            retries: self
                .webhook_retry_secs
                .iter()
                .map(|s| Duration::from_secs_f64(*s))
                .collect(),
            lease: Duration::from_millis(self.webhook_lease_ms),
            timeout: Duration::from_millis(self.webhook_timeout_ms),
            ..DispatchConfig::default()
        };
        Dispatcher::new(store, rule, config)?.spawn();
        Ok(())
    }
}
