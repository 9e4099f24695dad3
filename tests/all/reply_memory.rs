//! A benchmark, not a test of time: how much the server's memory grows while
//! 50 replies from a model that ignores `max_tokens` (4 MiB each) stream
//! towards clients that never read. Run it with
//! `cargo test --test all -- reply_memory:: --ignored --nocapture`; it prints the
//! figures (docs/PERFORMANCE.md keeps them) and fails above 16 MiB. Set
//! `PERFORMCHAT_LLM_MAX_REPLY_CHARS` (the server inherits it) to compare
//! with another cap.

use crate::harness;
use crate::harness::fake_model;
use crate::harness::nodes;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use fake_model::{FakeModel, FLOOD_BYTES};
use harness::TestDb;
use nodes::{CliTenant, Node};
use performchat::store::Backend;

const REPLIES: usize = 50;
const MIB: f64 = 1024.0 * 1024.0;

/// A field of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

async fn bearer_post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --ignored --nocapture to print its figures"]
async fn server_memory_while_50_flooding_replies_meet_clients_that_never_read() {
    let model = FakeModel::start().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let t = CliTenant::create(&db.url, "Acme");
    let args = [
        "--llm-url",
        &model.url,
        "--llm-model",
        "flood",
        "--rate-limits",
        "off",
    ];
    let node = Node::start_with(&db.url, &args).await;
    let (_, issued) = node
        .post(
            "/rest/v1/auth/token",
            &t.body(json!({ "userId": "u1", "agentId": t.agent })),
        )
        .await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let mut conversations = Vec::new();
    for _ in 0..REPLIES {
        let conv = bearer_post(&node.base, &token, "/rest/v1/chat/conversations", json!({})).await;
        conversations.push(conv["id"].as_str().unwrap().to_owned());
    }

    let pid = node.pid();
    let before = status_kib(pid, "VmRSS:");
    // Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM).
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let addr = node.base.trim_start_matches("http://").to_owned();
    let mut clients = Vec::new();
    for conv in &conversations {
        let body = json!({ "content": "Tell me everything." }).to_string();
        let request = format!(
            "POST /rest/v1/chat/conversations/{conv}/messages HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut client = TcpStream::connect(&addr).await.unwrap();
        client.write_all(request.as_bytes()).await.unwrap();
        clients.push(client); // kept open, never read
    }

    // Every reply stored: each conversation holds its question and reply.
    let started = Instant::now();
    let mut stored_chars = Vec::new();
    for conv in &conversations {
        loop {
            let (status, page) = node
                .get(&format!("/rest/v1/conversations/{conv}/messages"), &t.key)
                .await;
            assert_eq!(status, 200, "{page}");
            if let Some(reply) = page["data"].as_array().and_then(|m| m.get(1)) {
                stored_chars.push(reply["content"].as_str().unwrap().chars().count());
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "replies not stored"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let peak = status_kib(pid, "VmHWM:");
    let after = status_kib(pid, "VmRSS:");
    drop(clients);
    let growth = peak.saturating_sub(before) as f64 / 1024.0;
    let longest = stored_chars.iter().max().copied().unwrap_or(0);
    println!(
        "reply_memory: {REPLIES} replies, model sends {:.0} MiB each, clients never read; \
         stored replies <= {longest} code points; server RSS before {:.1} MiB, peak {:.1} MiB, \
         after {:.1} MiB; growth to peak {growth:.1} MiB (limit 16 MiB); all stored in {:.1} s",
        FLOOD_BYTES as f64 / MIB,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        after as f64 / 1024.0,
        started.elapsed().as_secs_f64(),
    );
    assert_eq!(stored_chars.len(), REPLIES);
    assert!(growth < 16.0, "the server grew by {growth:.1} MiB");
}
