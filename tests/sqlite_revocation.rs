//! On SQLite the API key is read on the request's own thread, on connections
//! apart from the pool (src/store/sql/fast.rs). A key revoked by another
//! process (the CLI) must still be refused by every server on the file at its
//! very next request, for lookups and token calls alike.

mod common;
#[path = "support/nodes.rs"]
mod nodes;

use serde_json::json;

use common::TestDb;
use nodes::{cli, new_key, CliTenant, Node};
use performchat::store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_revoked_by_the_cli_is_refused_by_every_sqlite_server_at_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = CliTenant::create(&db.url, "Acme");
    let other = new_key(&db.url, &t.company);
    let nodes = [Node::start(&db.url).await, Node::start(&db.url).await];
    let lookup = "/rest/v1/customer-users?external_id=u1";

    for node in &nodes {
        let (status, body) = node
            .post(
                "/rest/v1/auth/token",
                &t.body(json!({ "userId": "u1", "agentId": t.agent })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = node.get(lookup, &t.key).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pagination"]["total"], json!(1), "{body}");
    }

    let revoked = cli(&db.url, &["api-key", "revoke", &t.key.0]);
    assert_eq!(revoked["revoked"], json!(true));

    for node in &nodes {
        let (status, body) = node.get(lookup, &t.key).await;
        assert_eq!(
            status, 401,
            "{} still accepts a revoked key: {body}",
            node.base
        );
        assert_eq!(body["message"], json!("Invalid API credentials"));
        let (status, body) = node
            .post(
                "/rest/v1/auth/token",
                &t.body(json!({ "userId": "u1", "agentId": t.agent })),
            )
            .await;
        assert_eq!(status, 401, "{body}");
        let (status, body) = node.get(lookup, &other).await;
        assert_eq!(status, 200, "{body}");
    }
}
