//! The server caps a reply itself: a model that ignores `max_tokens` and
//! streams 4 MiB has its reply cut at the configured number of code points
//! (default 32 000), stored as it stands, and streamed to the client as
//! stored.

use crate::harness::chat;
use crate::harness::fake_model;

use chat::{history, say, say_sse, scene};
use fake_model::FakeModel;
use performchat::app::Config;
use performchat::llm::ModelLimits;
use serde_json::json;

backend_tests! {
    async fn a_flooding_model_is_cut_at_the_default_cap(app) {
        let model = FakeModel::start().await;
        let s = scene(&app, &model.url, "flood", "Be brief.", "u1", json!({})).await;
        let r = say(&app, &s.token, &s.conv, "tell me everything").await;
        assert_eq!(r.status, 201, "{:.300}", r.text);
        let reply = r.body["assistantMessage"]["content"].as_str().unwrap();
        assert_eq!(reply.chars().count(), 32_000);
        assert!(reply.starts_with("0123456789abcdef"));
        let stored = history(&app, &s.token, &s.conv).await;
        assert_eq!(stored[1].0, "assistant");
        assert_eq!(stored[1].1, reply, "stored as it was answered");
    }

    async fn the_cap_is_configurable_and_the_stream_matches_the_stored_reply(app) {
        let config = Config {
            model_limits: ModelLimits {
                max_reply_chars: 1500,
                ..ModelLimits::default()
            },
            ..Config::default()
        };
        let app = app.reconfigured(config).await;
        let model = FakeModel::start().await;
        let s = scene(&app, &model.url, "flood", "Be brief.", "u1", json!({})).await;
        let (status, events) = say_sse(&app, &s.token, &s.conv, "more").await;
        assert_eq!(status, 200);
        let streamed: String = events
            .iter()
            .filter(|(name, _)| name == "delta")
            .map(|(_, data)| data["content"].as_str().unwrap())
            .collect();
        let (last, stored) = events.last().unwrap();
        assert_eq!(last, "assistant_message", "{events:?}");
        let stored = stored["content"].as_str().unwrap();
        assert_eq!(stored.chars().count(), 1500);
        assert_eq!(streamed, stored, "the client saw what was stored, no more");
        // The model was asked once and the conversation is free again.
        assert_eq!(model.requests().len(), 1);
        assert_eq!(say(&app, &s.token, &s.conv, "again").await.status, 201);
    }
}
