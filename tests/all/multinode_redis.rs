//! Two server processes sharing rate limits through a Redis of the test's own
//! (started on a free port, so it can be stopped and started again without
//! touching anyone else's): one budget while Redis is there, each node's own
//! limits while it is away, one budget again when it is back.

use crate::harness::nodes;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use nodes::{new_key, CliTenant, Node};

/// A redis-server child process without persistence; killed on drop.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the Redis tests");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.pongs() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn pongs(&self) -> bool {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut reply = [0u8; 7];
        conn.set_read_timeout(Some(Duration::from_secs(1))).ok();
        conn.write_all(b"PING\r\n").is_ok()
            && conn.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Token calls alternating between the nodes; the call numbers refused.
async fn alternate(nodes: [&Node; 2], body: &Value, calls: usize) -> Vec<usize> {
    let mut refused = Vec::new();
    for n in 0..calls {
        let (status, reply) = nodes[n % 2].post("/rest/v1/auth/token", body).await;
        match status {
            200 => {}
            429 => refused.push(n + 1),
            other => panic!("call {}: {other} {reply}", n + 1),
        }
    }
    refused
}

/// Polls both nodes' `/health` until the limiter is in `state`.
async fn wait_for_state(nodes: [&Node; 2], state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for node in nodes {
        loop {
            let health = node.health().await;
            if health["rateLimits"]["state"] == json!(state) {
                break;
            }
            assert!(Instant::now() < deadline, "never {state}: {health}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(redis_tests),
    ignore = "Redis run skipped: set PERFORMCHAT_TEST_REDIS_URL"
)]
async fn two_nodes_share_one_budget_and_survive_a_redis_outage() {
    let mut redis = OwnRedis::start();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("nodes.db").display());
    let prefix = format!("pct:nodes:{}:", ulid::Ulid::new());
    let redis_url = redis.url();
    // The default burst of 100; the window stretched from a minute to an hour
    // so that no request is earned back while a slow machine works.
    let args = [
        "--rate-limit-store",
        &redis_url,
        "--rate-limit-prefix",
        &prefix,
        "--rate-limit-tokens",
        "100/1h",
    ];
    let log_path = dir.path().join("node-a.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let a = Node::start_logging(&db, &args, &log).await;
    let b = Node::start_with(&db, &args).await;
    // The admin commands work on the database the first node created.
    let t = CliTenant::create(&db, "Acme");
    wait_for_state([&a, &b], "shared").await;
    let body = |key: &(String, String)| json!({ "keyId": key.0, "keySecret": key.1, "userId": "u1", "agentId": t.agent });

    let refused = alternate([&a, &b], &body(&t.key), 101).await;
    assert_eq!(
        refused,
        vec![101],
        "101 calls over two nodes: exactly one 429"
    );

    // Redis goes away: both nodes keep answering, each under its own limits.
    redis.stop();
    let key = new_key(&db, &t.company);
    let (status, reply) = a.post("/rest/v1/auth/token", &body(&key)).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = b.post("/rest/v1/auth/token", &body(&key)).await;
    assert_eq!(status, 200, "{reply}");
    wait_for_state([&a, &b], "fallback").await;
    let health = a.health().await;
    assert_eq!(health["status"], json!("ok"));
    assert!(health["rateLimits"]["outageSince"].is_string(), "{health}");
    // Node A alone has spent 1 of its own 100: 99 more, then 429.
    let refused = alternate([&a, &a], &body(&key), 100).await;
    assert_eq!(refused, vec![100], "limited locally, not unlimited");
    // Node B's own bucket for the key knows nothing of A's.
    let (status, _) = b.post("/rest/v1/auth/token", &body(&key)).await;
    assert_eq!(status, 200);

    // Redis is back (empty): the nodes share one budget again.
    redis.restart();
    wait_for_state([&a, &b], "shared").await;
    let key = new_key(&db, &t.company);
    let refused = alternate([&a, &b], &body(&key), 101).await;
    assert_eq!(refused, vec![101], "shared again after Redis returned");

    // One outage, however many requests and probes met it: one line each way
    // (the lines reach the file a moment after they happen).
    let log = nodes::wait_for_log(&log_path, "rate-limit store (Redis) reachable again");
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(count("rate-limit store (Redis) unreachable"), 1, "{log}");
    assert_eq!(
        count("rate-limit store (Redis) reachable again"),
        1,
        "{log}"
    );
}
