//! The `chat` policy of docs/API.md §0.4 on the message route: 20 messages per
//! customer user, then 429 with `Retry-After` and nothing stored. The limiter
//! runs on a manual clock, so no bucket refills while the test runs.

#[path = "support/chat.rs"]
mod chat;
mod common;
#[path = "support/limits.rs"]
mod limits;

use std::time::Duration;

use chat::{chat_token, history, new_conversation, say};
use limits::{app_with_clock, header, number};
use performchat::limits::LimitsConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_21st_message_in_a_minute_is_refused_and_not_stored() {
    let (app, clock) = app_with_clock(LimitsConfig::default()).await;
    let t = app.tenant("Acme").await;
    let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
    let conv = new_conversation(&app, &token, json!({})).await;
    for n in 1..=20u64 {
        let r = say(&app, &token, &conv, &format!("question {n}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(number(&r, "ratelimit-remaining"), 20 - n);
        assert_eq!(header(&r, "ratelimit-policy"), Some("\"chat\";q=20;w=60"));
    }
    let refused = say(&app, &token, &conv, "one too many").await;
    refused.assert_error(429);
    assert_eq!(number(&refused, "retry-after"), 3, "one message every 3 s");
    let stored = history(&app, &token, &conv).await;
    assert_eq!(stored.len(), 40, "20 questions and 20 replies");
    assert!(stored.iter().all(|(_, text)| text != "one too many"));

    // Another customer user has a budget of their own.
    let (other, _) = chat_token(&app, &t, &t.agent, "u2").await;
    let theirs = new_conversation(&app, &other, json!({})).await;
    assert_eq!(say(&app, &other, &theirs, "hello").await.status, 201);

    // Reading is not limited by it; and the budget comes back with time.
    assert_eq!(history(&app, &token, &conv).await.len(), 40);
    clock.advance(Duration::from_secs(3));
    assert_eq!(say(&app, &token, &conv, "again").await.status, 201);
}
