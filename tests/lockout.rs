//! The failed-authentication lockout (docs/API.md §0.4) in process, with the default
//! 10 per 5 minutes on a manual clock, and the client address behind proxies.

mod common;
#[path = "support/limits.rs"]
mod limits;

use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Value};

use common::Tenant;
use limits::{app_with_clock, from, header, number, token_body, TOKEN, USERS};
use performchat::domain::now_ms;
use performchat::limits::LimitsConfig;
use performchat::store::TenantStore;

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
        assert!(r.assert_error(401).starts_with("Missing API credentials"));
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
