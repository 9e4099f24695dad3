//! Erasing a customer user (docs/API.md §12.1): 204 then 404, in the key's
//! company only, with `users:write`; their tokens, conversations and
//! messages gone at once; their earlier events (and webhook deliveries)
//! scrubbed to ids; counts right; a later token makes a new user; one
//! transaction; and on SQLite the text is not left in the file.

use crate::harness;
use crate::harness::chat;

use axum::http::Method;
use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::app::Config;
use performchat::domain::now_ms;
use performchat::outbound::OutboundRule;
use performchat::store::{Backend, DeliveryQueue};

/// A user of `t` who chatted once (a question and its reply), with a name,
/// an e-mail and metadata: (chat token, user id, conversation id).
async fn chatter(
    app: &TestApp,
    t: &Tenant,
    external_id: &str,
    said: &str,
) -> (String, String, String) {
    let (token, user) = chat::chat_token(app, t, &t.agent, external_id).await;
    let conv = chat::new_conversation(app, &token, json!({})).await;
    let r = chat::say(app, &token, &conv, said).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let put = app
        .put(
            &format!("/rest/v1/customer-users/{user}"),
            t.body(json!({ "name": "Pris Stratton", "email": "pris@example.com", "metadata": { "model": "nexus-6" } })),
        )
        .await;
    put.assert_ok();
    (token, user, conv)
}

async fn erase(app: &TestApp, t: &Tenant, user: &str) -> harness::Reply {
    app.call(
        Method::DELETE,
        &format!("/rest/v1/customer-users/{user}"),
        Some(t.creds()),
    )
    .await
}

/// Every event of the tenant, paging the feed.
async fn feed(app: &TestApp, t: &Tenant) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let r = app
            .get(&format!("/rest/v1/events?limit=100{after}"), t.creds())
            .await;
        let body = r.assert_ok().clone();
        let page = body["data"].as_array().unwrap().clone();
        if let Some(last) = page.last() {
            after = format!("&after={}", last["id"].as_str().unwrap());
        }
        out.extend(page);
        if body["has_more"] == json!(false) {
            return out;
        }
    }
}

/// One number from the database, behind the API's back.
async fn scalar(app: &TestApp, sql: &str, arg: &str) -> i64 {
    match app.db.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
            let n = sqlx::query_scalar(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
            let n = sqlx::query_scalar(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        }
    }
}

async fn verify(app: &TestApp, t: &Tenant, token: &str) -> harness::Reply {
    app.post(
        "/rest/v1/auth/verify-token",
        t.body(json!({ "token": token })),
    )
    .await
}

async fn stats(app: &TestApp, t: &Tenant) -> (Value, Value) {
    let r = app.get("/rest/v1/customer-users/stats", t.creds()).await;
    let s = r.assert_ok();
    (s["total"].clone(), s["active"].clone())
}

