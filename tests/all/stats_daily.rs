//! `GET /rest/v1/stats/daily` (docs/API.md, "Daily stats"): zero-filled UTC
//! days, oldest first; users active (a token or a chat message), created,
//! conversations and messages per day; one company's figures only.

use crate::harness;

use chrono::{DateTime, Days, NaiveDate};
use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::domain::now_ms;

const DAY: i64 = 86_400_000;

fn today() -> NaiveDate {
    DateTime::from_timestamp_millis(now_ms())
        .unwrap()
        .date_naive()
}

/// Midnight UTC that starts today, in ms.
fn today_start() -> i64 {
    now_ms().div_euclid(DAY) * DAY
}

async fn daily(app: &TestApp, t: &Tenant, query: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/rest/v1/stats/daily{query}"), t.creds())
        .await;
    r.assert_ok()["data"].as_array().unwrap().clone()
}

fn day(date: NaiveDate, active: i64, new: i64, conversations: i64, messages: i64) -> Value {
    json!({ "date": date.to_string(), "active_users": active, "new_users": new,
            "conversations": conversations, "messages": messages })
}

async fn user(app: &TestApp, t: &Tenant, external_id: &str) -> String {
    let r = app
        .put(
            &format!("/rest/v1/customer-users/by-external-id/{external_id}"),
            t.creds(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

backend_tests! {
    async fn days_are_zero_filled_oldest_first(app) {
        let t = app.tenant("Acme").await;
        let data = daily(&app, &t, "?days=5").await;
        let today = today();
        let expected: Vec<Value> = (0..5u64)
            .rev()
            .map(|back| day(today.checked_sub_days(Days::new(back)).unwrap(), 0, 0, 0, 0))
            .collect();
        assert_eq!(data, expected);
        assert_eq!(daily(&app, &t, "").await.len(), 30);
        assert_eq!(daily(&app, &t, "?days=365").await.len(), 365);
        assert_eq!(daily(&app, &t, "?days=1").await, vec![day(today, 0, 0, 0, 0)]);
    }

    async fn tokens_make_users_active_once_a_day_per_company(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        app.token(&t, "ann").await;
        app.token(&t, "ann").await;
        app.token(&t, "bob").await;
        // Created without a token: new, but not active.
        user(&app, &t, "cat").await;
        let data = daily(&app, &t, "?days=2").await;
        assert_eq!(data[1], day(today(), 2, 3, 0, 0));
        assert_eq!(data[0]["active_users"], 0);
        // Another company's calls show nowhere else.
        assert_eq!(daily(&app, &other, "?days=2").await[1], day(today(), 0, 0, 0, 0));
        app.token(&other, "ann").await;
        assert_eq!(daily(&app, &t, "?days=2").await[1], day(today(), 2, 3, 0, 0));
        assert_eq!(daily(&app, &other, "?days=2").await[1], day(today(), 1, 1, 0, 0));
    }

    async fn utc_day_boundaries_split_the_counts(app) {
        let t = app.tenant("Acme").await;
        let start = today_start();
        let (late, early) = (start - 1, start);
        let ann = user(&app, &t, "ann").await;
        let bob = user(&app, &t, "bob").await;
        // Ann was created and seen in the last millisecond of yesterday, Bob
        // at the first of today.
        app.db.execute(&format!(
            "UPDATE customer_users SET created_at = {late}, last_seen_at = {late} WHERE id = '{ann}'"
        )).await;
        app.db.execute(&format!(
            "UPDATE customer_users SET created_at = {early} WHERE id = '{bob}'"
        )).await;
        // Bob's conversation began yesterday; his message in it, and the
        // agent's reply, are today's; only his own message makes him active.
        app.db.execute(&format!(
            "INSERT INTO conversations (company_id, id, customer_user_id, agent_id, title, \
             message_count, created_at, updated_at) VALUES ('{}', 'conv_1', '{bob}', '{}', NULL, 2, {late}, {early})",
            t.company, t.agent
        )).await;
        app.db.execute(&format!(
            "INSERT INTO messages (company_id, id, conversation_id, role, content, created_at) VALUES \
             ('{c}', 'msg_1', 'conv_1', 'user', 'hi', {early}), ('{c}', 'msg_2', 'conv_1', 'assistant', 'hello', {early})",
            c = t.company
        )).await;
        let today = today();
        let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
        let data = daily(&app, &t, "?days=3").await;
        assert_eq!(data[1], day(yesterday, 1, 1, 1, 0));
        assert_eq!(data[2], day(today, 1, 1, 0, 2));
        // A token today adds Ann to today without taking her from yesterday;
        // an assistant message alone made nobody active.
        app.token(&t, "ann").await;
        let data = daily(&app, &t, "?days=3").await;
        assert_eq!(data[1], day(yesterday, 1, 1, 1, 0));
        assert_eq!(data[2], day(today, 2, 1, 0, 2));
    }

    async fn days_is_strict_and_needs_users_read(app) {
        let t = app.tenant("Acme").await;
        for bad in ["0", "366", "abc", "-1", "1.5", ""] {
            let r = app.get(&format!("/rest/v1/stats/daily?days={bad}"), t.creds()).await;
            assert!(r.assert_error(400).contains("days"), "{bad}");
        }
        let r = app.get("/rest/v1/stats/daily?limit=5", t.creds()).await;
        assert!(r.assert_error(400).contains("limit"));
        let writer = app.key(&t.company, Some("users:write"), None).await;
        let r = app.get("/rest/v1/stats/daily", harness::with_creds(&writer, json!({}))).await;
        assert!(r.assert_error(401).contains("permission"));
    }
}
