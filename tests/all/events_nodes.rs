//! The change feed while two server processes write concurrently: a reader
//! following it with a cursor sees every event once.

use crate::harness;
use crate::harness::nodes;

use std::collections::HashSet;

use serde_json::{json, Value};

use harness::TestDb;
use nodes::{CliTenant, Node};
use performchat::store::Backend;

async fn follow(db: Backend) {
    let db = TestDb::new(db).await;
    let t = CliTenant::create(&db.url, "Acme");
    let off = ["--rate-limits", "off"];
    let nodes = [
        Node::start_with(&db.url, &off).await,
        Node::start_with(&db.url, &off).await,
    ];
    let client = reqwest::Client::new();
    const WRITERS: usize = 6;
    const EACH: usize = 25;

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (base, body) = (
            nodes[w % 2].base.clone(),
            t.body(json!({ "name": "Writer" })),
        );
        let client = client.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let r = client
                    .put(format!(
                        "{base}/rest/v1/customer-users/by-external-id/w{w}-{i}"
                    ))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let user: Value = r.json().await.unwrap();
                ids.push(user["id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }

    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut created: HashSet<String> = HashSet::new();
    let mut finished = false;
    // Follow the feed while the writers run, then until it has caught up.
    // Bounded: a feed that lost an event would otherwise be read forever.
    for _ in 0..20_000 {
        if !finished && writers.iter().all(|w| w.is_finished()) {
            finished = true;
            for w in writers.drain(..) {
                created.extend(w.await.unwrap());
            }
        }
        let mut uri = format!(
            "{}/rest/v1/events?limit=7&type=customer_user.created",
            nodes[0].base
        );
        if let Some(c) = &cursor {
            uri += &format!("&after={c}");
        }
        let r = client
            .get(uri)
            .basic_auth(&t.key.0, Some(&t.key.1))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let page = body["data"].as_array().unwrap();
        for e in page {
            seen.push(e["data"]["id"].as_str().unwrap().to_owned());
        }
        if let Some(last) = page.last() {
            cursor = Some(last["id"].as_str().unwrap().to_owned());
        }
        if finished && body["has_more"] == json!(false) && seen.len() >= created.len() {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "the feed gave an event twice");
    assert_eq!(
        unique,
        created.iter().collect(),
        "the feed missed or invented events"
    );
    assert_eq!(seen.len(), WRITERS * EACH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_writing_sqlite() {
    follow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn two_nodes_writing_postgres() {
    follow(Backend::Postgres).await;
}
