//! `performchat events tail` and `performchat webhooks …` run as a user
//! would: the real binary over HTTP against a served app, credentials from
//! the environment.

use crate::harness;
use crate::harness::cli::run_api as run;

use serde_json::{json, Value};

use harness::TestApp;
use performchat::app::Config;
use performchat::outbound::OutboundRule;
use performchat::store::Backend;

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_resumes_from_its_cursor_file() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    for i in 0..3 {
        app.token(&t, &format!("u{i}")).await;
    }
    let served = app.serve().await;
    let url = served.url("");
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor");
    let cursor = cursor.to_str().unwrap();
    let tail = ["events", "tail", "--once", "--cursor-file", cursor];

    let (ok, out, err) = run(&url, &t.key, &tail).await;
    assert!(ok, "{err}");
    let first = lines(&out);
    assert_eq!(first.len(), 3);
    assert_eq!(first[0]["type"], json!("customer_user.created"));
    assert_eq!(
        std::fs::read_to_string(cursor).unwrap(),
        first[2]["id"].as_str().unwrap()
    );

    app.token(&t, "u3").await;
    let (ok, out, err) = run(&url, &t.key, &tail).await;
    assert!(ok, "{err}");
    let next = lines(&out);
    assert_eq!(next.len(), 1, "only the new event: {out}");
    assert_eq!(next[0]["data"]["external_id"], json!("u3"));

    let (ok, out, _) = run(
        &url,
        &t.key,
        &["events", "tail", "--once", "--type", "tokens.invalidated"],
    )
    .await;
    assert!(ok && out.is_empty(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_add_list_rotate_and_deliveries() {
    let config = Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    };
    let app = TestApp::with_config(Backend::Sqlite, config).await;
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let url = served.url("");
    let add = [
        "--json",
        "webhooks",
        "add",
        "http://127.0.0.1:9/h",
        "--events",
        "customer_user.created,message.created",
    ];
    let (ok, out, err) = run(&url, &t.key, &add).await;
    assert!(ok, "{err}");
    let made: Value = serde_json::from_str(&out).unwrap();
    let id = made["id"].as_str().unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        made["events"],
        json!(["customer_user.created", "message.created"])
    );

    let (ok, out, err) = run(&url, &t.key, &["webhooks", "list"]).await;
    assert!(
        ok && out.contains(id) && !out.contains(made["secret"].as_str().unwrap()),
        "{out}{err}"
    );
    let (ok, out, err) = run(&url, &t.key, &["--json", "webhooks", "rotate", id]).await;
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(&out).unwrap();
    assert_ne!(rotated["secret"], made["secret"]);
    let (ok, out, err) = run(&url, &t.key, &["--json", "webhooks", "deliveries", id]).await;
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["data"],
        json!([])
    );

    let (ok, _, err) = run(
        &url,
        &t.key,
        &["webhooks", "add", "https://10.0.0.1/", "--events", "*"],
    )
    .await;
    assert!(!ok && err.contains("url"), "{err}");
}
