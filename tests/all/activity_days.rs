//! The days a user was active (docs/API.md, "Daily stats"): token issue keeps
//! each user's latest day in `last_seen_at` and writes the day it moves away
//! from to `user_activity`, so every day a user had a token is counted, on
//! the write path each store takes: SQLite's group commit (a file), SQLite's
//! pool (in memory, no group writer) and PostgreSQL's single statement.

use chrono::{DateTime, NaiveDate};

use performchat::store::{ConnectOptions, SqlStore, Store, TenantStore, TokenUser, UserRecipes};

const DAY: i64 = 86_400_000;

/// Noon UTC of 2026-03-02 plus `days`.
fn at(days: i64) -> i64 {
    let base = NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    base + days * DAY
}

fn date(ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(ms).unwrap().date_naive()
}

/// Tokens for Ann on days 0, 0 (again), 2 and 3, Bob on day 3 (his first),
/// Cat on day 5 and then day 1 (a node whose clock is behind); then the
/// active users of days 0–5.
async fn tokens_over_days(store: &SqlStore) -> Vec<i64> {
    let company = store.create_company("Acme", at(0)).await.unwrap().id;
    let agent = store
        .create_agent(&company, "Support", None, true, at(0))
        .await
        .unwrap()
        .id;
    for (user, day) in [
        ("ann", 0),
        ("ann", 0),
        ("ann", 2),
        ("ann", 3),
        ("bob", 3),
        ("cat", 5),
        ("cat", 1),
    ] {
        let issued = store
            .user_for_token(&company, &agent, user, at(day) + 1000, None)
            .await
            .unwrap();
        assert!(matches!(issued, TokenUser::Issued { .. }), "{user} {day}");
    }
    // Another company's users count nowhere here.
    let other = store.create_company("Other", at(0)).await.unwrap().id;
    let other_agent = store
        .create_agent(&other, "Support", None, true, at(0))
        .await
        .unwrap()
        .id;
    store
        .user_for_token(&other, &other_agent, "ann", at(1), None)
        .await
        .unwrap();
    let days = store.daily_stats(&company, date(at(0)), 6).await.unwrap();
    assert_eq!(days[0].date, date(at(0)));
    days.iter().map(|d| d.active_users).collect()
}

/// Ann: 0, 2, 3; Bob: 3; Cat: 1 and 5 (kept when the token from behind
/// moved her `last_seen_at` back).
const EXPECTED: [i64; 6] = [1, 1, 1, 2, 0, 1];

backend_tests! {
    async fn every_day_a_token_was_issued_is_counted(app) {
        let store = app.db.store().await;
        assert_eq!(tokens_over_days(&store).await, EXPECTED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_store_counts_the_same_days() {
    // In memory there is no group writer: token issue takes the pool.
    let store = SqlStore::connect(
        "sqlite::memory:",
        &ConnectOptions {
            allow_in_memory: true,
            create: true,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(tokens_over_days(&store).await, EXPECTED);
}