backend_tests! {
    async fn an_erased_user_answers_204_then_404_and_their_chats_and_tokens_are_gone(app) {
        let t = app.tenant("Tyrell").await;
        let (token, user, conv) = chatter(&app, &t, "pris", "Where is Roy?").await;
        let r = erase(&app, &t, &user).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert!(r.text.is_empty(), "204 has no body: {:?}", r.text);

        let uri = format!("/rest/v1/customer-users/{user}");
        assert_eq!(app.get(&uri, t.creds()).await.assert_error(404), "Customer user not found");
        assert_eq!(erase(&app, &t, &user).await.assert_error(404), "Customer user not found");
        let listed = app.get("/rest/v1/customer-users?external_id=pris", t.creds()).await;
        assert_eq!(listed.assert_ok()["pagination"]["total"], json!(0));

        app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await.assert_error(404);
        app.get(&format!("/rest/v1/conversations/{conv}/messages"), t.creds()).await.assert_error(404);
        let all = app.get("/rest/v1/conversations", t.creds()).await;
        assert_eq!(all.assert_ok()["data"], json!([]));
        let left = scalar(&app, "SELECT COUNT(*) FROM messages WHERE company_id = $1", &t.company).await;
        assert_eq!(left, 0, "the user's messages are deleted");
        let days = scalar(&app, "SELECT COUNT(*) FROM user_activity WHERE company_id = $1", &t.company).await;
        assert_eq!(days, 0, "the user's activity days are deleted");

        // The token is refused at once, by the API-key check and the chat API.
        assert_eq!(verify(&app, &t, &token).await.assert_error(401), "Customer user not found or inactive");
        chat::chat_get(&app, &token, "/rest/v1/chat/session").await.assert_error(401);
        chat::say(&app, &token, &conv, "Still there?").await.assert_error(401);

        // A new token for the same external id makes a new, empty user.
        let again = app.token(&t, "pris").await;
        let new = again["customerUser"]["id"].as_str().unwrap();
        assert_ne!(new, user);
        let fresh = app.get(&format!("/rest/v1/customer-users/{new}"), t.creds()).await;
        assert_eq!(fresh.assert_ok()["name"], Value::Null);
        assert_eq!(fresh.body["metadata"], json!({}));
    }

    async fn erasing_needs_users_write_and_stays_in_the_keys_company(app) {
        let t = app.tenant("Tyrell").await;
        let other = app.tenant("Wallace").await;
        let (token, user, conv) = chatter(&app, &t, "leon", "Tell me about my mother").await;
        let reader = app.key(&t.company, Some("users:read"), None).await;
        let r = app.call(Method::DELETE, &format!("/rest/v1/customer-users/{user}"),
            Some(json!({ "keyId": reader.0, "keySecret": reader.1 }))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        let foreign = erase(&app, &other, &user).await;
        let missing = erase(&app, &t, "cu_doesnotexist").await;
        assert_eq!(foreign.assert_error(404), missing.assert_error(404));
        // A NUL cannot name a stored user: 404, not a driver error.
        erase(&app, &t, "cu_%00x").await.assert_error(404);
        app.get(&format!("/rest/v1/customer-users/{user}"), t.creds()).await.assert_ok();
        app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await.assert_ok();
        verify(&app, &t, &token).await.assert_ok();
    }

    async fn erasure_keeps_the_deleted_event_and_scrubs_the_users_earlier_ones(app) {
        let t = app.tenant("Tyrell").await;
        let (_, keep, _) = chatter(&app, &t, "rachael", "Do you like our owl?").await;
        let (_, user, conv) = chatter(&app, &t, "zhora", "secret-question-zhora").await;
        let r = app.post("/rest/v1/auth/invalidate-token", t.body(json!({ "customerUserId": user }))).await;
        r.assert_ok();
        assert_eq!(erase(&app, &t, &user).await.status, 204);

        let events = feed(&app, &t).await;
        let text = serde_json::to_string(&events).unwrap();
        assert!(!text.contains("secret-question-zhora"), "the question is scrubbed: {text}");
        let mine: Vec<&Value> = events.iter().filter(|e| {
            let d = &e["data"];
            d["id"] == json!(user) || d["id"] == json!(conv) || d["erased"] == json!(true)
        }).collect();
        let kinds: Vec<&str> = mine.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["customer_user.created", "conversation.created", "message.created",
            "message.created", "customer_user.updated", "tokens.invalidated", "customer_user.deleted"]);
        for e in &mine[..mine.len() - 1] {
            let id = e["data"]["id"].as_str().unwrap();
            assert_eq!(e["data"], json!({ "id": id, "erased": true }), "{e}");
            let prefix = match e["type"].as_str().unwrap() {
                "conversation.created" => "conv_",
                "message.created" => "msg_",
                _ => "cu_",
            };
            assert!(id.starts_with(prefix), "{e}");
        }
        assert_eq!(mine[0]["data"]["id"], json!(user));
        assert_eq!(mine.last().unwrap()["data"], json!({ "id": user, "external_id": "zhora" }));
        // The other user's events are untouched.
        let kept: Vec<&Value> = events.iter().filter(|e| e["type"] == "customer_user.updated"
            && e["data"]["id"] == json!(keep)).collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["data"]["name"], json!("Pris Stratton"));
        assert!(text.contains("Do you like our owl?"));
    }

    async fn the_deliveries_made_of_the_users_events_are_scrubbed_too(app) {
        let config = Config { outbound: OutboundRule::parse("127.0.0.0/8").unwrap(), ..Config::default() };
        let app = TestApp::with_config(app.db.backend(), config).await;
        let t = app.tenant("Tyrell").await;
        let r = app.post("/rest/v1/webhooks", t.body(json!({ "url": "http://127.0.0.1:9/hook", "events": ["*"] }))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let (_, user, _) = chatter(&app, &t, "roy", "secret-tears-in-rain").await;
        app.store.fan_out(now_ms(), 1000, 1000).await.unwrap();
        let sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1 AND body LIKE '%secret-tears-in-rain%'";
        // The question, and the offline responder's reply quoting it.
        assert_eq!(scalar(&app, sql, &t.company).await, 2, "the deliveries hold the message before");
        assert_eq!(erase(&app, &t, &user).await.status, 204);
        assert_eq!(scalar(&app, sql, &t.company).await, 0, "no delivery holds the message after");
        for secret in ["Pris Stratton", "pris@example.com", "nexus-6"] {
            let sql = format!("SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1 AND body LIKE '%{secret}%'");
            assert_eq!(scalar(&app, &sql, &t.company).await, 0, "{secret}");
        }
        let erased = "SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1 AND body LIKE '%\"erased\":true%' \
                      AND body LIKE '%\"type\":\"message.created\"%'";
        assert_eq!(scalar(&app, erased, &t.company).await, 2, "type kept, data scrubbed");
        // The deleted event is fanned out like any other.
        app.store.fan_out(now_ms(), 1000, 1000).await.unwrap();
        let deleted = "SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1 AND body LIKE '%customer_user.deleted%'";
        assert_eq!(scalar(&app, deleted, &t.company).await, 1);
    }

    async fn an_erasure_racing_chat_messages_still_erases_everything(app) {
        let t = app.tenant("Tyrell").await;
        let (token, user) = chat::chat_token(&app, &t, &t.agent, "kowalski").await;
        let mut conversations = Vec::new();
        for _ in 0..4 {
            conversations.push(chat::new_conversation(&app, &token, json!({})).await);
        }
        // Messages into every conversation, and a new conversation, while
        // the erasure runs: each waits for it or finds its rows gone, none
        // makes the erasure trip over a row it added.
        let chats = conversations.iter().map(|conv| chat::say(&app, &token, conv, "racing"));
        let late = chat::chat_post(&app, &token, "/rest/v1/chat/conversations", json!({}));
        let (erased, _, _) = tokio::join!(erase(&app, &t, &user), futures::future::join_all(chats), late);
        assert_eq!(erased.status, 204, "{}", erased.text);
        for table in ["messages", "conversations", "customer_users"] {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE company_id = $1");
            assert_eq!(scalar(&app, &sql, &t.company).await, 0, "{table}");
        }
    }

    async fn the_kept_counts_follow_an_erasure(app) {
        let t = app.tenant("Tyrell").await;
        let (_, a, _) = chatter(&app, &t, "a", "hello").await;
        let b = app.token(&t, "b").await["customerUser"]["id"].as_str().unwrap().to_owned();
        app.token(&t, "c").await;
        let off = app.put(&format!("/rest/v1/customer-users/{b}"), t.body(json!({ "active": false }))).await;
        off.assert_ok();
        assert_eq!(stats(&app, &t).await, (json!(3), json!(2)));
        // A name search's total is remembered until the names change.
        let named = app.get("/rest/v1/customer-users?name=Pris", t.creds()).await;
        assert_eq!(named.assert_ok()["pagination"]["total"], json!(1));
        assert_eq!(erase(&app, &t, &a).await.status, 204);
        assert_eq!(stats(&app, &t).await, (json!(2), json!(1)));
        assert_eq!(erase(&app, &t, &b).await.status, 204);
        assert_eq!(stats(&app, &t).await, (json!(1), json!(1)));
        let named = app.get("/rest/v1/customer-users?name=Pris", t.creds()).await;
        assert_eq!(named.assert_ok()["pagination"]["total"], json!(0));
    }

    async fn a_failure_part_way_leaves_everything_as_it_was(app) {
        let t = app.tenant("Tyrell").await;
        let (token, user, conv) = chatter(&app, &t, "deckard", "secret-unicorn-dream").await;
        let before = feed(&app, &t).await;
        // The user row is deleted last: a failure there comes after the
        // messages, conversations and events have been changed in the
        // same transaction, which must then leave none of it changed.
        match app.db.backend() {
            Backend::Sqlite => app.db.execute("CREATE TRIGGER erase_fails BEFORE DELETE ON customer_users \
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END").await,
            Backend::Postgres => {
                app.db.execute("CREATE FUNCTION erase_fails() RETURNS trigger LANGUAGE plpgsql AS $$ \
                    BEGIN RAISE EXCEPTION 'injected failure'; END $$").await;
                app.db.execute("CREATE TRIGGER erase_fails BEFORE DELETE ON customer_users \
                    FOR EACH ROW EXECUTE FUNCTION erase_fails()").await;
            }
        }
        assert_eq!(erase(&app, &t, &user).await.status, 500);
        app.get(&format!("/rest/v1/customer-users/{user}"), t.creds()).await.assert_ok();
        app.get(&format!("/rest/v1/conversations/{conv}"), t.creds()).await.assert_ok();
        let messages = app.get(&format!("/rest/v1/conversations/{conv}/messages"), t.creds()).await;
        assert_eq!(messages.assert_ok()["data"].as_array().unwrap().len(), 2);
        assert_eq!(feed(&app, &t).await, before, "no event scrubbed, none written");
        verify(&app, &t, &token).await.assert_ok();
        assert_eq!(stats(&app, &t).await, (json!(1), json!(1)));

        app.db.execute(match app.db.backend() {
            Backend::Sqlite => "DROP TRIGGER erase_fails",
            Backend::Postgres => "DROP TRIGGER erase_fails ON customer_users",
        }).await;
        assert_eq!(erase(&app, &t, &user).await.status, 204);
    }
}

