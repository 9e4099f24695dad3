//! A client that does not read its reply stream cannot grow the server's
//! memory: the queue towards it is bounded, it is dropped when it falls
//! behind (its stream ends without the reply's end event), and the reply
//! goes on to the end and is stored all the same.

use crate::harness::chat;
use crate::harness::fake_model;

use chat::{history, scene};
use fake_model::FakeModel;
use performchat::app::Config;
use performchat::chat::{post_message, Grants, ReplyEvent, REPLY_QUEUE};
use performchat::domain::MessageContent;
use performchat::llm::ModelLimits;
use performchat::store::{Store, TenantStore};
use serde_json::json;

backend_tests! {
    async fn a_client_that_does_not_read_is_dropped_and_the_reply_stored(app) {
        // A cap far above the queue, so the reply outgrows what may queue.
        let config = Config {
            model_limits: ModelLimits {
                max_reply_chars: 200_000,
                ..ModelLimits::default()
            },
            ..Config::default()
        };
        let app = app.reconfigured(config).await;
        let model = FakeModel::start().await;
        let s = scene(&app, &model.url, "flood", "Be brief.", "u1", json!({})).await;
        let user = app.store.get_user(&s.t.company, &s.user).await.unwrap().unwrap();
        let agent = app.store.get_agent(&s.t.company, &s.agent).await.unwrap().unwrap();
        let question = MessageContent::parse("everything, please".into()).unwrap();
        let started = post_message(&app.state.chat, &user, &agent, &s.conv, &question, Grants::default(), true)
            .await
            .unwrap();
        // Nobody reads `started.events` until the reply is stored.
        app.state.chat.replies.idle().await;
        let mut events = started.events;
        let (mut deltas, mut ended) = (0, false);
        while let Some(event) = events.recv().await {
            match event {
                ReplyEvent::Delta(_) => deltas += 1,
                ReplyEvent::ToolCall(_) | ReplyEvent::ToolResult(_) => {}
                ReplyEvent::Done(_) | ReplyEvent::Failed(_) => ended = true,
            }
        }
        assert!(deltas < REPLY_QUEUE, "{deltas} events were queued");
        assert!(!ended, "a dropped client hears no end");
        let stored = history(&app, &s.token, &s.conv).await;
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[1].1.chars().count(), 200_000, "the whole (capped) reply");
    }

    async fn a_client_that_reads_gets_every_piece(app) {
        let model = FakeModel::start().await;
        let s = scene(&app, &model.url, "flood", "Be brief.", "u1", json!({})).await;
        let user = app.store.get_user(&s.t.company, &s.user).await.unwrap().unwrap();
        let agent = app.store.get_agent(&s.t.company, &s.agent).await.unwrap().unwrap();
        let question = MessageContent::parse("go".into()).unwrap();
        let mut events = post_message(&app.state.chat, &user, &agent, &s.conv, &question, Grants::default(), true)
            .await
            .unwrap()
            .events;
        let mut text = String::new();
        let stored = loop {
            match events.recv().await.expect("an end event") {
                ReplyEvent::Delta(piece) => text.push_str(&piece),
                ReplyEvent::Done(reply) => break reply,
                ReplyEvent::Failed(e) => panic!("{e:?}"),
                other => panic!("no tools here: {other:?}"),
            }
        };
        assert_eq!(text, stored.content);
        assert_eq!(text.chars().count(), 32_000);
    }
}
