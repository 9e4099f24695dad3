//! Rate limits and the failed-authentication lockout (docs/API.md §0.4), with plain
//! types only: the HTTP layer turns a [`Decision`] into headers and a 429.
//!
//! Every policy is a GCRA bucket ([`gcra`]) whose burst is the per-window
//! limit. Buckets live in this process ([`memory`]) or, when a Redis URL is
//! configured, in Redis ([`redis`]) with the local store standing in while
//! Redis is away ([`shared`]).

pub mod client_ip;
pub mod gcra;
pub mod memory;
pub mod policy;
pub mod redis;
pub mod shared;

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

pub use client_ip::TrustedProxies;
pub use gcra::{Gcra, Outcome};
pub use memory::{Clock, ManualClock, MemoryLimiter};
pub use policy::{Policies, Policy, Rate};

/// One bucket: what it counts, for whom, at what rate.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'a> {
    pub policy: Policy,
    pub subject: &'a str,
    pub gcra: Gcra,
}

/// The result of one atomic step, as backlogs (see [`gcra`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The guard bucket had no room: nothing was charged.
    Guarded { backlog_us: u64 },
    /// The charged bucket's backlog before this request, and whether the
    /// request fitted (and so was added).
    Charged { backlog_us: u64, allowed: bool },
}

/// Where buckets are kept, for `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStatus {
    /// `memory` or `redis`.
    pub store: &'static str,
    /// Whether decisions are currently shared with other nodes.
    pub shared: bool,
    /// Start of the current outage of the shared store (ms since the epoch).
    pub outage_since_ms: Option<i64>,
}

/// A bucket store. Answers always: a store that depends on something remote
/// decides locally when that fails.
#[async_trait]
pub trait Limiter: Send + Sync {
    /// Charges `charge` one request if it has room and, when a `guard` is
    /// given, the guard has room for one more too (the guard is only read).
    async fn step(&self, guard: Option<&Bucket<'_>>, charge: &Bucket<'_>) -> Step;

    fn status(&self) -> StoreStatus;
}

#[async_trait]
impl Limiter for MemoryLimiter {
    async fn step(&self, guard: Option<&Bucket<'_>>, charge: &Bucket<'_>) -> Step {
        self.step_now(guard, charge)
    }

    fn status(&self) -> StoreStatus {
        StoreStatus {
            store: "memory",
            shared: false,
            outage_since_ms: None,
        }
    }
}

/// What a request is told about one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub policy: Policy,
    pub rate: Rate,
    pub allowed: bool,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// When refused: seconds until a request is allowed (`Retry-After`).
    pub retry_after_secs: u64,
}

impl Decision {
    fn new(policy: Policy, rate: Rate, outcome: Outcome) -> Decision {
        Decision {
            policy,
            rate,
            allowed: outcome.allowed,
            remaining: outcome.remaining,
            reset_secs: outcome.reset_secs,
            retry_after_secs: outcome.retry_after_secs,
        }
    }

    /// The `RateLimit-*` fields and the IETF draft's `RateLimit-Policy` and
    /// `RateLimit`, as (name, value). None for the lockout: it is not a quota
    /// the caller spends, only a penalty with a `Retry-After`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        if self.policy == Policy::FailedAuth {
            return Vec::new();
        }
        let name = self.policy.name();
        vec![
            ("ratelimit-limit", self.rate.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset_secs.to_string()),
            (
                "ratelimit-policy",
                format!(
                    "\"{name}\";q={};w={}",
                    self.rate.limit, self.rate.window_secs
                ),
            ),
            (
                "ratelimit",
                format!("\"{name}\";r={};t={}", self.remaining, self.reset_secs),
            ),
        ]
    }

    /// The 429 message.
    pub fn refusal(&self) -> String {
        match self.policy {
            Policy::FailedAuth => format!(
                "Too many failed authentication attempts from this address: try again in {} seconds",
                self.retry_after_secs
            ),
            policy => format!(
                "Rate limit exceeded ({policy}: {} requests per {} seconds): try again in {} seconds",
                self.rate.limit, self.rate.window_secs, self.retry_after_secs
            ),
        }
    }
}

