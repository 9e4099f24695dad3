//! The real binary: admin CLI output, graceful shutdown on SIGTERM, and a
//! signing secret that survives restarts because it lives in the database.

use crate::harness::nodes;

use std::process::Command;

use serde_json::{json, Value};

use nodes::{cli, create_database, wait_for_log, Node, BIN};

#[tokio::test]
async fn cli_tenants_serve_tokens_that_survive_a_restart_and_sigterm_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    let company = cli(&db, &["company", "create", "--name", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(company.starts_with("co_"));
    let agent = cli(
        &db,
        &[
            "agent",
            "create",
            "--company",
            &company,
            "--name",
            "Support",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(agent.starts_with("agent_"));
    let key = cli(
        &db,
        &["api-key", "create", "--company", &company, "--name", "k"],
    );
    let creds = json!({ "keyId": key["keyId"], "keySecret": key["keySecret"] });
    assert_eq!(key["environment"], "production");

    let http = reqwest::Client::new();
    let server = Node::start(&db).await;
    let mut body = creds.clone();
    body["userId"] = json!("user_1");
    body["agentId"] = json!(agent);
    let issued: Value = http
        .post(format!("{}/rest/v1/auth/token", server.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().expect("a token").to_owned();
    assert!(
        server.terminate().success(),
        "SIGTERM must end the server with status 0"
    );

    let server = Node::start(&db).await;
    let mut body = creds.clone();
    body["token"] = json!(token);
    let verified = http
        .post(format!("{}/rest/v1/auth/verify-token", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        verified.status(),
        200,
        "a token must verify after a restart"
    );

    // Revocation through the CLI is refused on the server's next request.
    cli(&db, &["api-key", "revoke", key["keyId"].as_str().unwrap()]);
    let refused = http
        .get(format!("{}/rest/v1/customer-users", server.base))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(server.terminate().success());
}

#[test]
fn cli_refuses_bad_input_with_a_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    for args in [
        vec!["agent", "create", "--company", "co_missing", "--name", "x"],
        vec![
            "api-key",
            "create",
            "--company",
            "co_missing",
            "--name",
            "x",
        ],
        vec!["api-key", "revoke", "pk_missing"],
    ] {
        let out = Command::new(BIN)
            .args(["--database-url", &db])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    let company = cli(&db, &["company", "create", "--name", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for extra in [
        vec!["--permissions", "users:delete"],
        vec!["--environment", "prod"],
        vec!["--expires-at", "tomorrow"],
        vec!["--expires-at", "2001-01-01T00:00:00Z"],
    ] {
        let out = Command::new(BIN)
            .args([
                "--database-url",
                &db,
                "api-key",
                "create",
                "--company",
                &company,
                "--name",
                "k",
            ])
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    let bad_url = Command::new(BIN)
        .args(["--database-url", "mysql://x", "company", "list"])
        .output()
        .unwrap();
    assert_eq!(bad_url.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("unsupported database URL"));
}

/// Reads the server's log file until `needle` shows up (bounded, no fixed sleep).
#[tokio::test]
async fn logs_are_plain_text_with_one_line_per_request_and_failed_logins_as_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    let key = cli(&db, &["quickstart", "--company", "Logs"]);
    let log = dir.path().join("server.log");
    let mut child = Command::new(BIN)
        .args(["--database-url", &db, "serve", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let text = wait_for_log(&log, "listening on http://");
    let base = text
        .lines()
        .find_map(|l| l.split("listening on ").nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{base}/rest/v1/customer-users"))
        .basic_auth(key["keyId"].as_str().unwrap(), key["keySecret"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let secret = "sk_wrong_guess";
    let bad = http
        .get(format!("{base}/rest/v1/customer-users"))
        .basic_auth(key["keyId"].as_str().unwrap(), Some(secret))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let text = wait_for_log(&log, "authentication failed");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();

    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file: {text}"
    );
    let served = text
        .lines()
        .find(|l| l.contains(" INFO ") && l.contains("route=\"/rest/v1/customer-users\""))
        .unwrap_or_else(|| panic!("a request line: {text}"));
    for field in [
        "method=GET",
        "status=200",
        "latency_ms=",
        &format!("key_id=\"{}\"", key["keyId"].as_str().unwrap()),
    ] {
        assert!(served.contains(field), "{field} in {served}");
    }
    let failed = text
        .lines()
        .find(|l| l.contains("authentication failed"))
        .unwrap();
    assert!(
        failed.contains(" WARN ")
            && failed.contains("client_ip=\"127.0.0.1\"")
            && failed.contains("status=401"),
        "{failed}"
    );
    assert!(
        !text.contains(secret) && !text.contains(key["keySecret"].as_str().unwrap()),
        "never a secret"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    let log = dir.path().join("server.log");
    let mut child = Command::new(BIN)
        .args([
            "--database-url",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let text = wait_for_log(&log, "listening on http://");
    let started: Value =
        serde_json::from_str(text.lines().find(|l| l.contains("listening on")).unwrap())
            .expect("JSON");
    let base = started["message"]
        .as_str()
        .unwrap()
        .trim_start_matches("listening on ")
        .to_owned();
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let text = wait_for_log(&log, "\"route\":\"/health\"");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            entry["level"].is_string() && entry["timestamp"].is_string(),
            "{line}"
        );
    }
    let request: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["route"] == "/health")
        .unwrap();
    assert_eq!(request["status"], 200);
    assert_eq!(request["method"], "GET");
}