/// SQLite with `secure_delete`: once the WAL is checkpointed, neither the
/// database file nor its WAL holds the erased user's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erased_text_is_not_left_in_the_sqlite_file() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Tyrell").await;
    let question = "Zanzibar-erase-marker-7f3a";
    let meta = "Quixotic-meta-marker-91c2";
    let (token, user) = chat::chat_token(&app, &t, &t.agent, "gaff").await;
    let conv = chat::new_conversation(&app, &token, json!({ "title": "origami" })).await;
    let r = chat::say(&app, &token, &conv, question).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let put = app
        .put(
            &format!("/rest/v1/customer-users/{user}"),
            t.body(json!({ "metadata": { "note": meta } })),
        )
        .await;
    put.assert_ok();
    let path = std::path::PathBuf::from(app.db.url.trim_start_matches("sqlite://"));
    let wal = path.with_extension("db-wal");
    let holds = |marker: &str| {
        [&path, &wal].iter().any(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        })
    };
    assert!(
        holds(question) && holds(meta),
        "the markers are written before"
    );

    assert_eq!(erase(&app, &t, &user).await.status, 204);
    let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
    // TRUNCATE waits for readers; the server's are idle, so it completes
    // at once (busy = 0), but a reader may be mid-statement: retry briefly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&pool)
            .await
            .unwrap();
        if busy == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the checkpoint never completed"
        );
        tokio::task::yield_now().await;
    }
    pool.close().await;
    for marker in [question, meta, "origami"] {
        assert!(
            !holds(marker),
            "{marker} is still in {} or its WAL",
            path.display()
        );
    }
}
