//! The chat flow (docs/API.md §8) against a stand-in model: SSE order, what is
//! stored, what the model is sent, titles, one reply at a time, failures.

#[path = "support/chat.rs"]
mod chat;
mod common;
#[path = "support/fake_model.rs"]
mod fake_model;

use std::time::Duration;

use serde_json::json;

use chat::*;
use common::{Served, TestApp};
use fake_model::FakeModel;
use performchat::app::Config;
use performchat::chat::{ChatConfig, HistoryBudget};
use performchat::store::TenantStore;

const TEMPLATE: &str =
    "You help {{customer_user.name}}/{{customer_user.external_id}} for {{agent.name}} on {{date}}.";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

backend_tests! {
    async fn sse_events_come_in_order_and_the_stored_history_equals_the_stream(app) {
        let model = FakeModel::start().await;
        let Scene { t, agent, token, user, conv } =
            scene(&app, &model.url, "echo", TEMPLATE, "u1", json!({})).await;

        let (status, events) = say_sse(&app, &token, &conv, "hello   there\n friend").await;
        assert_eq!(status, 200);
        let kinds: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(kinds.first(), Some(&"user_message"), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"assistant_message"), "{kinds:?}");
        assert!(kinds[1..kinds.len() - 1].iter().all(|k| *k == "delta") && kinds.len() > 3, "{kinds:?}");
        let streamed: String = events.iter().filter(|(e, _)| e == "delta")
            .map(|(_, d)| d["content"].as_str().unwrap()).collect();
        let (question, reply) = (&events[0].1, &events.last().unwrap().1);
        assert_eq!(reply["content"], json!(streamed));
        assert_eq!(streamed, "You said: hello   there\n friend");

        let r = chat_get(&app, &token, &messages_uri(&conv)).await;
        let stored = r.assert_ok()["data"].as_array().unwrap().clone();
        assert_eq!(stored, vec![question.clone(), reply.clone()], "stored history equals what was streamed");
        assert_eq!(stored[0]["role"], "user");
        assert_eq!(stored[1]["role"], "assistant");

        let company = app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await;
        let c = company.assert_ok();
        assert_eq!(c["message_count"], 2);
        assert_eq!(c["title"], "hello there friend");
        assert_eq!(c["customer_user_id"], json!(user));
        assert_eq!(c["agent_id"], json!(agent));
    }

    async fn the_model_gets_the_expanded_template_then_the_history_within_budget(app) {
        let config = Config {
            chat: ChatConfig { history: HistoryBudget { messages: 3, chars: 24_000 }, ..ChatConfig::default() },
            ..Config::default()
        };
        let app = TestApp::with_config(app.db.backend(), config).await;
        let model = FakeModel::start().await;
        let Scene { t, token, conv, .. } =
            scene(&app, &model.url, "echo", TEMPLATE, "ext-{{date}}", json!({ "title": "Billing" })).await;
        for q in ["one", "two", "three"] {
            assert_eq!(say(&app, &token, &conv, q).await.status, 201);
        }
        let sent = model.last_messages();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        // The name is null (empty), inserted text is not expanded again.
        let system = format!("You help /ext-{{{{date}}}} for Agent echo on {today}.");
        assert_eq!(sent, pairs(&[
            ("system", &system),
            ("user", "two"), ("assistant", "You said: two"), ("user", "three"),
        ]));
        let request = model.requests().pop().unwrap();
        assert_eq!(request["stream"], json!(true));
        assert_eq!(request["model"], json!("echo"));
        assert!(request["max_tokens"].as_u64().is_some_and(|n| n > 0));
        let c = app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await;
        assert_eq!(c.body["title"], "Billing", "an explicit title is kept");
        assert_eq!(c.body["message_count"], 6);
    }

    async fn titles_come_from_the_first_message_only(app) {
        let model = FakeModel::start().await;
        let Scene { t, token, conv, .. } =
            scene(&app, &model.url, "echo", "Hi", "u1", json!({})).await;
        let created = app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await;
        assert_eq!(created.body["title"], json!(null));
        let words = "Why was my invoice for the enterprise plan charged twice this month although I cancelled";
        assert_eq!(say(&app, &token, &conv, words).await.status, 201);
        assert_eq!(say(&app, &token, &conv, "another question").await.status, 201);
        let c = app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await;
        assert_eq!(c.body["title"], "Why was my invoice for the enterprise plan charged twice…");
    }

    async fn a_second_reply_while_one_is_generating_is_409_and_stores_nothing(app) {
        let model = FakeModel::start().await;
        let Scene { token, conv, .. } =
            scene(&app, &model.url, "gated", "Hi", "u1", json!({})).await;
        let first = {
            let (router, token, conv) = (app.router.clone(), token.clone(), conv.clone());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = bearer(axum::http::Method::POST, &messages_uri(&conv), &token, Some(json!({ "content": "one" })), false);
                router.oneshot(req).await.unwrap().status()
            })
        };
        model.wait_for_requests(1).await;
        let second = say(&app, &token, &conv, "two").await;
        assert_eq!(second.assert_error(409), "A reply is already being generated");
        model.release();
        assert_eq!(first.await.unwrap(), 201);
        assert_eq!(history(&app, &token, &conv).await, pairs(&[("user", "one"), ("assistant", "Hello world")]));
        // The lease is released with the reply: the next question goes through.
        model.release();
        assert_eq!(say(&app, &token, &conv, "three").await.status, 201);
    }

    async fn a_reply_is_stored_after_the_client_disconnects(app) {
        let model = FakeModel::start().await;
        let Scene { token, conv, .. } =
            scene(&app, &model.url, "gated", "Hi", "u1", json!({})).await;
        let served = app.serve().await;
        leave_after_the_first_delta(&served, &token, &conv, "take your time").await;
        model.release();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let h = history(&app, &token, &conv).await;
            if h.len() == 2 {
                assert_eq!(h, pairs(&[("user", "take your time"), ("assistant", "Hello world")]));
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the reply was never stored: {h:?}");
            tokio::task::yield_now().await;
        }
    }

    async fn a_graceful_shutdown_waits_for_replies_whose_clients_left(app) {
        let model = FakeModel::start().await;
        let Scene { token, conv, .. } =
            scene(&app, &model.url, "gated", "Hi", "u1", json!({})).await;
        let served = app.serve().await;
        leave_after_the_first_delta(&served, &token, &conv, "still there?").await;
        let mut stopping = tokio::spawn(served.shutdown());
        // Pending for as long as the reply is held back: this cannot pass early.
        let early = tokio::time::timeout(Duration::from_millis(200), &mut stopping).await;
        assert!(early.is_err(), "shutdown finished while a reply was still being generated");
        model.release();
        stopping.await.unwrap().unwrap();
        assert_eq!(history(&app, &token, &conv).await, pairs(&[("user", "still there?"), ("assistant", "Hello world")]));
    }

    async fn a_failing_model_is_a_502_that_keeps_the_question(app) {
        let model = FakeModel::start().await;
        let Scene { t, token, conv, .. } =
            scene(&app, &model.url, "fail", "Hi", "u1", json!({})).await;
        let r = say(&app, &token, &conv, "are you there?").await;
        assert_eq!(r.assert_error(502), "Language model unavailable");
        let (status, events) = say_sse(&app, &token, &conv, "still there?").await;
        assert_eq!(status, 200);
        let kinds: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(kinds, ["user_message", "error"]);
        assert_eq!(events[1].1["statusCode"], 502);
        assert_eq!(events[1].1["message"], "Language model unavailable");
        assert_eq!(history(&app, &token, &conv).await, pairs(&[("user", "are you there?"), ("user", "still there?")]));

        // Unanswered questions reach the next model as one user turn.
        let echo = model_agent(&app, &t, &model.url, "echo", "Hi").await;
        let (token, _) = chat_token(&app, &t, &echo, "u2").await;
        for (mode, expected) in [("broken", 502), ("empty", 502), ("nodone", 201)] {
            let agent = model_agent(&app, &t, &model.url, mode, "Hi").await;
            let (tok, _) = chat_token(&app, &t, &agent, &format!("u-{mode}")).await;
            let c = new_conversation(&app, &tok, json!({})).await;
            assert_eq!(say(&app, &tok, &c, "hi").await.status, expected, "{mode}");
        }
        let dead = model_agent(&app, &t, "http://127.0.0.1:9/v1", "echo", "Hi").await;
        let (tok, _) = chat_token(&app, &t, &dead, "u-dead").await;
        let c = new_conversation(&app, &tok, json!({})).await;
        assert_eq!(say(&app, &tok, &c, "anyone?").await.assert_error(502), "Language model unavailable");

        let c = new_conversation(&app, &token, json!({})).await;
        assert_eq!(say(&app, &token, &c, "first").await.status, 201);
        let broken = performchat::store::AgentChanges {
            llm_model: performchat::domain::Field::Set("fail".into()),
            ..Default::default()
        };
        app.store.update_agent(&t.company, &echo, &broken, 0).await.unwrap();
        assert_eq!(say(&app, &token, &c, "lost").await.status, 502);
        let fixed = performchat::store::AgentChanges {
            llm_model: performchat::domain::Field::Set("echo".into()),
            ..Default::default()
        };
        app.store.update_agent(&t.company, &echo, &fixed, 0).await.unwrap();
        assert_eq!(say(&app, &token, &c, "again").await.status, 201);
        assert_eq!(model.last_messages(), pairs(&[
            ("system", "Hi"), ("user", "first"), ("assistant", "You said: first"), ("user", "lost\n\nagain"),
        ]));
    }

    async fn without_a_model_the_offline_responder_answers(app) {
        let t = app.tenant("Acme").await;
        let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "hello?").await;
        assert_eq!(r.status, 201, "{}", r.text);
        let reply = r.body["assistantMessage"]["content"].as_str().unwrap();
        assert!(reply.contains("No language model is configured"), "{reply}");
        assert_eq!(r.body["userMessage"]["content"], "hello?");
    }

    async fn message_count_stays_exact_under_concurrent_posts(app) {
        let model = FakeModel::start().await;
        let Scene { t, token, conv, .. } =
            scene(&app, &model.url, "echo", "Hi", "u1", json!({})).await;
        let posts = (0..8).map(|i| {
            let (router, token, conv) = (app.router.clone(), token.clone(), conv.clone());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = bearer(axum::http::Method::POST, &messages_uri(&conv), &token, Some(json!({ "content": format!("q{i}") })), false);
                router.oneshot(req).await.unwrap().status().as_u16()
            })
        });
        let mut codes = Vec::new();
        for p in posts.collect::<Vec<_>>() {
            codes.push(p.await.unwrap());
        }
        assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
        let ok = codes.iter().filter(|c| **c == 201).count();
        assert!(ok >= 1);
        let h = history(&app, &token, &conv).await;
        assert_eq!(h.len(), ok * 2, "{h:?}");
        let c = app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await;
        assert_eq!(c.body["message_count"], json!(ok * 2));
    }
}

/// Posts `content` asking for SSE over a real socket, reads until the first
/// delta, then leaves (drops the connection) while the reply is generating.
async fn leave_after_the_first_delta(served: &Served, token: &str, conv: &str, content: &str) {
    let mut res = reqwest::Client::new()
        .post(served.url(&messages_uri(conv)))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .json(&json!({ "content": content }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: delta") {
        let chunk = res.chunk().await.unwrap().expect("more events");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}
