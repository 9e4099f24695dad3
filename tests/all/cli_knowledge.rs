//! `performchat knowledge …`, run as a user would run it: the real binary
//! against a served app, credentials from the environment.

use crate::harness;

use std::path::Path;

use harness::cli::Cli;
use harness::TestApp;
use performchat::store::Backend;
use serde_json::{json, Value};

async fn served(app: &TestApp) -> (harness::Tenant, harness::Served, Cli) {
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let cli = Cli {
        url: served.url(""),
        key: t.key.clone(),
    };
    (t, served, cli)
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_list_get_search_delete() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (t, _served, cli) = served(&app).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "refunds.md",
        "intro line\n# Refund policy\n\n## Timing\n\nRefunds reach your card within five working days.\n",
    );
    let file = dir.path().join("refunds.md");
    let added = cli
        .json(&[
            "knowledge",
            "add",
            file.to_str().unwrap(),
            "--doc-url",
            "https://help.example/refunds",
            "--agent",
            &t.agent,
        ])
        .await;
    assert_eq!(added["title"], json!("Refund policy"), "first # heading");
    assert_eq!(added["content_type"], json!("text/markdown"));
    assert_eq!(added["agent_ids"], json!([t.agent]));
    let id = added["id"].as_str().unwrap().to_owned();

    let text = cli
        .ok(&[
            "knowledge",
            "add",
            "--text",
            "Gift cards never expire.",
            "--title",
            "Gift cards",
            "--external-id",
            "gift",
        ])
        .await;
    assert!(text.starts_with("created doc_"), "{text}");
    let again = cli
        .ok(&[
            "knowledge",
            "add",
            "--text",
            "Gift cards expire after ten years.",
            "--title",
            "Gift cards",
            "--external-id",
            "gift",
        ])
        .await;
    assert!(again.starts_with("replaced doc_"), "an upsert: {again}");

    let table = cli.ok(&["knowledge", "list"]).await;
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("Refund policy") && table.contains("gift"),
        "{table}"
    );
    assert!(table.contains("2 documents in all"), "{table}");

    let shown = cli.ok(&["knowledge", "get", &id]).await;
    assert!(shown.contains("https://help.example/refunds"), "{shown}");
    assert!(shown.contains("within five working days"), "{shown}");

    let found = cli
        .ok(&[
            "knowledge",
            "search",
            "how long do refunds take",
            "--agent",
            &t.agent,
        ])
        .await;
    assert!(found.starts_with("1. "), "{found}");
    assert!(found.contains("Timing") && found.contains(&id), "{found}");
    let hits = cli
        .json(&["knowledge", "search", "expire", "--limit", "1"])
        .await;
    assert_eq!(hits["data"].as_array().unwrap().len(), 1);
    assert!(hits["data"][0]["text"]
        .as_str()
        .unwrap()
        .contains("ten years"));

    cli.ok(&["knowledge", "delete", &id]).await;
    let out = cli.run(&["knowledge", "get", &id]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_refuses_what_it_cannot_send() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (_t, _served, cli) = served(&app).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tool.exe", "MZ");
    let out = cli
        .run(&[
            "knowledge",
            "add",
            dir.path().join("tool.exe").to_str().unwrap(),
        ])
        .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a .md, .html, .pdf or .txt file"), "{err}");
    let out = cli.run(&["knowledge", "add", "--text", "No title"]).await;
    assert!(!out.status.success(), "--text without --title");
}

backend_tests! {
    async fn sync_mirrors_a_folder_and_deletes_only_its_own_documents(app) {
        let (t, _served, cli) = served(&app).await;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("help");
        write(&dir, "refunds.md", "# Refunds\n\nWithin thirty days of delivery.\n");
        write(&dir, "guides/setup.html", "<html><head><title>Setup guide</title></head><body><h1>Setup</h1><p>Plug the kettle in.</p></body></html>");
        write(&dir, "notes.txt", "Opening hours: nine to five.");
        write(&dir, "src/main.rs", "fn main() {}");
        write(&dir, ".drafts/secret.md", "# Draft\n\nNot yet.");
        let dir_arg = dir.to_str().unwrap();

        // Documents a sync must leave alone: one added by hand, and one whose
        // external id merely looks like the folder's.
        let by_hand = cli.json_quiet(&["knowledge", "add", "--text", "Kept.", "--title", "By hand"]).await;
        let look_alike = cli
            .json(&["knowledge", "add", "--text", "Kept too.", "--title", "Look-alike", "--external-id", "help/gone.md"])
            .await;

        let first = cli
            .json(&["knowledge", "sync", dir_arg, "--url-base", "https://help.example/", "--agent", &t.agent])
            .await;
        assert_eq!(first["source"], json!("help"));
        assert_eq!(sorted(&first["created"]), ["guides/setup.html", "notes.txt", "refunds.md"]);
        assert_eq!(first["deleted"], json!([]));
        assert_eq!(first["failed"], json!([]));

        let listed = cli.json_quiet(&["knowledge", "list", "--limit", "100"]).await;
        let docs = listed["data"].as_array().unwrap();
        assert_eq!(docs.len(), 5, "{listed}");
        let setup = docs.iter().find(|d| d["external_id"] == json!("help/guides/setup.html")).unwrap();
        assert_eq!(setup["title"], json!("Setup guide"), "the HTML <title>");
        assert_eq!(setup["url"], json!("https://help.example/guides/setup.html"));
        assert_eq!(setup["content_type"], json!("text/html"));
        assert_eq!(setup["agent_ids"], json!([t.agent]));
        assert_eq!(setup["metadata"]["sync_source"], json!("help"));

        let second = cli.json_quiet(&["knowledge", "sync", dir_arg, "--url-base", "https://help.example", "--agent", &t.agent]).await;
        assert_eq!(sorted(&second["unchanged"]), ["guides/setup.html", "notes.txt", "refunds.md"]);
        assert_eq!(second["created"], json!([]));
        assert_eq!(second["updated"], json!([]));

        write(&dir, "refunds.md", "# Refunds\n\nWithin sixty days of delivery.\n");
        std::fs::remove_file(dir.join("notes.txt")).unwrap();
        let third = cli.json_quiet(&["knowledge", "sync", dir_arg, "--url-base", "https://help.example", "--agent", &t.agent]).await;
        assert_eq!(third["updated"], json!(["refunds.md"]));
        assert_eq!(third["deleted"], json!(["notes.txt"]));
        assert_eq!(third["unchanged"], json!(["guides/setup.html"]));

        let hits = cli.json_quiet(&["knowledge", "search", "sixty days"]).await;
        assert_eq!(hits["data"][0]["title"], json!("Refunds"));
        let old = cli.json_quiet(&["knowledge", "search", "thirty"]).await;
        assert_eq!(old["data"], json!([]), "the old text is gone");
        let listed = cli.json_quiet(&["knowledge", "list", "--limit", "100"]).await;
        let ids: Vec<&Value> = listed["data"].as_array().unwrap().iter().map(|d| &d["id"]).collect();
        assert_eq!(ids.len(), 4);
        assert!(ids.contains(&&by_hand["id"]) && ids.contains(&&look_alike["id"]), "{listed}");

        // A human summary when not --json.
        let text = cli.ok(&["knowledge", "sync", dir_arg, "--url-base", "https://help.example", "--agent", &t.agent]).await;
        assert!(text.trim_end().ends_with("help: 0 created, 0 updated, 2 unchanged, 0 deleted, 0 failed"), "{text}");
    }
}
