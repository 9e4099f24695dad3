//! One reply in flight per conversation across real server processes on one
//! PostgreSQL database: the guard is a lease in the database, and a node that
//! dies mid-reply leaves the conversation usable once its lease lapses.

use crate::harness;
use crate::harness::fake_model;
use crate::harness::nodes;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use fake_model::FakeModel;
use harness::TestDb;
use nodes::{cli, CliTenant, Node};
use performchat::store::Backend;

const LEASE_MS: u64 = 1500;

/// An agent of `t` answered by the fake model's `gated` replies.
fn gated_agent(db: &str, t: &CliTenant, model: &FakeModel) -> String {
    let agent = cli(
        db,
        &[
            "agent",
            "create",
            "--company",
            &t.company,
            "--name",
            "Gated",
            "--prompt-template",
            "Hi",
            "--llm-url",
            &model.url,
            "--llm-model",
            "gated",
        ],
    );
    assert_eq!(agent["llm_model"], "gated", "{agent}");
    agent["id"].as_str().unwrap().to_owned()
}

async fn start_chat(node: &Node, t: &CliTenant, agent: &str) -> (String, String) {
    let (status, issued) = node
        .post(
            "/rest/v1/auth/token",
            &t.body(json!({ "userId": "u1", "agentId": agent })),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["token"].as_str().unwrap().to_owned();
    let (status, conv) = send(node, &token, "/rest/v1/chat/conversations", json!({})).await;
    assert_eq!(status, 201, "{conv}");
    (token, conv["id"].as_str().unwrap().to_owned())
}

async fn send(node: &Node, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", node.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST to node");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn say(
    node: &Node,
    token: &str,
    conv: &str,
    content: &str,
) -> impl std::future::Future<Output = (u16, Value)> {
    let (base, token, path) = (
        node.base.clone(),
        token.to_owned(),
        format!("/rest/v1/chat/conversations/{conv}/messages"),
    );
    let body = json!({ "content": content });
    // Status 0: no answer (the node died), which one test expects.
    async move {
        let sent = reqwest::Client::new()
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(res) => {
                let status = res.status().as_u16();
                (status, res.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn a_reply_on_one_node_makes_the_other_answer_409() {
    let db = TestDb::new(Backend::Postgres).await;
    let model = FakeModel::start().await;
    let t = CliTenant::create(&db.url, "Acme");
    let agent = gated_agent(&db.url, &t, &model);
    let (a, b) = (Node::start(&db.url).await, Node::start(&db.url).await);
    let (token, conv) = start_chat(&a, &t, &agent).await;

    let first = tokio::spawn(say(&a, &token, &conv, "one"));
    model.wait_for_requests(1).await;
    let (status, body) = say(&b, &token, &conv, "two").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["message"], "A reply is already being generated");
    model.release();
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["assistantMessage"]["content"], "Hello world");
    // Released with the reply: node B takes the next one at once.
    model.release();
    assert_eq!(say(&b, &token, &conv, "three").await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn a_node_killed_mid_reply_frees_the_conversation_when_its_lease_lapses() {
    let db = TestDb::new(Backend::Postgres).await;
    let model = FakeModel::start().await;
    let t = CliTenant::create(&db.url, "Acme");
    let agent = gated_agent(&db.url, &t, &model);
    let lease = LEASE_MS.to_string();
    let flags = ["--chat-lease-ms", lease.as_str()];
    let a = Node::start_with(&db.url, &flags).await;
    let b = Node::start_with(&db.url, &flags).await;
    let (token, conv) = start_chat(&a, &t, &agent).await;

    // The lease starts after this, so it cannot lapse before `sent + LEASE_MS`.
    let sent = Instant::now();
    let orphan = tokio::spawn(say(&a, &token, &conv, "one"));
    model.wait_for_requests(1).await;
    a.kill();
    assert_eq!(orphan.await.unwrap().0, 0, "node A died before replying");

    // Until the lease lapses the conversation is busy; after, usable again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Two permits: the dead node's request still waits at the model.
        model.release();
        model.release();
        let (status, body) = say(&b, &token, &conv, "two").await;
        if status == 409 {
            assert!(Instant::now() < deadline, "the lease never lapsed");
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(status, 201, "{body}");
        assert!(
            sent.elapsed() >= Duration::from_millis(LEASE_MS),
            "node B answered before A's lease could have lapsed"
        );
        break;
    }
    let request = model.requests().pop().unwrap();
    let last = request["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["content"], "one\n\ntwo",
        "the question left without a reply joins the next one"
    );
    let (status, msgs) = b
        .get(&format!("/rest/v1/conversations/{conv}/messages"), &t.key)
        .await;
    assert_eq!(status, 200);
    let roles: Vec<&str> = msgs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "user", "assistant"]);
}
