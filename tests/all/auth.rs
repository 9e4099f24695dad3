//! API-key authentication: where credentials may travel, which source wins,
//! the 401 messages, key lifecycle (revoked, expired, company deactivated) and
//! the permission each endpoint needs.

use crate::harness;

use axum::body::Body;
use axum::http::{Method, Request};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use performchat::domain::now_ms;
use performchat::limits::{LimitsConfig, Rate};
use performchat::store::TenantStore;
use serde_json::{json, Value};

use harness::{Reply, TestApp};

const USERS: &str = "/rest/v1/customer-users";

/// Failed authentications are this file's subject; the lockout's are tests/all/limits.rs'.
fn generous_lockout() -> LimitsConfig {
    let mut limits = LimitsConfig::default();
    limits.policies.failed_auth = Rate::new(1000, 300);
    limits
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A request with optional extra headers and an optional JSON body.
async fn request(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    app.send(req.body(body).unwrap()).await
}

fn key_headers(key: &(String, String)) -> Vec<(&'static str, String)> {
    vec![
        ("x-api-key-id", key.0.clone()),
        ("x-api-key-secret", key.1.clone()),
    ]
}

backend_tests! {
    async fn basic_auth_is_accepted(app) {
        let t = app.tenant("Acme").await;
        let r = request(&app, Method::GET, USERS, &[("authorization", basic(&t.key.0, &t.key.1))], None).await;
        assert_eq!(r.assert_ok()["pagination"]["total"], json!(0));
    }

    async fn body_credentials_are_read_on_get(app) {
        let t = app.tenant("Acme").await;
        // A GET with a JSON body, as the docs' axios and requests clients send it.
        let r = app.get(USERS, t.creds()).await;
        r.assert_ok();
        let r = app.get("/rest/v1/agents", t.creds()).await;
        r.assert_ok();
    }

    async fn every_credential_source_works_over_a_real_port(app) {
        let t = app.tenant("Acme").await;
        let served = app.serve().await;
        let client = reqwest::Client::new();
        let url = served.url(USERS);
        // A GET with a JSON body, exactly as the docs' clients send it.
        let res = client.get(&url).json(&t.creds()).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = client.get(&url).basic_auth(&t.key.0, Some(&t.key.1)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = client
            .get(&url)
            .header("X-Api-Key-Id", &t.key.0)
            .header("X-Api-Key-Secret", &t.key.1)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"], json!("Missing API credentials"));
        served.shutdown().await.unwrap();
    }

    async fn header_credentials_are_accepted(app) {
        let t = app.tenant("Acme").await;
        let r = request(&app, Method::GET, USERS, &key_headers(&t.key), None).await;
        r.assert_ok();
        let tok = request(
            &app,
            Method::POST,
            "/rest/v1/auth/token",
            &key_headers(&t.key),
            Some(json!({ "userId": "u1", "agentId": t.agent })),
        )
        .await;
        tok.assert_ok();
    }

    async fn basic_auth_wins_over_body_credentials(app) {
        let t = app.tenant("Acme").await;
        let wrong = json!({ "keyId": t.key.0, "keySecret": "sk_wrong" });
        let good_basic = [("authorization", basic(&t.key.0, &t.key.1))];
        request(&app, Method::GET, USERS, &good_basic, Some(wrong)).await.assert_ok();

        let bad_basic = [("authorization", basic(&t.key.0, "sk_wrong"))];
        let r = request(&app, Method::GET, USERS, &bad_basic, Some(t.creds())).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
    }

    async fn body_credentials_win_over_headers(app) {
        let t = app.tenant("Acme").await;
        let bad_headers = key_headers(&(t.key.0.clone(), "sk_wrong".into()));
        request(&app, Method::GET, USERS, &bad_headers, Some(t.creds())).await.assert_ok();

        let wrong_body = json!({ "keyId": t.key.0, "keySecret": "sk_wrong" });
        let r = request(&app, Method::GET, USERS, &key_headers(&t.key), Some(wrong_body)).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
    }

    async fn missing_credentials_are_401(app) {
        app.tenant("Acme").await;
        for (method, uri, body) in [
            (Method::GET, USERS, None),
            (Method::GET, USERS, Some(json!({}))),
            (Method::GET, "/rest/v1/agents", None),
            (Method::POST, "/rest/v1/auth/token", Some(json!({ "userId": "u", "agentId": "a" }))),
            (Method::PUT, "/rest/v1/customer-users/cu_x", Some(json!({ "name": "x" }))),
        ] {
            let r = request(&app, method, uri, &[], body).await;
            assert_eq!(r.assert_error(401), "Missing API credentials", "{uri}");
        }
    }

    async fn wrong_secret_and_unknown_key_are_invalid(app) {
        // 20 failures from one address: more than the lockout allows.
        let app = app.with_limits(generous_lockout()).await;
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        for (id, secret) in [
            (t.key.0.clone(), "sk_wrong".to_owned()),
            (t.key.0.clone(), String::new()),
            (t.key.0.clone(), other.key.1.clone()),
            ("pk_does_not_exist".to_owned(), t.key.1.clone()),
            (String::new(), t.key.1.clone()),
            ("x".repeat(500), t.key.1.clone()),
        ] {
            let r = app.get(USERS, json!({ "keyId": id, "keySecret": secret })).await;
            assert_eq!(r.assert_error(401), "Invalid API credentials", "{id:.20}:{secret:.10}");
            let r = request(&app, Method::GET, USERS, &[("authorization", basic(&id, &secret))], None).await;
            assert_eq!(r.assert_error(401), "Invalid API credentials");
            let r = request(&app, Method::GET, USERS, &key_headers(&(id.clone(), secret.clone())), None).await;
            assert_eq!(r.assert_error(401), "Invalid API credentials");
        }
        // Only one of the two body fields, or a Basic header that is not base64.
        let r = app.get(USERS, json!({ "keyId": t.key.0 })).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
        let r = request(&app, Method::GET, USERS, &[("authorization", "Basic !!!not-base64".into())], None).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
    }

    async fn revoked_key_is_invalid(app) {
        let t = app.tenant("Acme").await;
        let key = app.key(&t.company, None, None).await;
        app.get(USERS, harness::with_creds(&key, json!({}))).await.assert_ok();
        assert!(app.store.revoke_api_key(&key.0, now_ms()).await.unwrap());
        let r = app.get(USERS, harness::with_creds(&key, json!({}))).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
        // The tenant's other key still works.
        app.get(USERS, t.creds()).await.assert_ok();
    }

    async fn expired_key_is_refused(app) {
        let t = app.tenant("Acme").await;
        let expired = app.key(&t.company, None, Some(now_ms() - 1_000)).await;
        let r = app.get(USERS, harness::with_creds(&expired, json!({}))).await;
        assert_eq!(r.assert_error(401), "Expired API key");
        // A wrong secret on an expired key says nothing about expiry.
        let r = app.get(USERS, json!({ "keyId": expired.0, "keySecret": "sk_wrong" })).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");

        let later = app.key(&t.company, None, Some(now_ms() + 3_600_000)).await;
        app.get(USERS, harness::with_creds(&later, json!({}))).await.assert_ok();
    }

    async fn deactivated_company_key_is_refused(app) {
        let t = app.tenant("Acme").await;
        app.get(USERS, t.creds()).await.assert_ok();
        assert!(app.store.set_company_active(&t.company, false).await.unwrap());
        let r = app.get(USERS, t.creds()).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");
        let r = app
            .post("/rest/v1/auth/token", t.body(json!({ "userId": "u1", "agentId": t.agent })))
            .await;
        r.assert_error(401);
    }

    async fn each_endpoint_needs_its_permission(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let user_id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let token = tok["token"].as_str().unwrap().to_owned();
        let user_url = format!("{USERS}/{user_id}");
        let agent_url = format!("/rest/v1/agents/{}", t.agent);

        let calls: Vec<(&str, Method, String, Value)> = vec![
            ("chat:send", Method::POST, "/rest/v1/auth/token".into(), json!({ "userId": "user_2", "agentId": t.agent })),
            ("chat:send", Method::POST, "/rest/v1/auth/verify-token".into(), json!({ "token": token })),
            ("users:read", Method::GET, USERS.into(), json!({})),
            ("users:read", Method::GET, user_url.clone(), json!({})),
            ("users:write", Method::PUT, user_url.clone(), json!({ "name": "Ann" })),
            ("agents:read", Method::GET, "/rest/v1/agents".into(), json!({})),
            ("agents:read", Method::GET, agent_url, json!({})),
            // Last, since it changes the token version.
            ("chat:send", Method::POST, "/rest/v1/auth/invalidate-token".into(), json!({ "customerUserId": user_id })),
        ];
        let all: Vec<&str> = performchat::domain::Permissions::all().names().collect();
        for (needed, method, uri, fields) in calls {
            let others: Vec<&str> = all.iter().copied().filter(|p| *p != needed).collect();
            let without = app.key(&t.company, Some(&others.join(",")), None).await;
            let r = app.call(method.clone(), &uri, Some(harness::with_creds(&without, fields.clone()))).await;
            assert_eq!(r.assert_error(401), "Insufficient permissions", "{method} {uri} without {needed}");

            let only = app.key(&t.company, Some(needed), None).await;
            let r = app.call(method.clone(), &uri, Some(harness::with_creds(&only, fields))).await;
            assert_eq!(r.status, 200, "{method} {uri} with only {needed}: {}", r.text);
        }
    }

    async fn users_write_alone_cannot_read(app) {
        let t = app.tenant("Acme").await;
        let key = app.key(&t.company, Some("users:write"), None).await;
        let r = app.get(USERS, harness::with_creds(&key, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        let key = app.key(&t.company, Some("users:read"), None).await;
        let r = app.get("/rest/v1/agents", harness::with_creds(&key, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }

    async fn key_secret_never_appears_in_responses(app) {
        let t = app.tenant("Acme").await;
        let secret = t.key.1.clone();
        let tok = app
            .post("/rest/v1/auth/token", t.body(json!({ "userId": "u1", "agentId": t.agent })))
            .await;
        assert_eq!(tok.status, 200);
        let user_id = tok.body["customerUser"]["id"].as_str().unwrap().to_owned();
        let token = tok.body["token"].as_str().unwrap().to_owned();
        let replies = vec![
            tok,
            app.post("/rest/v1/auth/verify-token", t.body(json!({ "token": token }))).await,
            app.get(USERS, t.creds()).await,
            app.get(&format!("{USERS}/{user_id}"), t.creds()).await,
            app.put(&format!("{USERS}/{user_id}"), t.body(json!({ "name": "Ann" }))).await,
            app.get("/rest/v1/agents", t.creds()).await,
            app.post("/rest/v1/auth/invalidate-token", t.body(json!({ "customerUserId": user_id }))).await,
            // Errors must not echo it either.
            app.put(&format!("{USERS}/{user_id}"), t.body(json!({ "bogus": 1 }))).await,
            app.post("/rest/v1/auth/token", t.body(json!({ "userId": "", "agentId": t.agent }))).await,
            app.get(USERS, json!({ "keyId": t.key.0, "keySecret": 5 })).await,
            app.get(&format!("{USERS}?keyId={}&keySecret={secret}", t.key.0), json!({})).await,
            app.get(&format!("{USERS}?keySecret={secret}"), t.creds()).await,
        ];
        for r in replies {
            assert!(!r.text.contains(&secret), "secret leaked in {}", r.text);
            for value in r.headers.values() {
                assert!(!value.to_str().unwrap_or_default().contains(&secret), "secret leaked in a header");
            }
        }
        // A token's payload does not carry it.
        let payload = token.split('.').nth(1).unwrap();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert!(!String::from_utf8(claims).unwrap().contains(&secret));
    }

    async fn query_string_credentials_are_not_accepted(app) {
        let t = app.tenant("Acme").await;
        // Secrets do not belong in URLs: they are no credential source...
        let query = format!("?keyId={}&keySecret={}", t.key.0, t.key.1);
        let r = app.call(Method::GET, &format!("{USERS}{query}"), None).await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
        // ...and next to real credentials they are unknown parameters.
        let r = app.get(&format!("{USERS}{query}"), t.creds()).await;
        assert!(r.assert_error(400).contains("keyId"), "{}", r.text);
    }

    async fn a_chat_token_on_an_api_key_route_is_told_what_belongs_there(app) {
        let t = app.tenant("Acme").await;
        let token = app.token(&t, "user_1").await["token"].as_str().unwrap().to_owned();
        let bearer = format!("Bearer {token}");
        let r = request(&app, Method::GET, USERS, &[("authorization", bearer)], None).await;
        let message = r.assert_error(401);
        assert!(message.starts_with("Missing API credentials: this route takes an API key"), "{message}");
        assert!(message.contains("not a Bearer chat token"), "{message}");
        // With a key beside it, the bearer header is simply not ours.
        let r = request(&app, Method::GET, USERS, &[("authorization", format!("Bearer {token}")), ("x-api-key-id", t.key.0.clone()), ("x-api-key-secret", t.key.1.clone())], None).await;
        r.assert_ok();
    }

    async fn credentials_of_the_wrong_type_are_400(app) {
        let t = app.tenant("Acme").await;
        let r = app.get(USERS, json!({ "keyId": t.key.0, "keySecret": 12345 })).await;
        assert!(r.assert_error(400).contains("keySecret"), "{}", r.text);
        let r = app.get(USERS, json!({ "keyId": null, "keySecret": t.key.1 })).await;
        assert!(r.assert_error(400).contains("keyId"), "{}", r.text);
    }
}
