//! `users update --merge-metadata`, `users export`, `users stats` and
//! `users bulk-update`: the CLI over the recipes branch's endpoints.

use crate::harness;

use std::process::Command;

use harness::TestApp;
use performchat::store::Backend;
use serde_json::{json, Value};

async fn run(
    url: &str,
    key: &(String, String),
    args: Vec<String>,
    stdin: Option<&std::path::Path>,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_performchat"));
    cmd.args(&args)
        .env("PERFORMCHAT_URL", url)
        .env("PERFORMCHAT_KEY_ID", &key.0)
        .env("PERFORMCHAT_KEY_SECRET", &key.1);
    if let Some(path) = stdin {
        cmd.stdin(std::fs::File::open(path).unwrap());
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_stats_bulk_and_merge() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let url = served.url("");
    let dir = tempfile::tempdir().unwrap();

    let ann = app.token(&t, "ann").await["customerUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.token(&t, "bob").await;
    app.put(
        &format!("/rest/v1/customer-users/{ann}"),
        t.body(json!({ "name": "Lee, \"Ann\"\nSr.", "metadata": { "seats": 1 } })),
    )
    .await
    .assert_ok();

    // Merge keeps the other keys.
    let out = run(
        &url,
        &t.key,
        args(&[
            "--json",
            "users",
            "update",
            &ann,
            "--merge-metadata",
            r#"{"plan":"pro"}"#,
        ]),
        None,
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["metadata"], json!({ "seats": 1, "plan": "pro" }));

    // CSV export to a file: quoting survives, no partial file is left.
    let csv_path = dir.path().join("users.csv");
    let out = run(
        &url,
        &t.key,
        args(&[
            "users",
            "export",
            "--format",
            "csv",
            "--output",
            csv_path.to_str().unwrap(),
        ]),
        None,
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no progress line when stderr is not a terminal"
    );
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.contains("\"Lee, \"\"Ann\"\"\nSr.\""), "{text}");
    assert!(!dir.path().join("users.csv.partial").exists());

    // NDJSON to stdout, filtered.
    let out = run(
        &url,
        &t.key,
        args(&[
            "users",
            "export",
            "--format",
            "ndjson",
            "--external-id",
            "bob",
        ]),
        None,
    )
    .await;
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["external_id"], json!("bob"));

    let out = run(&url, &t.key, args(&["--json", "users", "stats"]), None).await;
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["total"], json!(2));

    // Bulk: 1001 lines → two batches; one item fails, so the exit is non-zero.
    let jsonl = dir.path().join("changes.jsonl");
    let mut body =
        String::from("{\"external_id\":\"bob\",\"metadata_merge\":{\"plan\":\"gold\"}}\n\n");
    body.push_str("{\"external_id\":\"ghost\"}\n");
    for i in 0..999 {
        body.push_str(&format!(
            "{{\"external_id\":\"new_{i}\",\"create\":true}}\n"
        ));
    }
    std::fs::write(&jsonl, body).unwrap();
    let out = run(
        &url,
        &t.key,
        args(&["users", "bulk-update", "--file", jsonl.to_str().unwrap()]),
        None,
    )
    .await;
    assert!(!out.status.success());
    let report = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 1001);
    assert_eq!(lines[0], "updated  bob");
    assert!(lines[1].starts_with("failed   ghost: "), "{}", lines[1]);
    assert_eq!(lines[1000], "created  new_998");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("1 updated, 999 created, 1 failed"),
        "{stderr}"
    );

    // A bad line stops everything before anything is sent; stdin works.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"external_id\":\"bob\",\"active\":false}\n{\"externalId\":\"x\"}\n",
    )
    .unwrap();
    let out = run(
        &url,
        &t.key,
        args(&["users", "bulk-update", "--file", "-"]),
        Some(&bad),
    )
    .await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    let bob = app
        .get("/rest/v1/customer-users?external_id=bob", t.creds())
        .await;
    assert_eq!(bob.assert_ok()["data"][0]["active"], json!(true));
}
