//! JSON bodies are read whatever their `Content-Type` says, or without one:
//! the docs' own clients do not always send it, and no route takes another
//! body format, so refusing them would only break copied examples.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value};

use common::{Reply, TestApp};

/// `body` as JSON text, with the given `Content-Type` (none when `None`).
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: Value,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(value) = content_type {
        req = req.header("content-type", value);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

const TYPES: [Option<&str>; 3] = [
    None,
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
];

backend_tests! {
    async fn api_key_routes_read_json_with_any_content_type(app) {
        let t = app.tenant("Acme").await;
        for (n, content_type) in TYPES.into_iter().enumerate() {
            let user = format!("user_{n}");
            let body = t.body(json!({ "userId": user, "agentId": t.agent }));
            let r = send(&app, Method::POST, "/rest/v1/auth/token", content_type, &[], body).await;
            assert_eq!(r.assert_ok()["customerUser"]["externalId"], json!(user), "{content_type:?}");
            // A GET body's filter, as the docs' clients send it, is applied too.
            let body = t.body(json!({ "external_id": user }));
            let r = send(&app, Method::GET, "/rest/v1/customer-users", content_type, &[], body).await;
            let listed = r.assert_ok();
            assert_eq!(listed["pagination"]["total"], json!(1), "{content_type:?}: {listed}");
            assert_eq!(listed["data"][0]["external_id"], json!(user));
        }
        // What is not JSON is refused as such, whatever the header claims.
        let mut req = Request::post("/rest/v1/auth/token").header("content-type", "application/json");
        req = req.header("authorization", format!("Basic {}", base64_pair(&t.key)));
        let r = app.send(req.body(Body::from("userId=u&agentId=a")).unwrap()).await;
        assert!(r.assert_error(400).starts_with("Malformed JSON body"), "{}", r.text);
    }

    async fn chat_routes_read_json_without_a_content_type(app) {
        let t = app.tenant("Acme").await;
        let token = app.token(&t, "user_1").await["token"].as_str().unwrap().to_owned();
        let bearer = format!("Bearer {token}");
        let auth = [("authorization", bearer.as_str())];
        let r = send(&app, Method::POST, "/rest/v1/chat/conversations", None, &auth, json!({ "title": "Plain" })).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["title"], json!("Plain"));
    }
}

fn base64_pair(key: &(String, String)) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", key.0, key.1))
}
