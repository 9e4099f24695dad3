//! `performchat migrate-store`: a store copied either way between SQLite and
//! PostgreSQL serves the same data, and old tokens still verify.

mod common;
#[path = "support/nodes.rs"]
mod nodes;

use serde_json::{json, Value};

use common::{TestApp, TestDb};
use nodes::{cli, cli_output, new_key, CliTenant, Node};
use performchat::domain::now_ms;
use performchat::store::{Backend, Store};

fn migrate(from: &str, to: &str) -> std::process::Output {
    cli_output(from, &["migrate-store", "--from", from, "--to", to])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn sqlite_store_seeded_through_the_api_moves_to_postgres() {
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let t = CliTenant::create(&sqlite.url, "Acme");
    let revoked = new_key(&sqlite.url, &t.company);
    cli(&sqlite.url, &["api-key", "revoke", &revoked.0]);

    let node = Node::start(&sqlite.url).await;
    let mut tokens = Vec::new();
    for i in 0..25 {
        let (status, body) = node
            .post(
                "/rest/v1/auth/token",
                &t.body(json!({ "userId": format!("user-{i}"), "agentId": t.agent })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        tokens.push(body);
    }
    let first = tokens[0]["customerUser"]["id"].as_str().unwrap();
    let put = reqwest::Client::new()
        .put(format!("{}/rest/v1/customer-users/{first}", node.base))
        .json(&t.body(json!({
            "name": "Zoë O'Brien", "email": "Zoe@Example.com",
            "metadata": { "plan": "premium", "seats": 3, "nested": { "a": [1, 2] } }
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // user-1's token is invalidated: it must stay refused after the move.
    let second = tokens[1]["customerUser"]["id"].as_str().unwrap();
    let (status, body) = node
        .post(
            "/rest/v1/auth/invalidate-token",
            &t.body(json!({ "customerUserId": second })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = node
        .post(
            "/rest/v1/knowledge/documents",
            &t.body(json!({ "title": "Refunds", "content": "A refund takes five days." })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let users_before = node.all_users(&t.key).await;
    let (_, agents_before) = node.get("/rest/v1/agents", &t.key).await;
    let keys_before = cli(&sqlite.url, &["api-key", "list", "--company", &t.company]);
    drop(node);

    let pg = TestDb::new(Backend::Postgres).await;
    let out = migrate(&sqlite.url, &pg.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["copied"]["customer_users"], json!(25), "{report}");
    assert_eq!(report["copied"]["api_keys"], json!(2), "{report}");
    assert_eq!(report["copied"]["settings"], json!(1), "{report}");
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("customer_users"), "{progress}");

    // Before any node runs there: using a key moves its last_used_at.
    assert_eq!(
        cli(&pg.url, &["api-key", "list", "--company", &t.company]),
        keys_before
    );

    let node = Node::start(&pg.url).await;
    let verify = |token: &Value| t.body(json!({ "token": token["token"] }));
    let (status, body) = node
        .post("/rest/v1/auth/verify-token", &verify(&tokens[0]))
        .await;
    assert_eq!(
        status, 200,
        "a token issued before the move must verify: {body}"
    );
    let (status, body) = node
        .post("/rest/v1/auth/verify-token", &verify(&tokens[1]))
        .await;
    assert_eq!(status, 401, "an invalidated token came back: {body}");
    assert_eq!(node.all_users(&t.key).await, users_before);
    assert_eq!(node.get("/rest/v1/agents", &t.key).await.1, agents_before);
    let (status, _) = node.get("/rest/v1/agents", &revoked).await;
    assert_eq!(status, 401, "a revoked key works again after the move");
    let (status, body) = node
        .get("/rest/v1/customer-users?name=zo%C3%AB", &t.key)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pagination"]["total"], json!(1), "{body}");
    // The target's full-text index is built as the chunks arrive.
    let (status, found) = node
        .get("/rest/v1/knowledge/search?q=refunds", &t.key)
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"][0]["title"], json!("Refunds"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn postgres_store_moves_to_sqlite_in_batches() {
    store_moves_to_sqlite_in_batches(Backend::Postgres).await;
}

/// The copy logic without PostgreSQL, so a SQLite-only run covers it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_moves_to_another_sqlite_file_in_batches() {
    store_moves_to_sqlite_in_batches(Backend::Sqlite).await;
}

/// Enough users for several batches in two companies, so the keyset walk
/// crosses batch and company boundaries.
async fn store_moves_to_sqlite_in_batches(source: Backend) {
    let app = TestApp::new(source).await;
    let (a, b) = (app.tenant("A").await, app.tenant("B").await);
    let now = now_ms();
    for (tenant, n) in [(&a, 1_234), (&b, 1_001)] {
        for i in 0..n {
            app.store
                .user_for_token(
                    &tenant.company,
                    &tenant.agent,
                    &format!("u{i}"),
                    now + i,
                    None,
                )
                .await
                .unwrap();
        }
    }
    let token = app.token(&a, "u7").await;
    let conversation = chat_with_history(&app, &token).await;
    let doc = app
        .post(
            "/rest/v1/knowledge/documents",
            a.body(json!({ "title": "Refunds", "content_type": "text/markdown",
                "content": "# Refunds\n\n## Cards\n\nA refund takes five days." })),
        )
        .await;
    assert_eq!(doc.status, 201, "{}", doc.text);
    let search = "/rest/v1/knowledge/search?q=refunds";

    let sqlite = TestDb::new(Backend::Sqlite).await;
    let out = migrate(&app.db.url, &sqlite.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["copied"]["customer_users"], json!(2_235), "{report}");
    assert_eq!(report["copied"]["conversations"], json!(1), "{report}");
    assert_eq!(report["copied"]["messages"], json!(4), "{report}");
    assert_eq!(
        report["copied"]["knowledge_documents"],
        json!(1),
        "{report}"
    );
    assert_eq!(report["copied"]["knowledge_chunks"], json!(1), "{report}");
    let again = migrate(&app.db.url, &sqlite.url);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("not empty"),
        "{err}"
    );

    let node = Node::start(&sqlite.url).await;
    for tenant in [&a, &b] {
        let mut expected = Vec::new();
        for page in 1.. {
            let r = app
                .get(
                    &format!("/rest/v1/customer-users?limit=100&page={page}"),
                    tenant.creds(),
                )
                .await;
            let data = r.assert_ok()["data"].as_array().unwrap().clone();
            if data.is_empty() {
                break;
            }
            expected.extend(data);
        }
        assert_eq!(node.all_users(&tenant.key).await, expected);
    }
    let (status, body) = node
        .post(
            "/rest/v1/auth/verify-token",
            &a.body(json!({ "token": token["token"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Scores are each backend's own; the hits are the same.
    let without_score = |mut v: Value| {
        v["data"][0].as_object_mut().unwrap().remove("score");
        v
    };
    let before = app.get(search, a.creds()).await.assert_ok().clone();
    let (status, after) = node.get(search, &a.key).await;
    assert_eq!((status, without_score(after)), (200, without_score(before)));
    for path in [
        format!("/rest/v1/conversations/{conversation}"),
        format!("/rest/v1/conversations/{conversation}/messages"),
    ] {
        let before = app.get(&path, a.creds()).await;
        assert_eq!(
            node.get(&path, &a.key).await,
            (200, before.assert_ok().clone())
        );
    }
}

/// A conversation of two exchanges, through the chat API; its id.
async fn chat_with_history(app: &TestApp, token: &Value) -> String {
    use axum::http::{Method, Request};
    let bearer = token["token"].as_str().unwrap().to_owned();
    let post = |uri: String, body: Value| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("authorization", format!("Bearer {bearer}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let r = app
        .send(post("/rest/v1/chat/conversations".into(), json!({})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    for q in ["first", "second"] {
        let uri = format!("/rest/v1/chat/conversations/{id}/messages");
        let r = app.send(post(uri, json!({ "content": q }))).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn refuses_a_target_with_data_or_another_jwt_secret() {
    let source = TestDb::new(Backend::Sqlite).await;
    CliTenant::create(&source.url, "Source");
    source
        .store()
        .await
        .shared_jwt_secret("source-secret")
        .await
        .unwrap();

    let full = TestDb::new(Backend::Postgres).await;
    CliTenant::create(&full.url, "Already here");
    let out = migrate(&source.url, &full.url);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("target database is not empty"), "{err}");
    let companies = cli(&full.url, &["company", "list"]);
    assert_eq!(
        companies["data"].as_array().unwrap().len(),
        1,
        "target changed"
    );

    // A server already started on the target: its own secret is there.
    let started = TestDb::new(Backend::Postgres).await;
    started
        .store()
        .await
        .shared_jwt_secret("target-secret")
        .await
        .unwrap();
    let out = migrate(&source.url, &started.url);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different jwt_secret"), "{err}");
    assert!(cli(&started.url, &["company", "list"])["data"]
        .as_array()
        .unwrap()
        .is_empty());

    let out = migrate(&source.url, &source.url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("same database"));

    let missing = format!("{}-missing", source.url);
    let out = migrate(&missing, &started.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("source") && err.contains("no database at"),
        "{err}"
    );
}

/// Data in a table this version cannot copy must stop the copy, not vanish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn refuses_a_source_with_data_it_cannot_copy() {
    let source = TestDb::new(Backend::Postgres).await;
    CliTenant::create(&source.url, "Source");
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&source.url).await.unwrap();
        sqlx::query("CREATE TABLE tickets (id TEXT PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO tickets VALUES ('t_1')")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let target = TestDb::new(Backend::Sqlite).await;
    let out = migrate(&source.url, &target.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "copied despite an unknown table");
    assert!(err.contains("tickets holds 1 rows"), "{err}");
}

/// The copy's own column list against the migrated schema: a column added
/// by a migration but not to the copy would be dropped without a word.
async fn copy_matches_the_schema(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = performchat::store::SqlStore::connect(&db.url, &Default::default())
        .await
        .unwrap();
    let drift = performchat::store::schema_drift(&store).await.unwrap();
    store.close().await;
    assert!(drift.is_empty(), "{backend:?}:\n{}", drift.join("\n"));
}

#[tokio::test]
async fn copy_matches_the_sqlite_schema() {
    copy_matches_the_schema(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn copy_matches_the_postgres_schema() {
    copy_matches_the_schema(Backend::Postgres).await;
}
