//! PostgreSQL connections that die under the store (a restart, a failover,
//! an administrator's `pg_terminate_backend`) cost at most the request that
//! finds each one dead: a connection whose statement failed is closed, never
//! lent again, whether it is the pool's or one of the store's own for the
//! hot statements (the keyed lookup and the token write).

use crate::harness;

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

use harness::TestApp;
use performchat::store::Backend;

const OTHERS: &str =
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn requests_recover_once_the_database_drops_every_connection() {
    let app = TestApp::new(Backend::Postgres).await;
    let t = app.tenant("Acme").await;
    let agent = t.agent.clone();
    let lookup = || {
        app.get(
            "/rest/v1/customer-users",
            t.body(json!({ "external_id": "u1" })),
        )
    };
    let token = || {
        app.post(
            "/rest/v1/auth/token",
            t.body(json!({ "userId": "u1", "agentId": agent })),
        )
    };
    token().await.assert_ok();
    lookup().await.assert_ok();

    let mut admin = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    let killed: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(pg_terminate_backend(pid)) {OTHERS}"))
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert!(killed >= 1, "the store had connections open");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {OTHERS}"))
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} connections outlived pg_terminate_backend"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Each dead connection may fail the one request that finds it, with a
    // server error; then they are gone, and every request succeeds.
    let mut failed = 0;
    for _ in 0..=killed {
        let (l, k) = (lookup().await, token().await);
        for r in [&l, &k] {
            if r.status.is_server_error() {
                failed += 1;
            } else {
                r.assert_ok();
            }
        }
    }
    assert!(
        failed <= killed,
        "{failed} requests failed for {killed} dropped connections"
    );
    for _ in 0..10 {
        lookup().await.assert_ok();
        token().await.assert_ok();
    }
}
