//! `performchat users erase` and `performchat users export <id>`, run as a
//! user would run them: the real binary against a served app.

use crate::harness;

use harness::cli::Cli;
use harness::TestApp;
use performchat::store::Backend;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_export_one_user_then_erase_them() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let cli = Cli {
        url: served.url(""),
        key: t.key.clone(),
    };
    let (token, user) = harness::chat::chat_token(&app, &t, &t.agent, "leon").await;
    let conv = harness::chat::new_conversation(&app, &token, json!({})).await;
    let r = harness::chat::say(&app, &token, &conv, "Where is my parcel?").await;
    assert_eq!(r.status, 201, "{}", r.text);

    // To stdout, and to a file.
    let doc: Value = serde_json::from_str(&cli.ok(&["users", "export", &user]).await).unwrap();
    assert_eq!(doc["customer_user"]["external_id"], json!("leon"));
    assert_eq!(doc["conversations"][0]["id"], json!(conv));
    assert_eq!(
        doc["conversations"][0]["messages"][0]["content"],
        json!("Where is my parcel?")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leon.json");
    let out = cli
        .ok(&["users", "export", &user, "--out", file.to_str().unwrap()])
        .await;
    assert_eq!(out, "");
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["conversations"], doc["conversations"]);
    // An id and the list's options do not mix.
    let mixed = cli
        .run(&["users", "export", &user, "--format", "ndjson"])
        .await;
    assert!(!mixed.status.success());
    // Unknown: an error, and no file left behind.
    let missing = dir.path().join("missing.json");
    let out = cli
        .run(&[
            "users",
            "export",
            "cu_missing",
            "--out",
            missing.to_str().unwrap(),
        ])
        .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not found"),
        "{out:?}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "only leon.json"
    );

    // Nobody at the terminal to confirm: refused without --yes.
    let refused = cli.run(&["users", "erase", &user]).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--yes"),
        "{refused:?}"
    );
    app.get(&format!("/rest/v1/customer-users/{user}"), t.creds())
        .await
        .assert_ok();

    let erased = cli.json(&["users", "erase", &user, "--yes"]).await;
    assert_eq!(
        erased,
        json!({ "id": user, "external_id": "leon", "erased": true })
    );
    app.get(&format!("/rest/v1/customer-users/{user}"), t.creds())
        .await
        .assert_error(404);
    let again = cli.run(&["users", "erase", &user, "--yes"]).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not found"),
        "{again:?}"
    );
}
