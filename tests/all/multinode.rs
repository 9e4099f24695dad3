//! Several server processes on one database (PostgreSQL; SQLite for key
//! revocation): nodes keep no state of
//! their own, so whatever one node (or the CLI) changes, every node sees on its
//! very next request.

use crate::harness;
use crate::harness::nodes;

use std::collections::HashSet;

use serde_json::json;

use harness::TestDb;
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

    // A wrong secret for the key every node has just accepted writes nothing.
    let wrong = (t.key.0.clone(), "sk_wrong".to_owned());
    refused_without_writes(&nodes, &t, &wrong, &other, "Invalid API credentials").await;

    let revoked = cli(&db.url, &["api-key", "revoke", &t.key.0]);
    assert_eq!(revoked["revoked"], json!(true));
    refused_without_writes(&nodes, &t, &t.key, &other, "Invalid API credentials").await;

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

/// `key` is refused on the lookup and token paths by every node, and the
/// refused token calls neither created a user nor stamped `last_seen_at`
/// (as `witness`, a good key of the same company, sees).
async fn refused_without_writes(
    nodes: &[Node],
    t: &CliTenant,
    key: &(String, String),
    witness: &(String, String),
    message: &str,
) {
    let lookup = |id: &str| format!("/rest/v1/customer-users?external_id={id}");
    let (status, before) = nodes[0].get(&lookup("u1"), witness).await;
    assert_eq!(status, 200, "{before}");
    // Node 0 is asked a lookup first, node 1 a token first (a node that
    // remembered the key finds it refused by the statement that serves the
    // first request); each refuses a token for a known user and a new one.
    for (i, (node, user)) in nodes.iter().zip(["u1", "intruder"]).enumerate() {
        let body =
            json!({ "keyId": key.0, "keySecret": key.1, "userId": user, "agentId": t.agent });
        let token = node.post("/rest/v1/auth/token", &body);
        let path = lookup("u1");
        let found = node.get(&path, key);
        let ((token_status, token), (found_status, found)) = if i == 0 {
            let found = found.await;
            (token.await, found)
        } else {
            let token = token.await;
            (token, found.await)
        };
        for (status, body) in [(token_status, token), (found_status, found)] {
            assert_eq!(status, 401, "{}: {body}", node.base);
            assert_eq!(body["message"], json!(message));
        }
    }
    let (_, after) = nodes[1].get(&lookup("u1"), witness).await;
    assert_eq!(
        after["data"][0]["last_seen_at"], before["data"][0]["last_seen_at"],
        "a refused token call stamped last_seen_at"
    );
    let (_, intruder) = nodes[1].get(&lookup("intruder"), witness).await;
    assert_eq!(intruder["pagination"]["total"], json!(0), "{intruder}");
}

/// A deactivated company's keys stop at the next request on every node, and
/// work again on reactivation, however recently a node accepted them.
async fn deactivated_company_is_refused_by_every_node(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = CliTenant::create(&db.url, "Acme");
    let witness = CliTenant::create(&db.url, "Other");
    let nodes = [Node::start(&db.url).await, Node::start(&db.url).await];
    let token_body = t.body(json!({ "userId": "u1", "agentId": t.agent }));
    for node in &nodes {
        let (status, body) = node.post("/rest/v1/auth/token", &token_body).await;
        assert_eq!(status, 200, "{body}");
    }

    cli(&db.url, &["company", "deactivate", &t.company]);
    // A request that would be a 400 is still a 401: node 0 is asked it first,
    // node 1 after a good one.
    let bad_field = t.body(json!({ "userId": "u1", "agentId": t.agent, "expiresIn": "soon" }));
    for (i, node) in nodes.iter().enumerate() {
        let order = if i == 0 {
            [&bad_field, &token_body]
        } else {
            [&token_body, &bad_field]
        };
        for body in order {
            let (status, body) = node.post("/rest/v1/auth/token", body).await;
            assert_eq!(status, 401, "{}: {body}", node.base);
            assert_eq!(body["message"], json!("Invalid API credentials"));
        }
        let path = "/rest/v1/customer-users?external_id=u1";
        let (status, body) = node.get(path, &t.key).await;
        assert_eq!(status, 401, "{}: {body}", node.base);
    }
    // The other company is untouched.
    let (status, body) = nodes[0].get("/rest/v1/customer-users", &witness.key).await;
    assert_eq!(status, 200, "{body}");

    cli(&db.url, &["company", "activate", &t.company]);
    for node in &nodes {
        let body = t.body(json!({ "userId": "u2", "agentId": t.agent }));
        let (status, body) = node.post("/rest/v1/auth/token", &body).await;
        assert_eq!(status, 200, "{}: {body}", node.base);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_company_is_refused_by_every_sqlite_node_at_once() {
    deactivated_company_is_refused_by_every_node(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn deactivated_company_is_refused_by_every_node_on_the_next_request() {
    deactivated_company_is_refused_by_every_node(Backend::Postgres).await;
}
