//! Rate limits and the failed-authentication lockout (docs/API.md §0.4), in process,
//! with the documented default rates. The limiter's clock is a manual one, so
//! no bucket refills while a slow machine works through a burst.

mod common;
#[path = "support/limits.rs"]
mod limits;

use std::time::Duration;

use axum::http::Method;
use serde_json::json;

use limits::{app_with_clock, from, header, number, token_body, TOKEN, USERS};
use performchat::limits::{Clock, LimitsConfig, ManualClock, MemoryLimiter, Policy, Rate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_token_calls_passes_and_the_101st_is_429() {
    let (app, clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    for n in 1..=100u64 {
        let r = app.post(TOKEN, token_body(&t, &t.key)).await;
        r.assert_ok();
        assert_eq!(number(&r, "ratelimit-limit"), 100);
        assert_eq!(number(&r, "ratelimit-remaining"), 100 - n, "call {n}");
        // n requests of 0.6 s each until the bucket is full again.
        assert_eq!(
            number(&r, "ratelimit-reset"),
            (n * 6).div_ceil(10),
            "call {n}"
        );
        assert_eq!(
            header(&r, "ratelimit-policy"),
            Some("\"tokens\";q=100;w=60")
        );
        assert_eq!(
            header(&r, "ratelimit").unwrap(),
            format!("\"tokens\";r={};t={}", 100 - n, (n * 6).div_ceil(10))
        );
    }
    let r = app.post(TOKEN, token_body(&t, &t.key)).await;
    assert!(r.assert_error(429).contains("tokens"), "{}", r.text);
    assert_eq!(
        number(&r, "retry-after"),
        1,
        "one request frees up after 0.6 s"
    );
    assert_eq!(number(&r, "ratelimit-remaining"), 0);
    assert_eq!(number(&r, "ratelimit-reset"), 60);
    assert_eq!(header(&r, "ratelimit").unwrap(), "\"tokens\";r=0;t=60");

    // Nothing was issued for the refused call, and the refusal cost nothing.
    clock.advance(Duration::from_millis(599));
    app.post(TOKEN, token_body(&t, &t.key))
        .await
        .assert_error(429);
    clock.advance(Duration::from_millis(1));
    let r = app.post(TOKEN, token_body(&t, &t.key)).await;
    r.assert_ok();
    assert_eq!(number(&r, "ratelimit-remaining"), 0);
    app.post(TOKEN, token_body(&t, &t.key))
        .await
        .assert_error(429);

    // Another key of the same company has its own bucket.
    let other = app.key(&t.company, None, None).await;
    app.post(TOKEN, token_body(&t, &other)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_bucket_is_separate_from_the_tokens_bucket() {
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    for _ in 0..100 {
        app.post(TOKEN, token_body(&t, &t.key)).await.assert_ok();
    }
    app.post(TOKEN, token_body(&t, &t.key))
        .await
        .assert_error(429);
    let r = app.get(USERS, t.creds()).await;
    r.assert_ok();
    assert_eq!(header(&r, "ratelimit-policy"), Some("\"api\";q=1000;w=60"));
    assert_eq!(
        number(&r, "ratelimit-remaining"),
        999,
        "token calls do not count as api calls"
    );

    for n in 2..=1000u64 {
        let r = app.get("/rest/v1/agents", t.creds()).await;
        assert_eq!(r.status, 200, "call {n}: {}", r.text);
    }
    let r = app.get(USERS, t.creds()).await;
    assert!(r.assert_error(429).contains("api"));
    assert_eq!(number(&r, "retry-after"), 1, "0.06 s until one more fits");
    // Every kind of answer to an exhausted key is refused, verification included.
    let verify = t.body(json!({ "token": "x" }));
    app.post("/rest/v1/auth/verify-token", verify)
        .await
        .assert_error(429);
    let fresh = app.key(&t.company, None, None).await;
    app.post(TOKEN, token_body(&t, &fresh)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authenticated_answer_carries_the_headers_and_others_do_not() {
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    // Authenticated, then refused for what was asked: still counted and told.
    let not_found = app.get(&format!("{USERS}/cu_nope"), t.creds()).await;
    not_found.assert_error(404);
    assert_eq!(number(&not_found, "ratelimit-remaining"), 999);
    let bad_field = app
        .post(TOKEN, t.body(json!({ "userId": "", "agentId": t.agent })))
        .await;
    bad_field.assert_error(400);
    assert_eq!(number(&bad_field, "ratelimit-remaining"), 99);
    let reader = app.key(&t.company, Some("users:read"), None).await;
    let denied = app.post(TOKEN, token_body(&t, &reader)).await;
    assert_eq!(denied.assert_error(401), "Insufficient permissions");
    assert_eq!(number(&denied, "ratelimit-limit"), 100);
    // Not authenticated, or no API key at all: nothing to report.
    for r in [
        app.get(USERS, json!({})).await,
        app.get(USERS, json!({ "keyId": t.key.0, "keySecret": "sk_wrong" }))
            .await,
        app.call(Method::GET, "/health", None).await,
        app.call(Method::GET, "/rest/v1/openapi.json", None).await,
    ] {
        assert!(header(&r, "ratelimit-limit").is_none(), "{}", r.text);
        assert!(header(&r, "ratelimit").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_policy_allows_20_a_minute_per_customer_user() {
    let (app, clock) = app_with_clock(LimitsConfig::default()).await;
    let limits = &app.state.limits;
    for n in 1..=20u32 {
        let d = limits.check(Policy::Chat, "cu_a").await.unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 20 - n);
    }
    let refused = limits.check(Policy::Chat, "cu_a").await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after_secs, 3, "one message every 3 s");
    assert!(refused
        .headers()
        .contains(&("ratelimit-policy", "\"chat\";q=20;w=60".into())));
    assert!(limits.check(Policy::Chat, "cu_b").await.unwrap().allowed);
    clock.advance(Duration::from_secs(3));
    assert!(limits.check(Policy::Chat, "cu_a").await.unwrap().allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_nothing_is_limited_and_no_headers_are_sent() {
    let (app, _clock) = app_with_clock(LimitsConfig::off()).await;
    let t = app.tenant("Acme").await;
    for _ in 0..120 {
        let r = app.post(TOKEN, token_body(&t, &t.key)).await;
        r.assert_ok();
        assert!(header(&r, "ratelimit-limit").is_none());
    }
    for _ in 0..20 {
        let r = from(
            &app,
            "192.0.2.1",
            Method::GET,
            USERS,
            json!({ "keyId": t.key.0, "keySecret": "x" }),
            &[],
        )
        .await;
        r.assert_error(401);
    }
    let health = app.call(Method::GET, "/health", None).await;
    assert_eq!(health.assert_ok()["rateLimits"]["state"], json!("off"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_rates_replace_the_defaults() {
    let mut limits = LimitsConfig::default();
    limits.policies.tokens = Rate::new(3, 3600);
    let (app, _clock) = app_with_clock(limits).await;
    let t = app.tenant("Acme").await;
    for _ in 0..3 {
        app.post(TOKEN, token_body(&t, &t.key)).await.assert_ok();
    }
    let r = app.post(TOKEN, token_body(&t, &t.key)).await;
    r.assert_error(429);
    assert_eq!(number(&r, "retry-after"), 1200);
    assert_eq!(
        header(&r, "ratelimit-policy"),
        Some("\"tokens\";q=3;w=3600")
    );
}

#[test]
fn memory_stays_bounded_under_100_000_distinct_keys() {
    use performchat::limits::{Bucket, Gcra};
    let clock = ManualClock::default();
    let store = MemoryLimiter::new(
        performchat::limits::memory::DEFAULT_CAPACITY,
        Clock::Manual(clock.clone()),
    );
    let gcra = Gcra::new(Rate::new(1000, 60));
    // Spent for the next hour, while the others refill within 0.06 s.
    let hot = Bucket {
        policy: Policy::Api,
        subject: "pk_hot",
        gcra: Gcra::new(Rate::new(1000, 3600)),
    };
    for _ in 0..1000 {
        store.step_now(None, &hot);
    }
    let mut peak = 0;
    for i in 0..250_000u32 {
        let subject = format!("pk_{i}");
        let bucket = Bucket {
            policy: Policy::Api,
            subject: &subject,
            gcra,
        };
        store.step_now(None, &bucket);
        peak = peak.max(store.allocated_bytes());
        if i % 10_000 == 0 {
            clock.advance(Duration::from_millis(10));
        }
    }
    assert!(store.len() <= store.capacity(), "{} buckets", store.len());
    // 100 000 buckets of 17 bytes in maps at most half empty: ~4 MiB.
    assert!(peak <= 5 << 20, "{peak} bytes allocated");
    // The busiest bucket is the last to go.
    assert!(!matches!(
        store.step_now(None, &hot),
        performchat::limits::Step::Charged { allowed: true, .. }
    ));
    // Once idle, everything is given back.
    clock.advance(Duration::from_secs(3601));
    store.evict_idle();
    assert_eq!(store.len(), 0);
    assert!(store.allocated_bytes() < 64 << 10);
}
