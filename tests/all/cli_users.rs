//! `performchat users …` and `performchat token …`, run as a user would run
//! them: the real binary against a served app, credentials from the
//! environment (or flags).

use crate::harness;

use std::process::Command;

use harness::cli::Cli;
use harness::{Tenant, TestApp};
use performchat::store::Backend;
use serde_json::json;

async fn setup() -> (TestApp, Tenant, harness::Served, Cli) {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let cli = Cli {
        url: served.url(""),
        key: t.key.clone(),
    };
    (app, t, served, cli)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_issue_verify_invalidate() {
    let (_app, t, _served, cli) = setup().await;
    let token = cli
        .ok(&[
            "token",
            "issue",
            "--user-id",
            "u1",
            "--agent-id",
            &t.agent,
            "--expires-in",
            "1h",
        ])
        .await;
    let token = token.trim();
    assert_eq!(
        token.split('.').count(),
        3,
        "a JWT alone on stdout: {token}"
    );

    let verified = cli.json(&["token", "verify", token]).await;
    assert_eq!(verified["valid"], json!(true));
    let user_id = verified["customerUser"]["id"].as_str().unwrap().to_owned();

    let gone = cli.json(&["token", "invalidate", &user_id]).await;
    assert_eq!(gone["newTokenVersion"], json!(1));
    let out = cli.run(&["token", "verify", token]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalidated"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_get_update() {
    let (app, t, _served, cli) = setup().await;
    let ann = app.token(&t, "ann").await["customerUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.token(&t, "bob").await;

    let table = cli.ok(&["users", "list"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(
        lines[1].contains("ann") && lines[2].contains("bob"),
        "{table}"
    );
    assert!(table.contains("2 users in all"), "{table}");

    let page = cli
        .json(&["users", "list", "--external-id", "bob", "--limit", "5"])
        .await;
    assert_eq!(page["pagination"]["total"], json!(1));
    assert_eq!(page["data"][0]["external_id"], json!("bob"));

    let updated = cli
        .json(&[
            "users",
            "update",
            &ann,
            "--name",
            "Ann, \"A\"\nLee",
            "--email",
            "ann@example.com",
            "--metadata",
            r#"{"plan":"pro","seats":2}"#,
        ])
        .await;
    assert_eq!(updated["name"], json!("Ann, \"A\"\nLee"));
    assert_eq!(updated["metadata"], json!({ "plan": "pro", "seats": 2 }));

    let by_email = cli
        .json(&["users", "get", "--email", "ANN@example.com"])
        .await;
    assert_eq!(by_email["id"], json!(ann));
    let text = cli.ok(&["users", "get", &ann]).await;
    assert!(
        text.contains(r#"Ann, "A"\nLee"#),
        "escaped on one line: {text}"
    );

    // Flags override the environment.
    let out = cli
        .run(&["users", "get", &ann, "--key-secret", "sk_wrong"])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Invalid API credentials"));

    let out = cli.run(&["users", "get", "cu_nope"]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    let out = cli.run(&["users", "update", &ann]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to change"));
    let out = cli
        .run(&["users", "update", &ann, "--metadata", "[1]"])
        .await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON object"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_name_the_variable() {
    let out = tokio::task::spawn_blocking(|| {
        Command::new(env!("CARGO_BIN_EXE_performchat"))
            .args(["users", "stats"])
            .env_remove("PERFORMCHAT_KEY_ID")
            .env_remove("PERFORMCHAT_KEY_SECRET")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PERFORMCHAT_KEY_ID"));
}
