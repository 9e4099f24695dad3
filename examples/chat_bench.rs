//! A short chat benchmark against a release server on SQLite, with a stand-in
//! model that streams at once (so the figures are the server's, not a model's):
//!
//! 1. messages per second: 32 clients, each in its own conversation, post a
//!    message with SSE and read the stream to its end, for 5 seconds;
//! 2. memory with 1 000 open streams: 1 000 conversations whose replies the
//!    stand-in holds after the first piece; the server's RSS is read while all
//!    1 000 streams are open, then the replies are let go and must all finish.
//!
//! ```sh
//! cargo build --release && cargo run --release --example chat_bench -- target/release/performchat
//! ```

#[path = "../tests/all/harness/fake_model.rs"]
#[allow(dead_code)] // The bench uses part of the tests' stand-in model.
mod fake_model;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CLIENTS: usize = 32;
const RUN_FOR: Duration = Duration::from_secs(5);
const STREAMS: usize = 1000;
const PORT: u16 = 18250;

fn cli(bin: &str, db: &str, args: &[&str]) -> Value {
    let out = Command::new(bin)
        .args(["--database-url", db, "--json"])
        .args(args)
        .output()
        .expect("run the CLI");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the CLI")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn token(&self, key: &(String, String), agent: &str, user: &str) -> String {
        let body = json!({ "keyId": key.0, "keySecret": key.1, "userId": user, "agentId": agent, "expiresIn": "1h" });
        let r: Value = self
            .http
            .post(format!("{}/rest/v1/auth/token", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().expect("token").to_owned()
    }

    async fn conversation(&self, token: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/rest/v1/chat/conversations", self.base))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["id"].as_str().expect("conversation id").to_owned()
    }

    fn say(&self, token: &str, conv: &str, content: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/rest/v1/chat/conversations/{conv}/messages",
                self.base
            ))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .json(&json!({ "content": content }))
    }
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/performchat".into());
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let model = fake_model::FakeModel::start().await;

    let company = cli(&bin, &db, &["company", "create", "--name", "Bench"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent = |mode: &str| {
        cli(
            &bin,
            &db,
            &[
                "agent",
                "create",
                "--company",
                &company,
                "--name",
                mode,
                "--prompt-template",
                "You help {{customer_user.external_id}}.",
                "--llm-url",
                &model.url,
                "--llm-model",
                mode,
            ],
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (echo, gated) = (agent("echo"), agent("gated"));
    let k = cli(
        &bin,
        &db,
        &[
            "api-key",
            "create",
            "--company",
            &company,
            "--name",
            "bench",
        ],
    );
    let key = (
        k["keyId"].as_str().unwrap().to_owned(),
        k["keySecret"].as_str().unwrap().to_owned(),
    );

    let mut server = Command::new(&bin)
        .args([
            "--database-url",
            &db,
            "serve",
            "--listen",
            &format!("127.0.0.1:{PORT}"),
        ])
        .env("RUST_LOG", "warn")
        .env("PERFORMCHAT_RATE_LIMITS", "off")
        .env_remove("PERFORMCHAT_LLM_URL")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the server");
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{PORT}"),
    });
    for _ in 0..100 {
        if api
            .http
            .get(format!("{}/health", api.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 1. Messages per second.
    let mut workers = Vec::new();
    let done = Arc::new(AtomicUsize::new(0));
    for c in 0..CLIENTS {
        let token = api.token(&key, &echo, &format!("user-{c}")).await;
        let conv = api.conversation(&token).await;
        let (api, done) = (Arc::clone(&api), Arc::clone(&done));
        workers.push(async move {
            let mut latencies = Vec::new();
            let start = Instant::now();
            let mut n = 0;
            while start.elapsed() < RUN_FOR {
                let t = Instant::now();
                let body = api
                    .say(&token, &conv, &format!("question {n}"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(body.contains("event: assistant_message"), "{body}");
                latencies.push(t.elapsed());
                n += 1;
            }
            done.fetch_add(n, Ordering::Relaxed);
            latencies
        });
    }
    let start = Instant::now();
    let results = futures::future::join_all(workers.into_iter().map(tokio::spawn)).await;
    let elapsed = start.elapsed();
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(Result::unwrap).collect();
    latencies.sort();
    let total = done.load(Ordering::Relaxed);
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    println!(
        "messages: {total} in {:.1} s = {:.0} messages/s stored and streamed ({CLIENTS} clients; p50 {:.1} ms, p99 {:.1} ms)",
        elapsed.as_secs_f64(), total as f64 / elapsed.as_secs_f64(), pct(0.5), pct(0.99)
    );

    // 2. Memory with 1 000 open streams.
    let before = rss_kib(server.id());
    let seen = model.requests().len();
    let mut tokens = Vec::new();
    for u in 0..STREAMS / 100 {
        tokens.push(api.token(&key, &gated, &format!("streamer-{u}")).await);
    }
    let opened = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let token = tokens[i / 100].clone();
        let conv = api.conversation(&token).await;
        let (api, opened, tx) = (Arc::clone(&api), Arc::clone(&opened), tx.clone());
        streams.push(tokio::spawn(async move {
            let mut res = api.say(&token, &conv, "hold on").send().await.unwrap();
            let mut text = String::new();
            let mut told = false;
            while let Some(chunk) = res.chunk().await.unwrap() {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if !told && text.contains("event: delta") {
                    told = true;
                    opened.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(());
                }
            }
            text.contains("event: assistant_message")
        }));
    }
    for _ in 0..STREAMS {
        rx.recv().await.unwrap();
    }
    model.wait_for_requests(seen + STREAMS).await;
    let during = rss_kib(server.id());
    for _ in 0..STREAMS {
        model.release();
    }
    let finished = futures::future::join_all(streams)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    println!(
        "memory: RSS {:.1} MB before, {:.1} MB with {} streams open ({:.1} KB per stream); {finished} replies completed",
        before as f64 / 1024.0, during as f64 / 1024.0, opened.load(Ordering::Relaxed),
        (during.saturating_sub(before)) as f64 / STREAMS as f64
    );
    let _ = server.kill();
    let _ = server.wait();
}
