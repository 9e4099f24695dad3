//! Agent tools in replies (docs/API.md §10): the model offered the agent's
//! active tools only with `tools:use`, its calls run against the company's
//! endpoint and given back, streamed as `tool_call` / `tool_result`, stored
//! as `tool` messages that the transcript, the history and the model's next
//! input show paired; failures as text, at most five rounds.

use crate::harness;
use crate::harness::chat;
use crate::harness::fake_model;
use crate::harness::tool_endpoint;

use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Value};

use chat::*;
use fake_model::FakeModel;
use harness::{with_creds, Tenant, TestApp};
use performchat::app::Config;
use performchat::outbound::OutboundRule;
use tool_endpoint::{Answer, ToolEndpoint};

/// The app as CI runs the conformance server: tool endpoints on loopback allowed.
async fn allowing_loopback(app: TestApp) -> TestApp {
    app.reconfigured(Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    })
    .await
}

fn query_schema() -> Value {
    json!({ "type": "object", "properties": { "query": { "type": "string" } }, "required": ["query"] })
}

/// A tool `name` on `agent` calling `url`; returns its id.
async fn add_tool(
    app: &TestApp,
    t: &Tenant,
    agent: &str,
    name: &str,
    url: &str,
    extra: Value,
) -> String {
    let mut body = json!({ "name": name, "description": format!("Looks {name} up."),
        "parameters": query_schema(), "url": url });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app
        .post(&format!("/rest/v1/agents/{agent}/tools"), t.body(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// One user chatting with an agent on the fake model's `mode`, with one tool
/// `lookup_order` at the endpoint's path `path`.
struct ToolScene {
    t: Tenant,
    agent: String,
    token: String,
    user: String,
    conv: String,
    tool: String,
}

async fn tool_scene(app: &TestApp, model: &FakeModel, mode: &str, url: &str) -> ToolScene {
    let t = app.tenant("Acme").await;
    let agent = model_agent(app, &t, &model.url, mode, "You help.").await;
    let tool = add_tool(app, &t, &agent, "lookup_order", url, json!({})).await;
    let (token, user) = chat_token(app, &t, &agent, "ann").await;
    let conv = new_conversation(app, &token, json!({})).await;
    ToolScene {
        t,
        agent,
        token,
        user,
        conv,
        tool,
    }
}

/// The company transcript (§6) of `conv`.
async fn transcript(app: &TestApp, t: &Tenant, conv: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/rest/v1/conversations/{conv}/messages"),
            t.creds(),
        )
        .await;
    r.assert_ok()["data"].as_array().unwrap().clone()
}

fn roles(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect()
}

backend_tests! {
    async fn a_call_streams_its_events_runs_signed_and_is_stored_paired(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        tools.answer("orders", Answer::ok(r#"{"order":"A-1","state":"shipped"}"#));
        let s = tool_scene(&app, &model, "tool", &tools.url("orders")).await;

        let (status, events) = say_sse(&app, &s.token, &s.conv, "Where is A-1?").await;
        assert_eq!(status, 200);
        let kinds: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        let at = |k: &str| kinds.iter().position(|e| *e == k).unwrap_or_else(|| panic!("no {k}: {kinds:?}"));
        assert_eq!(kinds[0], "user_message");
        assert!(at("tool_call") < at("tool_result") && at("tool_result") < at("delta"), "{kinds:?}");
        assert_eq!(*kinds.last().unwrap(), "assistant_message");
        let call = &events[at("tool_call")].1;
        assert_eq!(call["name"], "lookup_order");
        assert_eq!(call["arguments"], json!({ "query": "Where is A-1?" }), "arguments as an object");
        let id = call["id"].as_str().unwrap();
        let result = &events[at("tool_result")].1;
        assert_eq!(result, &json!({ "id": id, "name": "lookup_order", "status": "ok" }), "never the body");
        let reply = &events.last().unwrap().1;
        assert_eq!(reply["content"], r#"Tool said: {"order":"A-1","state":"shipped"}"#);

        // The endpoint got the documented body, signed, with the call's id.
        let got = tools.got("orders");
        assert_eq!(got.len(), 1);
        let body = &got[0].body;
        assert_eq!((&body["tool"], &body["arguments"], &body["call_id"]),
            (&json!("lookup_order"), &json!({ "query": "Where is A-1?" }), &json!(id)));
        assert_eq!((&body["conversation_id"], &body["agent_id"]), (&json!(s.conv), &json!(s.agent)));
        assert_eq!((&body["customer_user"]["id"], &body["customer_user"]["external_id"]), (&json!(s.user), &json!("ann")));
        assert_eq!(got[0].headers["webhook-id"], id);
        assert!(got[0].headers["webhook-signature"].starts_with("v1,"));

        // The model got the tools, then its call and the result in OpenAI's form.
        let sent = model.requests();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0]["tools"], json!([{ "type": "function", "function": {
            "name": "lookup_order", "description": "Looks lookup_order up.", "parameters": query_schema() } }]));
        let msgs = sent[1]["messages"].as_array().unwrap();
        let n = msgs.len();
        assert_eq!(msgs[n - 2]["role"], "assistant");
        assert_eq!(msgs[n - 2]["tool_calls"][0]["id"], json!(id));
        assert_eq!(msgs[n - 2]["tool_calls"][0]["function"]["arguments"], json!(r#"{"query":"Where is A-1?"}"#));
        assert_eq!((&msgs[n - 1]["role"], &msgs[n - 1]["tool_call_id"]), (&json!("tool"), &json!(id)));

        // Stored: the call and the result, in the transcript (§6) and the history (§8) alike.
        let company = transcript(&app, &s.t, &s.conv).await;
        assert_eq!(roles(&company), ["user", "tool", "tool", "assistant"]);
        assert_eq!(company[1]["tool_calls"], json!([{ "id": id, "name": "lookup_order",
            "arguments": { "query": "Where is A-1?" } }]));
        assert_eq!((&company[2]["tool_call_id"], &company[2]["status"], &company[2]["name"]),
            (&json!(id), &json!("ok"), &json!("lookup_order")));
        assert_eq!(company[2]["content"], r#"{"order":"A-1","state":"shipped"}"#);
        let own = chat_get(&app, &s.token, &messages_uri(&s.conv)).await;
        assert_eq!(own.assert_ok()["data"].as_array().unwrap(), &company);
        let conv = app.get(&format!("/rest/v1/conversations/{}", s.conv), s.t.creds()).await;
        assert_eq!(conv.assert_ok()["message_count"], 4);

        // The next question's input has the earlier call and result, paired.
        let r = say(&app, &s.token, &s.conv, "And B-2?").await;
        assert_eq!(r.status, 201, "{}", r.text);
        let next = &model.requests()[2]["messages"];
        let shape: Vec<(&str, bool)> = next.as_array().unwrap().iter()
            .map(|m| (m["role"].as_str().unwrap(), m.get("tool_calls").is_some() || m.get("tool_call_id").is_some()))
            .collect();
        assert_eq!(shape, [("system", false), ("user", false), ("assistant", true), ("tool", true),
            ("assistant", false), ("user", false)]);
    }

    async fn without_tools_use_or_active_tools_the_model_is_offered_none(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        let s = tool_scene(&app, &model, "tool", &tools.url("orders")).await;
        let key = app.key(&s.t.company, Some("chat:send,rag:access"), None).await;
        let r = app.post("/rest/v1/auth/token", with_creds(&key, json!({ "userId": "bo", "agentId": s.agent }))).await;
        let token = r.assert_ok()["token"].as_str().unwrap().to_owned();
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "Where is A-1?").await;
        assert_eq!(r.body["assistantMessage"]["content"], "You said: Where is A-1?", "{}", r.text);
        assert!(model.requests()[0].get("tools").is_none(), "{}", model.requests()[0]);

        let r = app.call(Method::PATCH, &format!("/rest/v1/tools/{}", s.tool), Some(s.t.body(json!({ "active": false })))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = say(&app, &s.token, &s.conv, "Where is B-2?").await;
        assert_eq!(r.body["assistantMessage"]["content"], "You said: Where is B-2?", "{}", r.text);
        assert!(model.requests()[1].get("tools").is_none(), "{}", model.requests()[1]);
        assert!(tools.got("orders").is_empty());
    }

    async fn failures_and_timeouts_go_to_the_model_as_text(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        tools.answer("broken", Answer { status: 500, body: "upstream exploded".into(), delay: Duration::ZERO });
        tools.answer("slow", Answer { status: 200, body: "late".into(), delay: Duration::from_secs(5) });
        let s = tool_scene(&app, &model, "tool", &tools.url("broken")).await;
        let r = say(&app, &s.token, &s.conv, "Where is A-1?").await;
        assert_eq!(r.status, 201, "{}", r.text);
        let reply = r.body["assistantMessage"]["content"].as_str().unwrap();
        assert!(reply.starts_with("Tool said: ") && reply.contains("500"), "{reply}");
        let company = transcript(&app, &s.t, &s.conv).await;
        assert_eq!(company[2]["status"], "error");

        let slow = add_tool(&app, &s.t, &s.agent, "a_slow_one", &tools.url("slow"), json!({ "timeout_ms": 200 })).await;
        let r = app.call(Method::PATCH, &format!("/rest/v1/tools/{}", s.tool), Some(s.t.body(json!({ "active": false })))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let started = std::time::Instant::now();
        let r = say(&app, &s.token, &s.conv, "And B-2?").await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(started.elapsed() < Duration::from_secs(4), "the tool's timeout should end the call");
        let reply = r.body["assistantMessage"]["content"].as_str().unwrap();
        assert!(reply.starts_with("Tool said: Error") && !reply.contains("late"), "{reply}");
        assert_eq!(tools.got("slow").len(), 1, "{slow}");
    }

    async fn at_most_five_rounds_then_an_answer_without_tools(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        let s = tool_scene(&app, &model, "toolloop", &tools.url("orders")).await;
        let (status, events) = say_sse(&app, &s.token, &s.conv, "Loop").await;
        assert_eq!(status, 200);
        let count = |k: &str| events.iter().filter(|(e, _)| e == k).count();
        assert_eq!((count("tool_call"), count("tool_result")), (5, 5));
        assert_eq!(events.last().unwrap().1["content"], "Done after 5 results");
        let sent = model.requests();
        let offered: Vec<bool> = sent.iter().map(|r| r.get("tools").is_some()).collect();
        assert_eq!(offered, [true, true, true, true, true, false]);
        assert_eq!(tools.got("orders").len(), 5);
        assert_eq!(roles(&transcript(&app, &s.t, &s.conv).await).len(), 1 + 10 + 1);
    }

    async fn calls_made_together_run_and_come_back_paired(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        tools.answer("orders", Answer::ok("A"));
        tools.answer("refunds", Answer::ok("B"));
        let s = tool_scene(&app, &model, "tooltwo", &tools.url("orders")).await;
        add_tool(&app, &s.t, &s.agent, "refund_status", &tools.url("refunds"), json!({})).await;
        let r = say(&app, &s.token, &s.conv, "Both").await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["assistantMessage"]["content"], "Tool said: A | B");
        let company = transcript(&app, &s.t, &s.conv).await;
        assert_eq!(roles(&company), ["user", "tool", "tool", "tool", "assistant"]);
        let ids: Vec<&Value> = company[1]["tool_calls"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
        assert_eq!(vec![&company[2]["tool_call_id"], &company[3]["tool_call_id"]], ids);
        assert_eq!(company[3]["name"], "refund_status");
        assert_eq!(tools.got("refunds")[0].body["arguments"], json!({ "query": "second" }));
    }

    async fn a_model_failing_after_a_call_fails_the_reply_and_keeps_the_call(app) {
        let app = allowing_loopback(app).await;
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        let s = tool_scene(&app, &model, "toolfail", &tools.url("orders")).await;
        let r = say(&app, &s.token, &s.conv, "Where is A-1?").await;
        r.assert_error(502);
        assert_eq!(roles(&transcript(&app, &s.t, &s.conv).await), ["user", "tool", "tool"]);
        // The lease is free again, and the failed reply's calls are not given to
        // the model: its question joins the next one, as after any failure.
        let r = say(&app, &s.token, &s.conv, "Hello?").await;
        r.assert_error(502);
        let sent = model.requests();
        let third: Vec<&str> = sent[2]["messages"].as_array().unwrap().iter()
            .map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(third, ["system", "user"]);
        assert_eq!(sent[2]["messages"][1]["content"], "Where is A-1?\n\nHello?");
    }

    async fn a_small_history_budget_drops_a_call_with_its_results(app) {
        let model = FakeModel::start().await;
        let tools = ToolEndpoint::start().await;
        let mut config = Config {
            outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
            ..Config::default()
        };
        config.chat.history.messages = 3;
        let app = app.reconfigured(config).await;
        let s = tool_scene(&app, &model, "tool", &tools.url("orders")).await;
        assert_eq!(say(&app, &s.token, &s.conv, "Where is A-1?").await.status, 201);
        assert_eq!(say(&app, &s.token, &s.conv, "Thanks").await.status, 201);
        // user, call, result, reply, user: the last three would split the pair.
        let input = &model.requests()[2]["messages"];
        let roles: Vec<&str> = input.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["system", "user"], "{input}");
    }
}
