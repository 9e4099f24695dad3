//! Starting a conversation is a chat write: it spends the customer user's
//! `chat` budget together with posting messages, answers with the RateLimit
//! headers, and over the budget gets 429 with `Retry-After` and creates
//! nothing. The limiter runs on a manual clock, so nothing refills meanwhile.

use crate::harness::chat;
use crate::harness::limits;

use chat::{chat_get, chat_post, chat_token, new_conversation, say};
use limits::{app_with_clock, header, number};
use performchat::limits::LimitsConfig;
use serde_json::json;

const CONVERSATIONS: &str = "/rest/v1/chat/conversations";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_conversations_spend_the_chat_budget() {
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
    for n in 1..=20u64 {
        let r = chat_post(&app, &token, CONVERSATIONS, json!({})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(number(&r, "ratelimit-remaining"), 20 - n);
        assert_eq!(header(&r, "ratelimit-policy"), Some("\"chat\";q=20;w=60"));
    }
    let refused = chat_post(&app, &token, CONVERSATIONS, json!({ "title": "x" })).await;
    refused.assert_error(429);
    assert_eq!(number(&refused, "retry-after"), 3);
    let listed = chat_get(&app, &token, &format!("{CONVERSATIONS}?limit=100")).await;
    assert_eq!(
        listed.assert_ok()["pagination"]["total"],
        20,
        "the refused creation stored nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_and_messages_share_one_budget() {
    let (app, _clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
    let conv = new_conversation(&app, &token, json!({})).await;
    for n in 1..=9 {
        new_conversation(&app, &token, json!({})).await;
        let r = say(&app, &token, &conv, &format!("question {n}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // 19 writes so far: one more of either kind fits, then neither does.
    assert_eq!(say(&app, &token, &conv, "last").await.status, 201);
    chat_post(&app, &token, CONVERSATIONS, json!({}))
        .await
        .assert_error(429);
    say(&app, &token, &conv, "too many").await.assert_error(429);

    // A title that is refused (400) spends nothing, like a refused message.
    let (other, _) = chat_token(&app, &t, &t.agent, "u2").await;
    chat_post(&app, &other, CONVERSATIONS, json!({ "title": "" }))
        .await
        .assert_error(400);
    let r = chat_post(&app, &other, CONVERSATIONS, json!({})).await;
    assert_eq!(number(&r, "ratelimit-remaining"), 19);
}
