//! Webhook endpoints over the API: the secret shown only when made or
//! rotated, validation naming the field, the outbound address rule at
//! creation, permissions and tenancy.

use crate::harness;

use axum::http::Method;
use serde_json::{json, Value};

use harness::{with_creds, TestApp};
use performchat::app::Config;
use performchat::outbound::OutboundRule;

async fn allowing_loopback(backend: performchat::store::Backend) -> TestApp {
    let config = Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    };
    TestApp::with_config(backend, config).await
}

backend_tests! {
    async fn endpoints_are_made_listed_changed_rotated_and_deleted(app) {
        let app = allowing_loopback(app.db.backend()).await;
        let t = app.tenant("Acme").await;
        let r = app.post("/rest/v1/webhooks", t.body(json!({
            "url": "http://127.0.0.1:9/hook", "events": ["customer_user.created"], "description": "CRM"
        }))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.headers["cache-control"], "no-store");
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("whk_"));
        assert_eq!(r.body["active"], json!(true));
        assert_eq!(r.body["events"], json!(["customer_user.created"]));

        let one = app.get(&format!("/rest/v1/webhooks/{id}"), t.creds()).await;
        assert_eq!(one.assert_ok()["description"], json!("CRM"));
        assert!(!one.text.contains(&secret) && one.body.get("secret").is_none());
        let list = app.get("/rest/v1/webhooks", t.creds()).await;
        assert_eq!(list.assert_ok()["data"].as_array().unwrap().len(), 1);
        assert!(!list.text.contains(&secret));

        let patched = app.call(Method::PATCH, &format!("/rest/v1/webhooks/{id}"),
            Some(t.body(json!({ "events": ["*"], "description": null, "active": false })))).await;
        let patched = patched.assert_ok();
        assert_eq!((&patched["events"], &patched["description"], &patched["active"]),
            (&json!(["*"]), &Value::Null, &json!(false)));
        assert_eq!(patched["url"], json!("http://127.0.0.1:9/hook"));

        let rotated = app.post(&format!("/rest/v1/webhooks/{id}/rotate-secret"), t.creds()).await;
        let new = rotated.assert_ok()["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, secret);
        assert_eq!(rotated.headers["cache-control"], "no-store");

        let test = app.post(&format!("/rest/v1/webhooks/{id}/test"), t.creds()).await;
        assert_eq!(test.status, 202, "{}", test.text);
        assert_eq!(test.body["type"], json!("webhook.test"));
        let attempts = app.get(&format!("/rest/v1/webhooks/{id}/deliveries"), t.creds()).await;
        assert_eq!(attempts.assert_ok()["data"], json!([]));

        let gone = app.call(Method::DELETE, &format!("/rest/v1/webhooks/{id}"), Some(t.creds())).await;
        assert_eq!(gone.status, 204);
        app.get(&format!("/rest/v1/webhooks/{id}"), t.creds()).await.assert_error(404);
    }

    async fn bad_endpoints_are_refused_naming_the_field(app) {
        let t = app.tenant("Acme").await;
        for (body, field) in [
            (json!({ "url": "not a url", "events": ["*"] }), "url"),
            (json!({ "url": "ftp://93.184.216.34/", "events": ["*"] }), "url"),
            (json!({ "url": "http://93.184.216.34/", "events": ["*"] }), "url"),
            (json!({ "url": "https://127.0.0.1/", "events": ["*"] }), "url"),
            (json!({ "url": "https://localhost/", "events": ["*"] }), "url"),
            (json!({ "url": "https://[::ffff:127.0.0.1]/", "events": ["*"] }), "url"),
            (json!({ "url": "https://10.0.0.1/", "events": ["*"] }), "url"),
            (json!({ "url": "https://93.184.216.34/", "events": "customer_user.created" }), "events"),
            (json!({ "url": "https://93.184.216.34/", "events": [] }), "events"),
            (json!({ "url": "https://93.184.216.34/", "events": ["user.made"] }), "events"),
            (json!({ "url": "https://93.184.216.34/", "events": ["*"], "secret": "x" }), "secret"),
            (json!({ "events": ["*"] }), "url"),
        ] {
            let r = app.post("/rest/v1/webhooks", t.body(body.clone())).await;
            assert!(r.assert_error(400).contains(field), "{body}: {}", r.text);
        }
        let ok = app.post("/rest/v1/webhooks", t.body(json!({ "url": "https://93.184.216.34/h", "events": ["*"] }))).await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        let id = ok.body["id"].as_str().unwrap();
        let r = app.call(Method::PATCH, &format!("/rest/v1/webhooks/{id}"),
            Some(t.body(json!({ "url": "https://192.168.1.1/" })))).await;
        assert!(r.assert_error(400).contains("url"));
    }

    async fn webhooks_need_webhooks_write_and_stay_in_their_company(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let made = app.post("/rest/v1/webhooks", t.body(json!({ "url": "https://93.184.216.34/h", "events": ["*"] }))).await;
        let id = made.body["id"].as_str().unwrap().to_owned();
        let reader = app.key(&t.company, Some("events:read"), None).await;
        let r = app.get("/rest/v1/webhooks", with_creds(&reader, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        let missing = app.get("/rest/v1/webhooks/whk_nothing", other.creds()).await.assert_error(404).to_owned();
        for (method, path) in [
            (Method::GET, format!("/rest/v1/webhooks/{id}")),
            (Method::PATCH, format!("/rest/v1/webhooks/{id}")),
            (Method::DELETE, format!("/rest/v1/webhooks/{id}")),
            (Method::POST, format!("/rest/v1/webhooks/{id}/test")),
            (Method::POST, format!("/rest/v1/webhooks/{id}/rotate-secret")),
            (Method::GET, format!("/rest/v1/webhooks/{id}/deliveries")),
        ] {
            let r = app.call(method.clone(), &path, Some(other.creds())).await;
            assert_eq!(r.assert_error(404), missing, "{method} {path}");
        }
        let theirs = app.get("/rest/v1/webhooks", other.creds()).await;
        assert_eq!(theirs.assert_ok()["data"], json!([]));
        let mine = app.get(&format!("/rest/v1/webhooks/{id}"), t.creds()).await;
        assert_eq!(mine.assert_ok()["active"], json!(true));
    }
}
