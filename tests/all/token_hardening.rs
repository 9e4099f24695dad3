//! Tokens that stay dead and answers that give nothing away: deactivation
//! ends a user's tokens on every write path, verify-token checks the token's
//! company before anything about its user, tokens longer than the server's
//! maximum lifetime are refused, and the answer carrying a token is not
//! cacheable.

use crate::harness;

use axum::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use performchat::auth::Claims;
use serde_json::{json, Value};

use harness::{Tenant, TestApp};

const VERIFY: &str = "/rest/v1/auth/verify-token";
const USERS: &str = "/rest/v1/customer-users";

fn claims_of(token: &str) -> Claims {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn verify_status(app: &TestApp, t: &Tenant, token: &str) -> (u16, String) {
    let r = app.post(VERIFY, t.body(json!({ "token": token }))).await;
    let message = r.body["message"].as_str().unwrap_or_default().to_owned();
    (r.status.as_u16(), message)
}

/// A token for `external_id`, and the user's internal id.
async fn token_for(app: &TestApp, t: &Tenant, external_id: &str) -> (String, String) {
    let issued = app.token(t, external_id).await;
    (
        issued["token"].as_str().unwrap().to_owned(),
        issued["customerUser"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn set_active(app: &TestApp, t: &Tenant, method: Method, uri: &str, active: bool) -> Value {
    let r = app
        .call(method, uri, Some(t.body(json!({ "active": active }))))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    r.body.clone()
}

/// Deactivated then re-activated by `deactivate`/`reactivate`, the old token
/// stays refused as invalidated; a fresh one works.
async fn old_token_stays_dead<F, Fut>(app: &TestApp, t: &Tenant, external_id: &str, toggle: F)
where
    F: Fn(bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (old, _) = token_for(app, t, external_id).await;
    assert_eq!(verify_status(app, t, &old).await.0, 200);
    toggle(false).await;
    toggle(false).await; // already inactive: no second bump needed, none harmful
    toggle(true).await;
    assert_eq!(
        verify_status(app, t, &old).await,
        (401, "Token has been invalidated".into()),
        "{external_id}: re-activation must not revive the old token"
    );
    let (fresh, _) = token_for(app, t, external_id).await;
    assert_eq!(verify_status(app, t, &fresh).await.0, 200, "{external_id}");
}

backend_tests! {
    async fn deactivation_ends_tokens_on_every_write_path(app) {
        let t = app.tenant("Acme").await;
        for (external_id, method) in [("by-put", Method::PUT), ("by-patch", Method::PATCH)] {
            let (_, id) = token_for(&app, &t, external_id).await;
            let uri = format!("{USERS}/{id}");
            old_token_stays_dead(&app, &t, external_id, |active| {
                let (app, t, uri, method) = (&app, &t, uri.clone(), method.clone());
                async move {
                    let user = set_active(app, t, method, &uri, active).await;
                    assert_eq!(user["active"], active);
                }
            })
            .await;
        }
        let uri = format!("{USERS}/by-external-id/by-upsert");
        old_token_stays_dead(&app, &t, "by-upsert", |active| {
            let (app, t, uri) = (&app, &t, uri.clone());
            async move {
                set_active(app, t, Method::PUT, &uri, active).await;
            }
        })
        .await;
        old_token_stays_dead(&app, &t, "by-bulk", |active| {
            let (app, t) = (&app, &t);
            async move {
                app.bulk_ok(t, json!([{ "external_id": "by-bulk", "active": active }])).await;
            }
        })
        .await;
        // A write that leaves an active user active ends nothing.
        let (token, id) = token_for(&app, &t, "stays-active").await;
        set_active(&app, &t, Method::PUT, &format!("{USERS}/{id}"), true).await;
        app.bulk_ok(&t, json!([{ "external_id": "stays-active", "name": "Ann", "active": true }])).await;
        assert_eq!(verify_status(&app, &t, &token).await.0, 200);
    }

    async fn another_companys_token_reveals_nothing_of_its_user(app) {
        let ours = app.tenant("Ours").await;
        let theirs = app.tenant("Theirs").await;
        let (token, id) = token_for(&app, &theirs, "u1").await;
        let other = (401, "Token does not belong to your company".to_owned());
        assert_eq!(verify_status(&app, &ours, &token).await, other);
        // Invalidated, then its user deactivated: still only "not yours".
        let r = app
            .post("/rest/v1/auth/invalidate-token", theirs.body(json!({ "customerUserId": id })))
            .await;
        r.assert_ok();
        assert_eq!(verify_status(&app, &ours, &token).await, other);
        set_active(&app, &theirs, Method::PUT, &format!("{USERS}/{id}"), false).await;
        assert_eq!(verify_status(&app, &ours, &token).await, other);
        // Its own company still hears the truth.
        assert_eq!(verify_status(&app, &theirs, &token).await.0, 401);
        assert_ne!(verify_status(&app, &theirs, &token).await, other);
    }

    async fn tokens_longer_than_the_maximum_lifetime_are_refused(app) {
        let t = app.tenant("Acme").await;
        let (token, _) = token_for(&app, &t, "u1").await;
        let max = app.state.config.max_token_ttl_secs;
        let mut claims = claims_of(&token);
        // Exactly the maximum is what the token route itself can issue.
        claims.exp = claims.iat + max;
        let longest = app.state.signer.sign(&claims);
        assert_eq!(verify_status(&app, &t, &longest).await.0, 200);
        claims.exp = claims.iat + max + 1;
        let too_long = app.state.signer.sign(&claims);
        let refused = (401, "Token lifetime exceeds the maximum".to_owned());
        assert_eq!(verify_status(&app, &t, &too_long).await, refused);
        claims.exp = claims.iat + 1_000_000_000;
        let forged = app.state.signer.sign(&claims);
        assert_eq!(verify_status(&app, &t, &forged).await, refused);
        // The chat routes run the same check.
        let r = app
            .send(
                axum::http::Request::get("/rest/v1/chat/session")
                    .header("authorization", format!("Bearer {forged}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.assert_error(401), "Token lifetime exceeds the maximum");
    }

    async fn a_token_answer_is_not_cacheable(app) {
        let t = app.tenant("Acme").await;
        let r = app
            .post("/rest/v1/auth/token", t.body(json!({ "userId": "u1", "agentId": t.agent })))
            .await;
        r.assert_ok();
        assert_eq!(r.headers["cache-control"], "no-store");
        // Answers without a secret keep the default.
        let r = app.post(VERIFY, t.body(json!({ "token": "x" }))).await;
        assert!(r.headers.get("cache-control").is_none());
    }
}