/// How limits are configured (the CLI fills it from flags and environment).
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub enabled: bool,
    pub policies: Policies,
    /// `redis://HOST:PORT` to share buckets between nodes.
    pub store_url: Option<String>,
    /// Prepended to every Redis key (tests use one per test).
    pub key_prefix: String,
    /// Most buckets the in-process store keeps.
    pub capacity: usize,
    pub clock: Clock,
    pub trusted_proxies: TrustedProxies,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            enabled: true,
            policies: Policies::default(),
            store_url: None,
            key_prefix: "performchat:rl:".into(),
            capacity: memory::DEFAULT_CAPACITY,
            clock: Clock::system(),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl LimitsConfig {
    pub fn off() -> Self {
        LimitsConfig {
            enabled: false,
            ..LimitsConfig::default()
        }
    }
}

/// The limits as the rest of the application uses them.
pub struct RateLimits {
    policies: Policies,
    limiter: Option<Arc<dyn Limiter>>,
}

impl RateLimits {
    /// Builds the configured store; with Redis, starts its health probe.
    pub async fn start(config: &LimitsConfig) -> anyhow::Result<RateLimits> {
        if !config.enabled {
            return Ok(RateLimits {
                policies: config.policies,
                limiter: None,
            });
        }
        let local = MemoryLimiter::new(config.capacity, config.clock.clone());
        let limiter: Arc<dyn Limiter> = match &config.store_url {
            None => {
                let local = Arc::new(local);
                let weak = Arc::downgrade(&local);
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        let Some(local) = weak.upgrade() else { return };
                        local.evict_idle();
                    }
                });
                local
            }
            Some(url) => {
                let redis = redis::RedisStore::new(url, &config.key_prefix).map_err(|e| {
                    anyhow::anyhow!("--rate-limit-store {url:?} is not a usable Redis URL: {e}")
                })?;
                shared::SharedLimiter::start(redis, local).await
            }
        };
        Ok(RateLimits {
            policies: config.policies,
            limiter: Some(limiter),
        })
    }

    pub fn enabled(&self) -> bool {
        self.limiter.is_some()
    }

    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// Charges one request to `subject`'s bucket of `policy` — the call the
    /// chat endpoint makes with the customer user's id. `None` when limits
    /// are switched off.
    pub async fn check(&self, policy: Policy, subject: &str) -> Option<Decision> {
        let limiter = self.limiter.as_ref()?;
        let charge = self.bucket(policy, subject);
        Some(self.decide(limiter.step(None, &charge).await, &charge, None))
    }

    /// An authenticated API-key request: refused (with a lockout decision)
    /// while its address is locked out, else charged to the key's bucket.
    pub async fn check_key(
        &self,
        client: Option<IpAddr>,
        policy: Policy,
        key_id: &str,
    ) -> Option<Decision> {
        let limiter = self.limiter.as_ref()?;
        let address = client_ip::lockout_subject(client);
        let guard = self.bucket(Policy::FailedAuth, &address);
        let charge = self.bucket(policy, key_id);
        let step = limiter.step(Some(&guard), &charge).await;
        Some(self.decide(step, &charge, Some(&guard)))
    }

    /// Counts a failed authentication from `client`. A refused decision means
    /// the address is locked out (this failure came on top of the limit).
    pub async fn failed_auth(&self, client: Option<IpAddr>) -> Option<Decision> {
        let limiter = self.limiter.as_ref()?;
        let address = client_ip::lockout_subject(client);
        let charge = self.bucket(Policy::FailedAuth, &address);
        Some(self.decide(limiter.step(None, &charge).await, &charge, None))
    }

    pub fn status(&self) -> Option<StoreStatus> {
        self.limiter.as_ref().map(|l| l.status())
    }

    fn bucket<'a>(&self, policy: Policy, subject: &'a str) -> Bucket<'a> {
        Bucket {
            policy,
            subject,
            gcra: Gcra::new(self.policies.rate(policy)),
        }
    }

    fn decide(&self, step: Step, charge: &Bucket<'_>, guard: Option<&Bucket<'_>>) -> Decision {
        match (step, guard) {
            (
                Step::Charged {
                    backlog_us,
                    allowed,
                },
                _,
            ) => Decision::new(
                charge.policy,
                self.policies.rate(charge.policy),
                charge.gcra.outcome(backlog_us, allowed),
            ),
            (Step::Guarded { backlog_us }, Some(guard)) => Decision::new(
                guard.policy,
                self.policies.rate(guard.policy),
                guard.gcra.outcome(backlog_us, false),
            ),
            // A store never reports a guard it was not given; refuse rather
            // than let anything through unlimited.
            (Step::Guarded { backlog_us }, None) => Decision::new(
                charge.policy,
                self.policies.rate(charge.policy),
                charge.gcra.outcome(backlog_us, false),
            ),
        }
    }
}
