//! auth/token, auth/invalidate-token and auth/verify-token.

use crate::harness;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use performchat::domain::now_ms;
use performchat::store::TenantStore;
use serde_json::{json, Value};

use harness::{Reply, Tenant, TestApp};

const TOKEN: &str = "/rest/v1/auth/token";
const VERIFY: &str = "/rest/v1/auth/verify-token";
const INVALIDATE: &str = "/rest/v1/auth/invalidate-token";

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three JWT parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn rfc3339_z(text: &str) -> DateTime<Utc> {
    assert!(text.ends_with('Z'), "{text} must be UTC with Z");
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

async fn issue(app: &TestApp, t: &Tenant, fields: Value) -> Reply {
    app.post(TOKEN, t.body(fields)).await
}

async fn issue_with_expiry(app: &TestApp, t: &Tenant, expires_in: Value) -> Reply {
    issue(
        app,
        t,
        json!({ "userId": "u1", "agentId": t.agent, "expiresIn": expires_in }),
    )
    .await
}

async fn verify(app: &TestApp, t: &Tenant, token: &str) -> Reply {
    app.post(VERIFY, t.body(json!({ "token": token }))).await
}

async fn get_user(app: &TestApp, t: &Tenant, id: &str) -> Value {
    app.get(&format!("/rest/v1/customer-users/{id}"), t.creds())
        .await
        .assert_ok()
        .clone()
}

/// Sends every body to the token route at once; the answers in order.
async fn all_at_once(app: &TestApp, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for body in bodies {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post(TOKEN)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let res = router.oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn tiny_sleep() -> tokio::time::Sleep {
    // Timestamps have millisecond precision; make sure "later" is later.
    tokio::time::sleep(std::time::Duration::from_millis(15))
}

backend_tests! {
    async fn token_response_has_the_documented_shape(app) {
        let t = app.tenant("Acme").await;
        let before = Utc::now();
        let r = issue(&app, &t, json!({ "userId": "user_123", "agentId": t.agent })).await;
        let body = r.assert_ok();
        assert_eq!(r.headers["content-type"], "application/json");
        let user = &body["customerUser"];
        assert!(user["id"].as_str().unwrap().starts_with("cu_"));
        assert_eq!(user["externalId"], json!("user_123"));
        assert_eq!(user["companyId"], json!(t.company));
        assert_eq!(user["agentId"], json!(t.agent));
        assert_eq!(user.as_object().unwrap().len(), 4, "{user}");
        assert_eq!(body["user"], *user);
        assert_eq!(body["agent"], json!({ "id": t.agent, "name": "Acme Support", "active": true }));
        assert_eq!(body["apiKey"]["id"], json!(t.key.0));
        assert_eq!(body["apiKey"]["name"], json!("test key"));
        assert_eq!(body["apiKey"]["environment"], json!("production"));
        let expires = rfc3339_z(body["expiresAt"].as_str().unwrap());
        let expected = before + chrono::Duration::hours(24);
        assert!((expires - expected).num_seconds().abs() <= 2, "{expires} vs {expected}");
    }

    async fn token_is_an_hs256_jwt_with_the_documented_claims(app) {
        let t = app.tenant("Acme").await;
        let r = issue(&app, &t, json!({ "userId": "user_123", "agentId": t.agent })).await;
        let body = r.assert_ok();
        let token = body["token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3);
        let header = decode_part(token, 0);
        assert_eq!(header["alg"], json!("HS256"));
        let claims = decode_part(token, 1);
        assert_eq!(claims["sub"], body["customerUser"]["id"]);
        assert_eq!(claims["tokenVersion"], json!(0));
        assert_eq!(claims["companyId"], json!(t.company));
        assert_eq!(claims["agentId"], json!(t.agent));
        assert_eq!(claims["externalId"], json!("user_123"));
        assert_eq!(claims["iss"], json!("performchat"));
        let iat = claims["iat"].as_i64().unwrap();
        let exp = claims["exp"].as_i64().unwrap();
        assert!((iat - Utc::now().timestamp()).abs() <= 5);
        assert_eq!(exp - iat, 24 * 3600, "default lifetime is 24h");
        assert_eq!(rfc3339_z(body["expiresAt"].as_str().unwrap()).timestamp(), exp);
    }

    async fn each_expires_in_unit_is_honoured(app) {
        let t = app.tenant("Acme").await;
        for (text, seconds) in [
            ("1s", 1),
            ("3600s", 3600),
            ("30m", 1800),
            ("24h", 86_400),
            ("7d", 604_800),
            ("30d", 2_592_000),
            ("720h", 2_592_000),
            ("2592000s", 2_592_000),
        ] {
            let r = issue_with_expiry(&app, &t, json!(text)).await;
            let body = r.assert_ok();
            let claims = decode_part(body["token"].as_str().unwrap(), 1);
            let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
            assert_eq!(lifetime, seconds, "{text}");
            assert_eq!(rfc3339_z(body["expiresAt"].as_str().unwrap()).timestamp(), claims["exp"].as_i64().unwrap());
        }
    }

    async fn malformed_expires_in_is_refused(app) {
        let t = app.tenant("Acme").await;
        for bad in [
            "", "3600", "0s", "0d", "-1h", "1w", "1y", "1ms", "1H", "1 h", " 1h", "1h ", "1.5h", "+1h",
            "01h", "h", "1hh", "31d", "721h", "2592001s", "43201m", "99999999999999999999999d",
            "1٣h", "1e3s",
        ] {
            let r = issue_with_expiry(&app, &t, json!(bad)).await;
            let message = r.assert_error(400);
            assert!(message.contains("expiresIn"), "{bad:?}: {message}");
        }
        for bad in [json!(3600), json!(1.5), json!(true), json!(["1h"]), json!({ "h": 1 })] {
            let r = issue_with_expiry(&app, &t, bad.clone()).await;
            assert!(r.assert_error(400).contains("expiresIn"), "{bad}: {}", r.text);
        }
        // Nothing was created by the refused calls.
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(0));
    }

    async fn user_id_is_1_to_255_code_points(app) {
        let t = app.tenant("Acme").await;
        for ok in ["x".repeat(255), "é".repeat(255), "😀".repeat(255), "a".into(), "用户_1".into()] {
            let r = issue(&app, &t, json!({ "userId": ok, "agentId": t.agent })).await;
            assert_eq!(r.assert_ok()["customerUser"]["externalId"], json!(ok));
        }
        for bad in [String::new(), "x".repeat(256), "é".repeat(256), "😀".repeat(256)] {
            let r = issue(&app, &t, json!({ "userId": bad, "agentId": t.agent })).await;
            assert!(r.assert_error(400).contains("userId"), "{}", r.text);
        }
        for bad in [json!(123), json!(null), json!(["u"])] {
            let r = issue(&app, &t, json!({ "userId": bad, "agentId": t.agent })).await;
            assert!(r.assert_error(400).contains("userId"), "{}", r.text);
        }
        let r = issue(&app, &t, json!({ "agentId": t.agent })).await;
        assert!(r.assert_error(400).contains("userId"), "{}", r.text);
        let r = issue(&app, &t, json!({ "userId": "u" })).await;
        assert!(r.assert_error(400).contains("agentId"), "{}", r.text);
        let r = issue(&app, &t, json!({ "userId": "u", "agentId": t.agent, "user_id": "v" })).await;
        assert!(r.assert_error(400).contains("user_id"), "{}", r.text);
    }

    async fn unknown_inactive_and_foreign_agents_are_not_found(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        for agent in [t.inactive_agent.clone(), other.agent.clone(), "agent_nope".into(), String::new()] {
            let r = issue(&app, &t, json!({ "userId": "u1", "agentId": agent })).await;
            assert_eq!(r.assert_error(400), "Agent not found", "{agent}");
        }
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(0), "no user made for a refused token");
    }

    async fn same_user_id_reuses_the_user_and_moves_last_seen_only(app) {
        let t = app.tenant("Acme").await;
        let first = app.token(&t, "user_1").await;
        let id = first["customerUser"]["id"].as_str().unwrap().to_owned();
        let before = get_user(&app, &t, &id).await;
        assert_eq!(before["external_id"], json!("user_1"));
        assert_eq!(before["active"], json!(true));
        assert_eq!(before["metadata"], json!({}));
        assert_eq!(before["name"], Value::Null);
        assert_eq!(before["email"], Value::Null);
        assert!(before["last_seen_at"].is_string());

        tiny_sleep().await;
        let second = app.token(&t, "user_1").await;
        assert_eq!(second["customerUser"]["id"], json!(id));
        let after = get_user(&app, &t, &id).await;
        let seen = |u: &Value| rfc3339_z(u["last_seen_at"].as_str().unwrap());
        assert!(seen(&after) > seen(&before), "last_seen_at moves");
        assert_eq!(after["updated_at"], before["updated_at"], "updated_at is not touched");
        assert_eq!(after["created_at"], before["created_at"]);

        // The same external id in another company is another user.
        let other = app.tenant("Other").await;
        let theirs = app.token(&other, "user_1").await;
        assert_ne!(theirs["customerUser"]["id"], json!(id));
    }

    async fn inactive_user_gets_no_token_and_nothing_is_written(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let url = format!("/rest/v1/customer-users/{id}");
        app.put(&url, t.body(json!({ "active": false }))).await.assert_ok();
        let before = get_user(&app, &t, &id).await;

        tiny_sleep().await;
        let r = issue(&app, &t, json!({ "userId": "user_1", "agentId": t.agent })).await;
        assert_eq!(r.assert_error(400), "Customer user is inactive");
        assert!(r.body.get("token").is_none());
        let after = get_user(&app, &t, &id).await;
        assert_eq!(after, before, "nothing written for an inactive user");

        app.put(&url, t.body(json!({ "active": true }))).await.assert_ok();
        app.token(&t, "user_1").await;
    }

    async fn concurrent_first_calls_create_exactly_one_user(app) {
        let t = app.tenant("Acme").await;
        let body = t.body(json!({ "userId": "racer", "agentId": t.agent }));
        let mut ids = std::collections::BTreeSet::new();
        for (status, body) in all_at_once(&app, vec![body; 32]).await {
            assert_eq!(status, 200, "{body}");
            ids.insert(body["customerUser"]["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(1));
    }

    // On SQLite, token writes that queue together are committed together:
    // each call must still get its own answer, refusals included.
    async fn calls_issued_together_each_get_their_own_answer(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let sleeper = app.token(&t, "sleeper").await["customerUser"]["id"].as_str().unwrap().to_owned();
        let url = format!("/rest/v1/customer-users/{sleeper}");
        app.put(&url, t.body(json!({ "active": false }))).await.assert_ok();

        let mut bodies = Vec::new();
        for i in 0..32 {
            bodies.push(t.body(json!({ "userId": format!("crowd_{}", i % 16), "agentId": t.agent })));
        }
        for _ in 0..8 {
            bodies.push(t.body(json!({ "userId": "sleeper", "agentId": t.agent })));
            bodies.push(t.body(json!({ "userId": "lost", "agentId": t.inactive_agent })));
            bodies.push(other.body(json!({ "userId": "crowd_0", "agentId": other.agent })));
        }
        let answers = all_at_once(&app, bodies.clone()).await;
        let mut ids = std::collections::BTreeMap::new();
        for (sent, (status, body)) in bodies.iter().zip(answers) {
            let user = sent["userId"].as_str().unwrap();
            match user {
                "sleeper" => assert_eq!((status, body["message"].as_str()), (400, Some("Customer user is inactive"))),
                "lost" => assert_eq!((status, body["message"].as_str()), (400, Some("Agent not found"))),
                _ => {
                    assert_eq!(status, 200, "{body}");
                    let got = &body["customerUser"];
                    assert_eq!(got["externalId"], json!(user), "{body}");
                    let key = (sent["keyId"].as_str().unwrap().to_owned(), user.to_owned());
                    let id = got["id"].as_str().unwrap().to_owned();
                    assert_eq!(ids.entry(key).or_insert_with(|| id.clone()), &id, "one user per external id");
                }
            }
        }
        assert_eq!(ids.len(), 17, "16 users of Acme and one of Other");
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(17), "the crowd and the sleeper");
        let list = app.get("/rest/v1/customer-users", other.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(1));
        assert_eq!(get_user(&app, &t, &sleeper).await["active"], json!(false));
    }

    async fn invalidation_bumps_the_version_and_kills_old_tokens(app) {
        let t = app.tenant("Acme").await;
        let first = app.token(&t, "user_1").await;
        let id = first["customerUser"]["id"].as_str().unwrap().to_owned();
        let old = first["token"].as_str().unwrap().to_owned();
        verify(&app, &t, &old).await.assert_ok();

        for expected in 1..=2 {
            let r = app.post(INVALIDATE, t.body(json!({ "customerUserId": id }))).await;
            assert_eq!(
                *r.assert_ok(),
                json!({ "message": "All tokens invalidated successfully", "customerUserId": id, "newTokenVersion": expected })
            );
        }
        let r = verify(&app, &t, &old).await;
        assert_eq!(r.assert_error(401), "Token has been invalidated");

        let fresh = app.token(&t, "user_1").await;
        let token = fresh["token"].as_str().unwrap();
        assert_eq!(decode_part(token, 1)["tokenVersion"], json!(2));
        verify(&app, &t, token).await.assert_ok();
    }

    async fn invalidating_unknown_or_foreign_users_is_400(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let theirs = app.token(&other, "user_1").await;
        let their_id = theirs["customerUser"]["id"].as_str().unwrap().to_owned();
        for id in [their_id.clone(), "cu_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(), String::new()] {
            let r = app.post(INVALIDATE, t.body(json!({ "customerUserId": id }))).await;
            assert_eq!(r.assert_error(400), "Customer user not found or does not belong to your company");
        }
        // Their token still works: nothing was bumped.
        verify(&app, &other, theirs["token"].as_str().unwrap()).await.assert_ok();

        let r = app.post(INVALIDATE, t.body(json!({ "customerUserId": 5 }))).await;
        assert!(r.assert_error(400).contains("customerUserId"), "{}", r.text);
        let r = app.post(INVALIDATE, t.creds()).await;
        assert!(r.assert_error(400).contains("customerUserId"), "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_lifetime_never_exceeds_the_configured_maximum() {
    let config = performchat::app::Config {
        max_token_ttl_secs: 3600,
        ..Default::default()
    };
    let app = TestApp::with_config(performchat::store::Backend::Sqlite, config).await;
    let t = app.tenant("Acme").await;
    let issued = app.token(&t, "short").await;
    let claims = decode_part(issued["token"].as_str().unwrap(), 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

mod verify;
