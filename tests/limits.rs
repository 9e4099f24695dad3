//! Rate limits and the failed-authentication lockout (spec 0.4), in process,
//! with the documented default rates. The limiter's clock is a manual one, so
//! no bucket refills while a slow machine works through a burst.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use serde_json::{json, Value};

use common::{Reply, Tenant, TestApp};
use performchat::app::Config;
use performchat::domain::now_ms;
use performchat::limits::{Clock, LimitsConfig, ManualClock, MemoryLimiter, Policy, Rate};
use performchat::store::{Backend, Store};

const TOKEN: &str = "/rest/v1/auth/token";
const USERS: &str = "/rest/v1/customer-users";

/// The app with default limits on a clock that only moves when told.
async fn app_with_clock(limits: LimitsConfig) -> (TestApp, ManualClock) {
    let clock = ManualClock::default();
    let config = Config {
        limits: LimitsConfig {
            clock: Clock::Manual(clock.clone()),
            ..limits
        },
        ..Config::default()
    };
    (TestApp::with_config(Backend::Sqlite, config).await, clock)
}

/// A request as if from `peer` over TCP.
async fn from(
    app: &TestApp,
    peer: &str,
    method: Method,
    uri: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    app.send(req).await
}

fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn number(r: &Reply, name: &str) -> u64 {
    header(r, name)
        .unwrap_or_else(|| panic!("{name} missing; status {}", r.status))
        .parse()
        .unwrap()
}

fn token_body(t: &Tenant, key: &(String, String)) -> Value {
    common::with_creds(key, json!({ "userId": "rl-user", "agentId": t.agent }))
}

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
async fn ten_failed_authentications_lock_that_address_out_and_no_other() {
    let (app, clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    let revoked = app.key(&t.company, None, None).await;
    assert!(app
        .store
        .revoke_api_key(&revoked.0, now_ms())
        .await
        .unwrap());
    let expired = app.key(&t.company, None, Some(now_ms() - 1000)).await;
    let wrong = json!({ "keyId": t.key.0, "keySecret": "sk_wrong" });
    let (attacker, neighbour) = ("192.0.2.10", "192.0.2.11");

    // Every way of presenting credentials that do not authenticate counts.
    let failures: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (wrong.clone(), vec![]),
        (
            json!({ "keyId": "pk_unknown", "keySecret": "sk_x" }),
            vec![],
        ),
        (common::with_creds(&revoked, json!({})), vec![]),
        (common::with_creds(&expired, json!({})), vec![]),
        (json!({}), vec![("authorization", "Basic !!!")]),
        (
            json!({}),
            vec![
                ("x-api-key-id", t.key.0.as_str()),
                ("x-api-key-secret", "nope"),
            ],
        ),
        (json!({ "keyId": t.key.0 }), vec![]),
        (wrong.clone(), vec![]),
        (wrong.clone(), vec![]),
        (wrong.clone(), vec![]),
    ];
    for (n, (body, headers)) in failures.into_iter().enumerate() {
        let r = from(&app, attacker, Method::GET, USERS, body, &headers).await;
        r.assert_error(401);
        assert!(header(&r, "retry-after").is_none(), "failure {n}");
    }
    let r = from(&app, attacker, Method::GET, USERS, wrong.clone(), &[]).await;
    assert!(r.assert_error(429).contains("failed authentication"));
    assert_eq!(
        number(&r, "retry-after"),
        30,
        "10 per 5 minutes: one every 30 s"
    );
    // Locked out even with the right key, on any endpoint.
    let r = from(&app, attacker, Method::GET, USERS, t.creds(), &[]).await;
    r.assert_error(429);
    assert_eq!(number(&r, "retry-after"), 30);
    let r = from(
        &app,
        attacker,
        Method::POST,
        TOKEN,
        token_body(&t, &t.key),
        &[],
    )
    .await;
    r.assert_error(429);
    // Another address is not affected, neither for good nor for bad credentials.
    from(&app, neighbour, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_ok();
    from(&app, neighbour, Method::GET, USERS, wrong.clone(), &[])
        .await
        .assert_error(401);

    clock.advance(Duration::from_secs(29));
    from(&app, attacker, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_error(429);
    clock.advance(Duration::from_secs(1));
    from(&app, attacker, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_ok();
    // One failure's worth came back, no more.
    from(&app, attacker, Method::GET, USERS, wrong.clone(), &[])
        .await
        .assert_error(401);
    from(&app, attacker, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_error(429);
    clock.advance(Duration::from_secs(300));
    from(&app, attacker, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_credentials_do_not_count_nor_do_refused_permissions() {
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    let peer = "198.51.100.7";
    for _ in 0..30 {
        let r = from(&app, peer, Method::GET, USERS, json!({}), &[]).await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
        let r = from(
            &app,
            peer,
            Method::GET,
            USERS,
            json!({}),
            &[("authorization", "Bearer x")],
        )
        .await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
    }
    let reader = app.key(&t.company, Some("users:read"), None).await;
    for _ in 0..15 {
        let r = from(
            &app,
            peer,
            Method::POST,
            TOKEN,
            token_body(&t, &reader),
            &[],
        )
        .await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }
    from(&app, peer, Method::GET, USERS, t.creds(), &[])
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    let wrong = |t: &Tenant| json!({ "keyId": t.key.0, "keySecret": "sk_wrong" });

    // No trusted proxies: the header is the client's own claim, ignored.
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    for n in 0..10 {
        let xff = format!("203.0.113.{n}");
        let r = from(
            &app,
            "192.0.2.50",
            Method::GET,
            USERS,
            wrong(&t),
            &[("x-forwarded-for", &xff)],
        )
        .await;
        r.assert_error(401);
    }
    let r = from(
        &app,
        "192.0.2.50",
        Method::GET,
        USERS,
        t.creds(),
        &[("x-forwarded-for", "203.0.113.99")],
    )
    .await;
    r.assert_error(429);

    // Behind a trusted proxy, each forwarded client has its own count.
    let limits = LimitsConfig {
        trusted_proxies: "10.0.0.0/8".parse().unwrap(),
        ..LimitsConfig::default()
    };
    let (app, _clock) = app_with_clock(limits).await;
    let t = app.tenant("Acme").await;
    let proxy = "10.1.2.3";
    for _ in 0..10 {
        let r = from(
            &app,
            proxy,
            Method::GET,
            USERS,
            wrong(&t),
            &[("x-forwarded-for", "203.0.113.1")],
        )
        .await;
        r.assert_error(401);
    }
    let r = from(
        &app,
        proxy,
        Method::GET,
        USERS,
        t.creds(),
        &[("x-forwarded-for", "203.0.113.1")],
    )
    .await;
    r.assert_error(429);
    let r = from(
        &app,
        proxy,
        Method::GET,
        USERS,
        t.creds(),
        &[("x-forwarded-for", "203.0.113.2")],
    )
    .await;
    r.assert_ok();
    // A client cannot escape by prepending an address of its choosing.
    let spoofed = [("x-forwarded-for", "198.51.100.1, 203.0.113.1")];
    from(&app, proxy, Method::GET, USERS, t.creds(), &spoofed)
        .await
        .assert_error(429);
    // An untrusted peer sending the header is judged by its own address.
    let direct = [("x-forwarded-for", "203.0.113.1")];
    from(&app, "192.0.2.77", Method::GET, USERS, t.creds(), &direct)
        .await
        .assert_ok();
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
