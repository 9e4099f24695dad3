//! Several server processes on one database (PostgreSQL; SQLite for key
//! revocation): nodes keep no state of
//! their own, so whatever one node (or the CLI) changes, every node sees on its
//! very next request.

mod common;
#[path = "support/nodes.rs"]
mod nodes;

use std::collections::HashSet;

use serde_json::json;

use common::TestDb;
use nodes::{cli, new_key, CliTenant, Node};
use performchat::store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn token_from_one_node_verifies_on_the_other_until_invalidated() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = CliTenant::create(&db.url, "Acme");
    let (a, b) = (Node::start(&db.url).await, Node::start(&db.url).await);

    let (status, issued) = a
        .post(
            "/rest/v1/auth/token",
            &t.body(json!({ "userId": "u1", "agentId": t.agent })),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["token"].as_str().unwrap().to_owned();
    let user_id = issued["customerUser"]["id"].as_str().unwrap().to_owned();

    let verify = t.body(json!({ "token": token }));
    let (status, body) = b.post("/rest/v1/auth/verify-token", &verify).await;
    assert_eq!(status, 200, "node B must accept node A's token: {body}");
    assert_eq!(body["valid"], json!(true));

    let (status, body) = a
        .post(
            "/rest/v1/auth/invalidate-token",
            &t.body(json!({ "customerUserId": user_id })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["newTokenVersion"], json!(1));

    let (status, body) = b.post("/rest/v1/auth/verify-token", &verify).await;
    assert_eq!(
        status, 401,
        "node B still accepts an invalidated token: {body}"
    );
    assert_eq!(body["message"], json!("Token has been invalidated"));

    // A token issued afterwards carries the new version and works everywhere.
    let (status, fresh) = b
        .post(
            "/rest/v1/auth/token",
            &t.body(json!({ "userId": "u1", "agentId": t.agent })),
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    let (status, body) = a
        .post(
            "/rest/v1/auth/verify-token",
            &t.body(json!({ "token": fresh["token"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn concurrent_first_tokens_on_two_nodes_create_one_user() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = CliTenant::create(&db.url, "Acme");
    let nodes = [Node::start(&db.url).await, Node::start(&db.url).await];

    let body = t.body(json!({ "userId": "brand-new-user", "agentId": t.agent }));
    let calls = (0..32).map(|i| nodes[i % 2].post("/rest/v1/auth/token", &body));
    let replies = futures::future::join_all(calls).await;

    let mut ids = HashSet::new();
    for (status, reply) in &replies {
        assert_eq!(*status, 200, "a concurrent first call failed: {reply}");
        ids.insert(reply["customerUser"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "32 concurrent first calls made users {ids:?}");

    let (status, list) = nodes[1].get("/rest/v1/customer-users", &t.key).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["pagination"]["total"], json!(1), "{list}");
    assert_eq!(list["data"][0]["external_id"], json!("brand-new-user"));
}

/// On SQLite the key and a lookup by external id are read on the request's
/// own thread, apart from the pool (src/store/sql/fast.rs); on both backends a
/// node that cached the key would be caught serving it after the revocation.
async fn key_revoked_by_the_cli_is_refused_by_every_node(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = CliTenant::create(&db.url, "Acme");
    let other = new_key(&db.url, &t.company);
    let nodes = [Node::start(&db.url).await, Node::start(&db.url).await];
    let lookup = "/rest/v1/customer-users?external_id=u1";
    let token_body = t.body(json!({ "userId": "u1", "agentId": t.agent }));

    // Each node has just accepted the key on every path that reads it.
    for node in &nodes {
        let (status, body) = node.post("/rest/v1/auth/token", &token_body).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = node.get(lookup, &t.key).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pagination"]["total"], json!(1), "{body}");
        let (status, body) = node.get("/rest/v1/agents", &t.key).await;
        assert_eq!(status, 200, "{body}");
    }

    let revoked = cli(&db.url, &["api-key", "revoke", &t.key.0]);
    assert_eq!(revoked["revoked"], json!(true));

    for node in &nodes {
        for path in ["/rest/v1/agents", lookup] {
            let (status, body) = node.get(path, &t.key).await;
            assert_eq!(
                status, 401,
                "{} still accepts a revoked key on {path}: {body}",
                node.base
            );
            assert_eq!(body["message"], json!("Invalid API credentials"));
        }
        let (status, body) = node.post("/rest/v1/auth/token", &token_body).await;
        assert_eq!(status, 401, "{body}");
        // The company's other key is untouched.
        for path in ["/rest/v1/agents", lookup] {
            let (status, body) = node.get(path, &other).await;
            assert_eq!(status, 200, "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_revoked_by_the_cli_is_refused_by_every_sqlite_node_at_once() {
    key_revoked_by_the_cli_is_refused_by_every_node(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn key_revoked_by_the_cli_is_refused_by_every_node_on_the_next_request() {
    key_revoked_by_the_cli_is_refused_by_every_node(Backend::Postgres).await;
}
