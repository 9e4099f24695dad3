//! Knowledge in replies: the token's `perm` claim, excerpts in the system
//! message only with `rag:access`, follow-ups searched with the previous
//! question, and `sources` on assistant messages wherever they are shown.

#[path = "support/chat.rs"]
mod chat;
mod common;
#[path = "support/fake_model.rs"]
mod fake_model;
#[path = "support/knowledge.rs"]
mod knowledge;

use base64::Engine;
use serde_json::{json, Value};

use chat::*;
use common::{Tenant, TestApp};
use fake_model::FakeModel;
use knowledge::*;

const EXCERPT: &str = "five to seven working days";

/// A tenant with one help document and an echo agent on `model`.
async fn help_desk(app: &TestApp, model: &FakeModel) -> (Tenant, String, Value) {
    let t = app.tenant("Acme").await;
    let doc = add_doc(app, &t, json!({
        "title": "Refund timing", "url": "https://help.example/refunds", "content_type": "text/markdown",
        "content": "# Refund timing\n\n## Card payments\n\nRefunds to a card take five to seven working days.\n\n## Store credit\n\nStore credit is added within one hour.",
    })).await;
    let agent = model_agent(app, &t, &model.url, "echo", "You help.").await;
    (t, agent, doc)
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn system(model: &FakeModel) -> String {
    let messages = model.last_messages();
    assert_eq!(messages[0].0, "system");
    messages[0].1.clone()
}

/// A token for `user` on `agent` minted by `key`.
async fn token_with(app: &TestApp, key: &(String, String), agent: &str, user: &str) -> String {
    let r = app
        .post(
            "/rest/v1/auth/token",
            common::with_creds(key, json!({"userId": user, "agentId": agent})),
        )
        .await;
    r.assert_ok()["token"].as_str().unwrap().to_owned()
}

backend_tests! {
    async fn tokens_carry_the_chat_permissions_their_key_held(app) {
        let t = app.tenant("Acme").await;
        assert_eq!(claims(&token_with(&app, &t.key, &t.agent, "u1").await)["perm"], json!(["rag:access", "tools:use"]));
        let rag = app.key(&t.company, Some("chat:send,rag:access"), None).await;
        assert_eq!(claims(&token_with(&app, &rag, &t.agent, "u1").await)["perm"], json!(["rag:access"]));
        let bare = app.key(&t.company, Some("chat:send"), None).await;
        assert_eq!(claims(&token_with(&app, &bare, &t.agent, "u1").await)["perm"], json!([]));
    }

    async fn with_rag_access_a_reply_gets_excerpts_and_cites_its_sources(app) {
        let model = FakeModel::start().await;
        let (t, agent, doc) = help_desk(&app, &model).await;
        let (token, _) = chat_token(&app, &t, &agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "How long do refunds to my card take?").await;
        assert_eq!(r.status, 201, "{}", r.text);
        let want = json!([{"document_id": doc["id"], "title": "Refund timing",
                           "url": "https://help.example/refunds", "heading": "Refund timing › Card payments"}]);
        assert_eq!(r.body["assistantMessage"]["sources"], want);
        assert!(r.body["userMessage"].get("sources").is_none(), "user messages cite nothing");
        let sys = system(&model);
        assert!(sys.starts_with("You help.\n\n"), "{sys}");
        assert!(sys.contains("[1] Refund timing (Refund timing › Card payments)") && sys.contains(EXCERPT), "{sys}");
        assert!(sys.contains("say that you could not find it"), "{sys}");

        let chat = chat_get(&app, &token, &messages_uri(&conv)).await;
        assert_eq!(chat.assert_ok()["data"][1]["sources"], want);
        let company = app.get(&format!("/rest/v1/conversations/{conv}/messages"), t.creds()).await;
        assert_eq!(company.assert_ok()["data"][1]["sources"], want);
        let (_, events) = say_sse(&app, &token, &conv, "Is store credit faster?").await;
        let (kind, last) = events.last().unwrap();
        assert_eq!(kind, "assistant_message");
        assert_eq!(last["sources"][0]["document_id"], doc["id"]);
    }

    async fn a_follow_up_is_searched_with_the_previous_question(app) {
        let model = FakeModel::start().await;
        let (t, agent, doc) = help_desk(&app, &model).await;
        let (token, _) = chat_token(&app, &t, &agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        say(&app, &token, &conv, "When will my card refund arrive?").await;
        let r = say(&app, &token, &conv, "And is that the same for a bank transfer?").await;
        assert_eq!(r.body["assistantMessage"]["sources"][0]["document_id"], doc["id"], "{}", r.text);
        assert!(system(&model).contains(EXCERPT));
        // A new conversation has no previous question: nothing matches.
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "And is that the same for a bank transfer?").await;
        assert_eq!(r.body["assistantMessage"]["sources"], json!([]));
    }

    async fn without_rag_access_or_documents_nothing_is_retrieved(app) {
        let model = FakeModel::start().await;
        let (t, agent, _) = help_desk(&app, &model).await;
        let bare = app.key(&t.company, Some("chat:send"), None).await;
        let token = token_with(&app, &bare, &agent, "u2").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "How long do refunds to my card take?").await;
        assert_eq!(r.body["assistantMessage"]["sources"], json!([]), "{}", r.text);
        assert_eq!(system(&model), "You help.");
        let company = app.get(&format!("/rest/v1/conversations/{conv}/messages"), t.creds()).await;
        assert_eq!(company.assert_ok()["data"][1]["sources"], json!([]));

        let empty = app.tenant("Empty").await;
        let agent = model_agent(&app, &empty, &model.url, "echo", "You help.").await;
        let (token, _) = chat_token(&app, &empty, &agent, "u3").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, "How long do refunds take?").await;
        assert_eq!(r.body["assistantMessage"]["sources"], json!([]));
        assert_eq!(system(&model), "You help.");
    }
}
