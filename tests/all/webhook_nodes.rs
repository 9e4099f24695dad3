//! A node killed in the middle of a delivery: its lease lapses and another
//! node delivers the same event again, with the same webhook-id.

use crate::harness;
use crate::harness::nodes;
use crate::harness::receiver;

use serde_json::json;

use harness::TestDb;
use nodes::{CliTenant, Node};
use performchat::store::Backend;
use receiver::Receiver;

/// The delivery timeout is shorter than the lease, as in production, but
/// both are short so the takeover comes within seconds.
const FAST: [&str; 8] = [
    "--outbound-allow",
    "127.0.0.0/8",
    "--webhook-timeout-ms",
    "3000",
    "--webhook-lease-ms",
    "4000",
    "--rate-limits",
    "off",
];

async fn takeover(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = CliTenant::create(&db.url, "Acme");
    let rx = Receiver::start().await;
    rx.hang_once("hook");
    let a = Node::start_with(&db.url, &FAST).await;
    let (status, made) = a
        .post(
            "/rest/v1/webhooks",
            &t.body(json!({ "url": rx.url("hook"), "events": ["*"] })),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, user) = a
        .post(
            "/rest/v1/auth/token",
            &t.body(json!({ "userId": "u1", "agentId": t.agent })),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    // Node A is sending it now, and the receiver holds the request open.
    let first = rx.wait_for("hook", 1).await[0].clone();
    let b = Node::start_with(&db.url, &FAST).await;
    a.kill();
    let again = rx.wait_for("hook", 2).await[1].clone();
    assert_eq!(again.headers["webhook-id"], first.headers["webhook-id"]);
    assert_eq!(again.body, first.body);
    // Node B logged the attempt that succeeded.
    let path = format!(
        "/rest/v1/webhooks/{}/deliveries",
        made["id"].as_str().unwrap()
    );
    let logged = loop {
        let (status, body) = b.get(&path, &t.key).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["data"].as_array().unwrap().clone();
        if !rows.is_empty() {
            break rows;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(logged[0]["status_code"], json!(200));
    assert_eq!(
        logged[0]["event_id"].as_str(),
        Some(first.headers["webhook-id"].as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_delivery_is_taken_over_sqlite() {
    takeover(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn a_node_killed_mid_delivery_is_taken_over_postgres() {
    takeover(Backend::Postgres).await;
}
