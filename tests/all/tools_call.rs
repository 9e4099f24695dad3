//! One call of a tool (`tools::call`, docs/API.md §10) against a stand-in
//! tool endpoint on 127.0.0.1: the documented body signed with the tool's
//! secret(s) (checked by the official Standard Webhooks library too), and
//! every way a call goes wrong coming back as an error text: arguments that
//! are not JSON or break the schema, a timeout, a non-2xx answer, a redirect
//! (not followed), a refused address, an answer over 16 KiB (cut).

use crate::harness;
use crate::harness::receiver::Received;
use crate::webhook_delivery::official_verdict;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::app::Config;
use performchat::domain::{ActiveTool, CustomerUser};
use performchat::outbound::OutboundRule;
use performchat::signing::sign;
use performchat::store::{Store, ToolStore};
use performchat::tools::{call, ToolClient, ToolInvocation, ToolOutcome, ToolStatus};

/// A tool endpoint: records each request, answers by path.
#[derive(Clone)]
struct Endpoint {
    got: Arc<Mutex<Vec<Received>>>,
    base: String,
}

async fn answer(
    State(got): State<Arc<Mutex<Vec<Received>>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/').to_owned();
    got.lock().unwrap().push(Received {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    match path.as_str() {
        "big" => "x".repeat(20 * 1024).into_response(),
        "fail" => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
        "redirect" => (StatusCode::FOUND, [("location", "/target")], "").into_response(),
        "hang" => std::future::pending().await,
        _ => axum::Json(json!({ "order": "A-1", "state": "shipped" })).into_response(),
    }
}

impl Endpoint {
    async fn start() -> Endpoint {
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .fallback(axum::routing::post(answer))
            .with_state(Arc::clone(&got));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Endpoint { got, base }
    }

    fn got(&self, path: &str) -> Vec<Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.path == path).cloned().collect()
    }

    fn total(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn loopback() -> OutboundRule {
    OutboundRule::parse("127.0.0.0/8").unwrap()
}

fn strict_schema() -> Value {
    json!({ "type": "object", "properties": { "order_id": { "type": "integer" } },
            "required": ["order_id"], "additionalProperties": false })
}

/// A tool on the endpoint's `path`, made over the API and read back as the
/// chat reads it.
async fn tool(app: &TestApp, t: &Tenant, url: String, extra: Value) -> (ActiveTool, String) {
    let mut body = json!({ "name": "lookup_order", "description": "Looks orders up.",
        "parameters": strict_schema(), "url": url });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app
        .post(&format!("/rest/v1/agents/{}/tools", t.agent), t.body(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let tools = app.store.active_tools(&t.company, &t.agent).await.unwrap();
    let found = tools
        .into_iter()
        .find(|x| x.id == id)
        .expect("the tool is active");
    (found, r.body["secret"].as_str().unwrap().to_owned())
}

async fn user(app: &TestApp, t: &Tenant) -> CustomerUser {
    let r = app
        .put(
            "/rest/v1/customer-users/by-external-id/dana-7",
            t.body(json!({
        "name": "Dana Scully", "email": "dana@example.com", "metadata": { "plan": "gold" } })),
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    app.store.get_user(&t.company, id).await.unwrap().unwrap()
}

async fn run(
    client: &ToolClient,
    tool: &ActiveTool,
    u: &CustomerUser,
    call_id: &str,
    args: &str,
) -> ToolOutcome {
    call(
        client,
        tool,
        ToolInvocation {
            call_id,
            arguments: args,
            customer_user: u,
            conversation_id: "conv_1",
            agent_id: &tool.agent_id,
        },
    )
    .await
}

fn signed_by(secret: &str, r: &Received) -> bool {
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    let mine = sign(
        secret,
        "tsec_",
        &r.headers["webhook-id"],
        ts,
        r.body.as_bytes(),
    )
    .unwrap();
    r.headers["webhook-signature"].split(' ').any(|s| s == mine)
}

fn error_saying(outcome: &ToolOutcome, words: &[&str]) {
    assert_eq!(outcome.status, ToolStatus::Error, "{outcome:?}");
    for w in words {
        assert!(
            outcome.content.contains(w),
            "expected {w:?} in {:?}",
            outcome.content
        );
    }
}

backend_tests! {
    async fn the_tool_gets_the_documented_body_signed_with_its_secrets(app) {
        let app = TestApp::with_config(app.db.backend(), Config { outbound: loopback(), ..Config::default() }).await;
        let t = app.tenant("Acme").await;
        let ep = Endpoint::start().await;
        let client = ToolClient::new(loopback()).unwrap();
        let (tool, secret) = tool(&app, &t, format!("{}/ok", ep.base), json!({})).await;
        let u = user(&app, &t).await;
        let out = run(&client, &tool, &u, "call_abc", r#"{"order_id": 7}"#).await;
        assert_eq!(out.status, ToolStatus::Ok, "{out:?}");
        let answer: Value = serde_json::from_str(&out.content).unwrap();
        assert_eq!(answer, json!({ "order": "A-1", "state": "shipped" }));
        let got = ep.got("ok");
        assert_eq!(got.len(), 1);
        let r = &got[0];
        assert!(r.headers["content-type"].starts_with("application/json"));
        assert_eq!(r.headers["webhook-id"], "call_abc");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body, json!({ "tool": "lookup_order", "arguments": { "order_id": 7 }, "call_id": "call_abc",
            "customer_user": { "id": u.id, "external_id": "dana-7", "name": "Dana Scully",
                               "email": "dana@example.com", "metadata": { "plan": "gold" } },
            "conversation_id": "conv_1", "agent_id": t.agent }));
        assert!(signed_by(&secret, r));
        assert!(!signed_by(&performchat::signing::new_secret("tsec_"), r));

        // Rotated: both secrets sign for the day after.
        let rotated = app.post(&format!("/rest/v1/tools/{}/rotate-secret", tool.id), t.creds()).await;
        let new = rotated.assert_ok()["secret"].as_str().unwrap().to_owned();
        let tool = app.store.active_tools(&t.company, &t.agent).await.unwrap().remove(0);
        assert_eq!(run(&client, &tool, &u, "call_def", r#"{"order_id": 8}"#).await.status, ToolStatus::Ok);
        let second = ep.got("ok").pop().unwrap();
        assert_eq!(second.headers["webhook-signature"].split(' ').count(), 2);
        assert!(signed_by(&new, &second) && signed_by(&secret, &second));
        // The official library, given each secret's key (the base64 after `tsec_`).
        let (k1, k2) = (secret.trim_start_matches("tsec_"), new.trim_start_matches("tsec_"));
        if let Some(verdict) = official_verdict(&[(k1, r), (k1, &second), (k2, &second)]) {
            assert_eq!(verdict, "ok 3");
        }
    }

    async fn failures_come_back_as_error_texts(app) {
        let app = TestApp::with_config(app.db.backend(), Config { outbound: loopback(), ..Config::default() }).await;
        let t = app.tenant("Acme").await;
        let ep = Endpoint::start().await;
        let client = ToolClient::new(loopback()).unwrap();
        let u = user(&app, &t).await;
        let (strict, _) = tool(&app, &t, format!("{}/ok", ep.base), json!({})).await;
        for (args, words) in [
            (r#"{"order_id": "F-1"}"#, &["/order_id", "integer"][..]),
            (r#"{}"#, &["order_id"][..]),
            (r#"{"order_id": 1, "extra": true}"#, &["extra"][..]),
            ("not json", &["not valid JSON"][..]),
            ("[1, 2]", &["JSON object"][..]),
        ] {
            error_saying(&run(&client, &strict, &u, "c1", args).await, words);
        }
        assert_eq!(ep.total(), 0, "invalid arguments must not reach the tool");

        let open = json!({ "name": "fails", "parameters": { "type": "object" } });
        let (fails, _) = tool(&app, &t, format!("{}/fail", ep.base), open).await;
        error_saying(&run(&client, &fails, &u, "c2", "{}").await, &["500", "upstream exploded"]);

        let (slow, _) = tool(&app, &t, format!("{}/hang", ep.base), json!({ "name": "slow",
            "parameters": { "type": "object" }, "timeout_ms": 300 })).await;
        let started = Instant::now();
        error_saying(&run(&client, &slow, &u, "c3", "{}").await, &["300 ms"]);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

        let (moved, _) = tool(&app, &t, format!("{}/redirect", ep.base), json!({ "name": "moved",
            "parameters": { "type": "object" } })).await;
        error_saying(&run(&client, &moved, &u, "c4", "{}").await, &["302", "redirects are not followed"]);
        assert_eq!(ep.got("redirect").len(), 1);
        assert!(ep.got("target").is_empty(), "the redirect was followed");

        let (big, _) = tool(&app, &t, format!("{}/big", ep.base), json!({ "name": "big",
            "parameters": { "type": "object" } })).await;
        let out = run(&client, &big, &u, "c5", "").await;
        assert_eq!(out.status, ToolStatus::Ok);
        assert!(out.content.starts_with(&"x".repeat(16 * 1024)), "{}", out.content.len());
        assert!(!out.content.starts_with(&"x".repeat(16 * 1024 + 1)));
        assert!(out.content.ends_with("[cut: the tool's answer was longer than 16 KiB]"), "{}", &out.content[16384..]);
    }
}

/// Every spelling of loopback is refused without `--outbound-allow`, and
/// nothing reaches the endpoint; the same spellings do reach it when the
/// operator allows loopback (so the refusal is the rule's, not a typo's).
#[tokio::test]
async fn loopback_in_every_spelling_is_refused_by_default() {
    let ep = Endpoint::start().await;
    let port = ep.base.rsplit(':').next().unwrap().to_owned();
    let u = CustomerUser {
        id: "cu_1".into(),
        company_id: "co_1".into(),
        external_id: "x".into(),
        name: None,
        email: None,
        metadata: Default::default(),
        active: true,
        token_version: 0,
        created_at: 0,
        updated_at: 0,
        last_seen_at: None,
    };
    let tool = |host: &str| ActiveTool {
        id: "tool_1".into(),
        agent_id: "agent_1".into(),
        name: "lookup".into(),
        description: "d".into(),
        parameters: json!({ "type": "object" }),
        url: format!("http://{host}:{port}/ok"),
        timeout_ms: 2000,
        secrets: vec![performchat::signing::new_secret("tsec_")],
    };
    let hosts = [
        "127.1",
        "2130706433",
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "localhost",
        "127.0.0.1",
    ];
    let default = ToolClient::new(OutboundRule::default()).unwrap();
    for host in hosts {
        let out = run(&default, &tool(host), &u, "c", "{}").await;
        assert_eq!(out.status, ToolStatus::Error, "{host}: {out:?}");
        assert!(out.content.contains("address"), "{host}: {}", out.content);
    }
    assert_eq!(ep.total(), 0, "a refused address was connected to");
    let allowed = ToolClient::new(OutboundRule::parse("127.0.0.0/8,::1/128").unwrap()).unwrap();
    for host in hosts {
        let out = run(&allowed, &tool(host), &u, "c", "{}").await;
        assert_eq!(out.status, ToolStatus::Ok, "{host}: {out:?}");
    }
    assert_eq!(ep.total(), hosts.len());
}
