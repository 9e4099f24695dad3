//! Redis first, the node's own store when Redis cannot answer: requests are
//! never refused because Redis is down, and never let through unlimited.
//! The switch is logged once each way, and shown by `/health`.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;

use super::memory::MemoryLimiter;
use super::redis::{RedisStore, CALL_TIMEOUT};
use super::{Bucket, Limiter, Step, StoreStatus};

/// How often a node checks on Redis, while it is up (to notice an outage on an
/// idle node) and while it is down (to notice its return).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

pub struct SharedLimiter {
    redis: RedisStore,
    local: MemoryLimiter,
    up: AtomicBool,
    /// When the current outage began (ms since the epoch), 0 when none.
    down_since_ms: AtomicI64,
}

impl SharedLimiter {
    /// Checks Redis once, then keeps probing it in the background for as long
    /// as the limiter lives.
    pub async fn start(redis: RedisStore, local: MemoryLimiter) -> Arc<SharedLimiter> {
        let limiter = Arc::new(SharedLimiter {
            redis,
            local,
            up: AtomicBool::new(true),
            down_since_ms: AtomicI64::new(0),
        });
        limiter.probe().await;
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(watch(weak));
        limiter
    }

    async fn probe(&self) {
        match tokio::time::timeout(CALL_TIMEOUT, self.redis.ping()).await {
            Ok(Ok(())) => self.came_back(),
            Ok(Err(e)) => self.went_down(&e.to_string()),
            Err(_) => self.went_down("no answer within a second"),
        }
    }

    fn went_down(&self, why: &str) {
        if self.up.swap(false, Ordering::AcqRel) {
            self.down_since_ms
                .store(crate::domain::now_ms(), Ordering::Release);
            tracing::warn!(
                error = why,
                "rate-limit store (Redis) unreachable: limiting on this node alone until it returns"
            );
        }
    }

    fn came_back(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            self.down_since_ms.store(0, Ordering::Release);
            tracing::info!("rate-limit store (Redis) reachable again: limits are shared");
        }
    }
}

async fn watch(limiter: Weak<SharedLimiter>) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        limiter.probe().await;
        limiter.local.evict_idle();
    }
}

#[async_trait]
impl Limiter for SharedLimiter {
    async fn step(&self, guard: Option<&Bucket<'_>>, charge: &Bucket<'_>) -> Step {
        if self.up.load(Ordering::Acquire) {
            match tokio::time::timeout(CALL_TIMEOUT, self.redis.step(guard, charge)).await {
                Ok(Ok(step)) => return step,
                Ok(Err(e)) => self.went_down(&e.to_string()),
                Err(_) => self.went_down("no answer within a second"),
            }
        }
        self.local.step_now(guard, charge)
    }

    fn status(&self) -> StoreStatus {
        let since = self.down_since_ms.load(Ordering::Acquire);
        StoreStatus {
            store: "redis",
            shared: self.up.load(Ordering::Acquire),
            outage_since_ms: (since != 0).then_some(since),
        }
    }
}
