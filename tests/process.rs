//! The real binary: admin CLI output, graceful shutdown on SIGTERM, and a
//! signing secret that survives restarts because it lives in the database.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_performchat");

fn cli(db: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["--database-url", db])
        .args(args)
        .arg("--json")
        .output()
        .expect("run the CLI");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.trim().lines().last().unwrap()).expect("one JSON object")
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start(db: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(BIN)
            .args([
                "--database-url",
                db,
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env_remove("PERFORMCHAT_JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if reqwest::get(format!("{}/health", server.url))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy");
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn cli_tenants_serve_tokens_that_survive_a_restart_and_sigterm_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
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
    let server = Server::start(&db).await;
    let mut body = creds.clone();
    body["userId"] = json!("user_1");
    body["agentId"] = json!(agent);
    let issued: Value = http
        .post(format!("{}/rest/v1/auth/token", server.url))
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

    let server = Server::start(&db).await;
    let mut body = creds.clone();
    body["token"] = json!(token);
    let verified = http
        .post(format!("{}/rest/v1/auth/verify-token", server.url))
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
        .get(format!("{}/rest/v1/customer-users", server.url))
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
