//! The real binary: admin CLI output, graceful shutdown on SIGTERM, and a
//! signing secret that survives restarts because it lives in the database.

#[path = "support/nodes.rs"]
mod nodes;

use std::process::Command;

use serde_json::{json, Value};

use nodes::{cli, Node, BIN};

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
