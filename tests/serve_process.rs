//! `serve` as an operator meets it: a taken port is refused before any
//! database is created, and behind a trusted proxy the log names the client
//! the lockout counts, not the proxy.

#[path = "support/nodes.rs"]
mod nodes;

use std::process::Command;

use nodes::{cli, create_database, free_port, wait_for_log, BIN};

#[test]
fn a_taken_port_is_refused_before_the_database_is_created() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--database-url",
            "sqlite://pc.db",
            "serve",
            "--listen",
            &addr,
        ])
        .current_dir(dir.path())
        .env_remove("PERFORMCHAT_DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")) && stderr.contains("--listen"),
        "{stderr}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.is_empty(), "nothing created: {files:?}");
}

/// A wrong secret sent through a "proxy" at 127.0.0.1 that says the client
/// is 203.0.113.7; returns the log's warning line.
async fn failed_login_line(trusted: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    let key = cli(&db, &["quickstart", "--company", "Proxied"]);
    let log = dir.path().join("server.log");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        .args(["--database-url", &db, "serve", "--listen", &listen])
        .args(["--trusted-proxies", trusted])
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for_log(&log, "listening on http://");
    let bad = reqwest::Client::new()
        .get(format!("http://{listen}/rest/v1/customer-users"))
        .basic_auth(key["keyId"].as_str().unwrap(), Some("sk_wrong"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let text = wait_for_log(&log, "authentication failed");
    let _ = child.kill();
    child.wait().unwrap();
    text.lines()
        .find(|l| l.contains("authentication failed"))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_log_names_the_forwarded_client_only_from_a_trusted_proxy() {
    let trusted = failed_login_line("127.0.0.1/32").await;
    assert!(trusted.contains("client_ip=\"203.0.113.7\""), "{trusted}");
    // From a peer that is not a trusted proxy the header is anyone's to write.
    let untrusted = failed_login_line("").await;
    assert!(untrusted.contains("client_ip=\"127.0.0.1\""), "{untrusted}");
}
