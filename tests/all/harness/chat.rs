//! Helpers for the chat tests: agents pointed at the fake model, chat tokens,
//! bearer requests and SSE bodies read back as events.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value};

use crate::harness::{Reply, Tenant, TestApp};
use performchat::domain::{now_ms, Field};
use performchat::store::{AgentChanges, TenantStore};

/// A new agent of `t` whose model is the fake's `mode`.
pub async fn model_agent(
    app: &TestApp,
    t: &Tenant,
    url: &str,
    mode: &str,
    template: &str,
) -> String {
    let agent = app
        .store
        .create_agent(
            &t.company,
            &format!("Agent {mode}"),
            Some(template),
            true,
            now_ms(),
        )
        .await
        .unwrap();
    let changes = AgentChanges {
        llm_url: Field::Set(url.to_owned()),
        llm_model: Field::Set(mode.to_owned()),
        ..AgentChanges::default()
    };
    app.store
        .update_agent(&t.company, &agent.id, &changes, now_ms())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// One end user ready to chat: a tenant named Acme, its agent on the model
/// at `url` answering in `mode`, the user's chat token and a new conversation.
pub struct Scene {
    pub t: Tenant,
    pub agent: String,
    pub token: String,
    pub user: String,
    pub conv: String,
}

pub async fn scene(
    app: &TestApp,
    url: &str,
    mode: &str,
    template: &str,
    user_id: &str,
    conversation: Value,
) -> Scene {
    let t = app.tenant("Acme").await;
    let agent = model_agent(app, &t, url, mode, template).await;
    let (token, user) = chat_token(app, &t, &agent, user_id).await;
    let conv = new_conversation(app, &token, conversation).await;
    Scene {
        t,
        agent,
        token,
        user,
        conv,
    }
}

/// A chat token for `user_id` on `agent`; returns (token, customer user id).
pub async fn chat_token(app: &TestApp, t: &Tenant, agent: &str, user_id: &str) -> (String, String) {
    let r = app
        .post(
            "/rest/v1/auth/token",
            t.body(json!({ "userId": user_id, "agentId": agent })),
        )
        .await;
    let body = r.assert_ok();
    (
        body["token"].as_str().unwrap().to_owned(),
        body["customerUser"]["id"].as_str().unwrap().to_owned(),
    )
}

/// A request carrying `Authorization: Bearer <token>`.
pub fn bearer(
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Value>,
    sse: bool,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if sse {
        req = req.header("accept", "text/event-stream");
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).unwrap()
}

pub async fn chat_get(app: &TestApp, token: &str, uri: &str) -> Reply {
    app.send(bearer(Method::GET, uri, token, None, false)).await
}

pub async fn chat_post(app: &TestApp, token: &str, uri: &str, body: Value) -> Reply {
    app.send(bearer(Method::POST, uri, token, Some(body), false))
        .await
}

/// Creates a conversation; returns its id.
pub async fn new_conversation(app: &TestApp, token: &str, body: Value) -> String {
    let r = chat_post(app, token, "/rest/v1/chat/conversations", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

pub fn messages_uri(conv: &str) -> String {
    format!("/rest/v1/chat/conversations/{conv}/messages")
}

/// Posts `content` as JSON (no SSE).
pub async fn say(app: &TestApp, token: &str, conv: &str, content: &str) -> Reply {
    chat_post(
        app,
        token,
        &messages_uri(conv),
        json!({ "content": content }),
    )
    .await
}

/// Posts `content` asking for SSE; returns the status and the events in order.
pub async fn say_sse(
    app: &TestApp,
    token: &str,
    conv: &str,
    content: &str,
) -> (u16, Vec<(String, Value)>) {
    let req = bearer(
        Method::POST,
        &messages_uri(conv),
        token,
        Some(json!({ "content": content })),
        true,
    );
    let r = app.send(req).await;
    (r.status.as_u16(), parse_sse(&r.text))
}

/// Splits an SSE body into (event, JSON data) pairs; comments are skipped.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    let mut parser = performchat::llm::sse::SseParser::new();
    let mut events = parser.feed(text.as_bytes());
    events.extend(parser.finish());
    events
        .into_iter()
        .map(|e| {
            let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
            (e.event.unwrap_or_else(|| "message".into()), data)
        })
        .collect()
}

/// The conversation's messages through the chat API, as (role, content).
pub async fn history(app: &TestApp, token: &str, conv: &str) -> Vec<(String, String)> {
    let r = chat_get(app, token, &messages_uri(conv)).await;
    r.assert_ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
