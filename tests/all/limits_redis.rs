//! The shared limiter against a real Redis (`PERFORMCHAT_TEST_REDIS_URL`,
//! e.g. redis://127.0.0.1:6379), two limiters standing for two nodes. Every
//! test writes under a key prefix of its own, so runs and other users of the
//! same Redis never meet. Without Redis: the fallback, which needs none.

use std::net::IpAddr;

use performchat::limits::{LimitsConfig, Policy, Rate, RateLimits};

const REDIS_ENV: &str = "PERFORMCHAT_TEST_REDIS_URL";

fn unique_prefix(test: &str) -> String {
    format!(
        "pct:{test}:{}:",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// The default burst of 100, refilling one per 36 s instead of 0.6 s, so a
/// slow machine cannot earn a request back in the middle of the burst.
fn slow_tokens(store: Option<String>, prefix: &str) -> LimitsConfig {
    let mut config = LimitsConfig {
        store_url: store,
        key_prefix: prefix.to_owned(),
        ..LimitsConfig::default()
    };
    config.policies.tokens = Rate::new(100, 3600);
    config
}

fn redis_url() -> String {
    std::env::var(REDIS_ENV).unwrap_or_else(|_| panic!("{REDIS_ENV} must name a Redis server"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(redis_tests),
    ignore = "Redis run skipped: set PERFORMCHAT_TEST_REDIS_URL"
)]
async fn two_nodes_share_one_budget() {
    let config = slow_tokens(Some(redis_url()), &unique_prefix("budget"));
    let a = RateLimits::start(&config).await.unwrap();
    let b = RateLimits::start(&config).await.unwrap();
    assert_eq!(a.status().unwrap().store, "redis");
    assert!(a.status().unwrap().shared);
    let mut refused = Vec::new();
    for n in 1..=101u32 {
        let node = if n % 2 == 0 { &a } else { &b };
        let d = node.check(Policy::Tokens, "pk_shared").await.unwrap();
        if d.allowed {
            assert_eq!(d.remaining, 100 - n, "call {n}: one bucket for both nodes");
            // 36 s per call, less the moments the test has taken so far.
            let full = u64::from(n) * 36;
            assert!((full - 5..=full).contains(&d.reset_secs), "call {n}: {d:?}");
        } else {
            assert_eq!(d.remaining, 0);
            assert!((1..=36).contains(&d.retry_after_secs), "{d:?}");
            refused.push(n);
        }
    }
    assert_eq!(refused, vec![101]);
    assert!(a.check(Policy::Tokens, "pk_other").await.unwrap().allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(redis_tests),
    ignore = "Redis run skipped: set PERFORMCHAT_TEST_REDIS_URL"
)]
async fn a_lockout_on_one_node_holds_on_the_other() {
    let config = slow_tokens(Some(redis_url()), &unique_prefix("lockout"));
    let a = RateLimits::start(&config).await.unwrap();
    let b = RateLimits::start(&config).await.unwrap();
    let ip: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
    for n in 1..=10 {
        assert!(a.failed_auth(ip).await.unwrap().allowed, "failure {n}");
    }
    let locked = b.check_key(ip, Policy::Api, "pk_good").await.unwrap();
    assert!(!locked.allowed);
    assert_eq!(locked.policy, Policy::FailedAuth);
    assert!((29..=30).contains(&locked.retry_after_secs), "{locked:?}");
    assert!(!b.failed_auth(ip).await.unwrap().allowed);
    let elsewhere = Some("192.0.2.2".parse().unwrap());
    let fine = b
        .check_key(elsewhere, Policy::Api, "pk_good")
        .await
        .unwrap();
    assert!(fine.allowed);
    assert_eq!(
        fine.remaining, 999,
        "the locked-out request did not spend the key's budget"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(redis_tests),
    ignore = "Redis run skipped: set PERFORMCHAT_TEST_REDIS_URL"
)]
async fn buckets_expire_from_redis_once_full_again() {
    let prefix = unique_prefix("expiry");
    let limits = RateLimits::start(&slow_tokens(Some(redis_url()), &prefix))
        .await
        .unwrap();
    limits.check(Policy::Chat, "cu_1").await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}chat:cu_1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    // One chat message fills 3 s of the bucket: the key lives that long.
    assert!((1..=3000).contains(&ttl), "PTTL {ttl}");
}

/// Nothing listens on the port: the node limits alone, from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_means_local_limits_never_none_and_never_all() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = slow_tokens(
        Some(format!("redis://127.0.0.1:{port}")),
        &unique_prefix("down"),
    );
    let limits = RateLimits::start(&config).await.unwrap();
    let status = limits.status().unwrap();
    assert_eq!(status.store, "redis");
    assert!(!status.shared);
    assert!(status.outage_since_ms.is_some());
    for n in 1..=100 {
        let d = limits.check(Policy::Tokens, "pk_1").await.unwrap();
        assert!(d.allowed, "call {n} refused because Redis is down");
    }
    assert!(!limits.check(Policy::Tokens, "pk_1").await.unwrap().allowed);
}

#[tokio::test]
async fn a_store_url_that_is_not_redis_is_refused_at_start() {
    let config = slow_tokens(Some("http://localhost:6379".into()), "x:");
    assert!(RateLimits::start(&config).await.is_err());
}
