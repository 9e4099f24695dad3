//! A configured JWT secret too short for HS256 stops the server at start,
//! with a message that says how to make a good one.

use crate::harness;
use crate::harness::nodes;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::TestDb;
use nodes::{Node, BIN};
use performchat::store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_jwt_secret_is_refused_at_start() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut child = Command::new(BIN)
        .args([
            "--database-url",
            &db.url,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("PERFORMCHAT_JWT_SECRET", "x".repeat(31))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A bound, not a synchronisation: a server that accepted the secret
    // would run until killed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with a 31-byte JWT secret");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(stderr.contains("31 bytes"), "{stderr}");
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(
        !stderr.contains(&"x".repeat(31)),
        "the message shows the secret: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_32_byte_jwt_secret_is_accepted() {
    let db = TestDb::new(Backend::Sqlite).await;
    let secret = "k".repeat(32);
    let node = Node::start_with(&db.url, &["--jwt-secret", &secret]).await;
    let (status, _) = node
        .post("/rest/v1/auth/verify-token", &serde_json::json!({}))
        .await;
    assert_eq!(status, 401, "the server is up and answering");
}
