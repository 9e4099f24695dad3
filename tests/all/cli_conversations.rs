//! `performchat conversations …` run as a user would: the real binary over
//! HTTP against a served app, credentials from the environment; and the
//! admin CLI's agent model flags.

use crate::harness;
use crate::harness::chat;
use crate::harness::cli::run_api as run;

use std::process::Command;

use serde_json::{json, Value};

use harness::TestApp;
use performchat::store::{Backend, TenantStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_list_get_and_messages_over_http() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let (token, user) = chat::chat_token(&app, &t, &t.agent, "u1").await;
    let conv = chat::new_conversation(&app, &token, json!({})).await;
    assert_eq!(
        chat::say(&app, &token, &conv, "Where is my order?")
            .await
            .status,
        201
    );
    let served = app.serve().await;
    let url = served.url("");

    let (ok, out, err) = run(
        &url,
        &t.key,
        &[
            "--json",
            "conversations",
            "list",
            "--customer-user-id",
            &user,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let page: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(page["data"][0]["id"], json!(conv));
    assert_eq!(page["pagination"]["total"], 1);

    let (ok, out, err) = run(&url, &t.key, &["conversations", "get", &conv]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Where is my order?") && out.contains("message_count    2"),
        "{out}"
    );

    let (ok, out, err) = run(&url, &t.key, &["conversations", "messages", &conv]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("user: Where is my order?") && out.contains("assistant: No language model"),
        "{out}"
    );

    let (ok, _, err) = run(&url, &t.key, &["conversations", "get", "conv_missing"]).await;
    assert!(!ok && err.contains("Conversation not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_create_and_update_set_the_model_and_the_rest() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let db = app.db.url.clone();
    let admin = |args: Vec<String>| {
        let db = db.clone();
        async move {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_performchat"));
            cmd.arg("--database-url").arg(&db).arg("--json").args(&args);
            let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let (ok, out, err) = admin(s(&[
        "agent",
        "create",
        "--company",
        &t.company,
        "--name",
        "Bot",
        "--llm-url",
        "http://127.0.0.1:11434/v1",
        "--llm-model",
        "llama3.2",
    ]))
    .await;
    assert!(ok, "{err}");
    let agent: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(agent["llm_url"], "http://127.0.0.1:11434/v1");
    assert_eq!(agent["llm_model"], "llama3.2");
    let id = agent["id"].as_str().unwrap().to_owned();

    let (ok, out, err) = admin(s(&[
        "agent",
        "update",
        "--company",
        &t.company,
        &id,
        "--name",
        "Helper",
        "--prompt-template",
        "Be brief.",
        "--llm-model",
        "qwen2.5",
        "--inactive",
    ]))
    .await;
    assert!(ok, "{err}");
    let updated: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(updated["name"], "Helper");
    assert_eq!(updated["llm_model"], "qwen2.5");
    assert_eq!(
        updated["llm_url"], "http://127.0.0.1:11434/v1",
        "left out, kept"
    );
    let stored = app.store.get_agent(&t.company, &id).await.unwrap().unwrap();
    assert!(!stored.active);
    assert_eq!(stored.prompt_template.as_deref(), Some("Be brief."));

    let (ok, _, _) = admin(s(&[
        "agent",
        "update",
        "--company",
        &t.company,
        &id,
        "--clear-llm",
        "--active",
    ]))
    .await;
    assert!(ok);
    let stored = app.store.get_agent(&t.company, &id).await.unwrap().unwrap();
    assert!(stored.active && stored.llm_url.is_none() && stored.llm_model.is_none());

    let (ok, _, err) = admin(s(&[
        "agent",
        "create",
        "--company",
        &t.company,
        "--name",
        "Bad",
        "--llm-url",
        "ftp://x",
        "--llm-model",
        "m",
    ]))
    .await;
    assert!(!ok && err.contains("must be an http"), "{err}");
    let (ok, _, err) = admin(s(&[
        "agent",
        "create",
        "--company",
        &t.company,
        "--name",
        "Half",
        "--llm-url",
        "http://127.0.0.1:1/v1",
    ]))
    .await;
    assert!(!ok && err.contains("needs --llm-model"), "{err}");
    let (ok, _, err) = admin(s(&[
        "agent",
        "update",
        "--company",
        &t.company,
        "agent_nope",
        "--name",
        "X",
    ]))
    .await;
    assert!(!ok && err.contains("no agent"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performchat_chat_streams_replies_in_the_terminal() {
    use std::io::Write;
    use std::process::Stdio;
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let (token, _) = chat::chat_token(&app, &t, &t.agent, "u1").await;
    let served = app.serve().await;
    let url = served.url("");
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_performchat"))
            .args(["chat", "--url", &url])
            .env("PERFORMCHAT_CHAT_TOKEN", &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"hello there\n\nsecond\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("No language model is configured").count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("\"hello there\""), "{stdout}");
    let listed = app.get("/rest/v1/conversations", t.creds()).await;
    assert_eq!(listed.assert_ok()["data"][0]["message_count"], 4);
}
