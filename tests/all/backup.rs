//! `performchat backup`: a copy taken while a real server keeps writing holds
//! every write acknowledged before the backup began, and restores into a
//! working server.

use crate::harness;
use crate::harness::nodes;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::Notify;

use harness::TestDb;
use nodes::{cli, cli_output, CliTenant, Node};
use performchat::store::Backend;

const WRITERS: usize = 3;

/// Issues tokens for new users until told to stop; records each acknowledged one.
async fn write_until_stopped(
    base: String,
    tenant: Arc<CliTenant>,
    acked: Arc<Mutex<HashSet<String>>>,
    progress: Arc<Notify>,
    stop: Arc<AtomicBool>,
    writer: usize,
) {
    let client = reqwest::Client::new();
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let user = format!("w{writer}-{i}");
        let res = client
            .post(format!("{base}/rest/v1/auth/token"))
            .json(&tenant.body(json!({ "userId": user, "agentId": tenant.agent })))
            .send()
            .await
            .expect("the server is up throughout");
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
        acked.lock().unwrap().insert(user);
        progress.notify_one();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_every_acknowledged_write() {
    let db = TestDb::new(Backend::Sqlite).await;
    let tenant = Arc::new(CliTenant::create(&db.url, "Backed"));
    // Rate limits are not under test here; the writers outrun them on purpose.
    let node = Node::start_with(&db.url, &["--rate-limits", "off"]).await;
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let progress = Arc::new(Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_until_stopped(
                node.base.clone(),
                Arc::clone(&tenant),
                Arc::clone(&acked),
                Arc::clone(&progress),
                Arc::clone(&stop),
                w,
            ))
        })
        .collect();

    // Some load first, so the copy is taken with writes landing around it.
    while acked.lock().unwrap().len() < 100 {
        progress.notified().await;
    }
    let before: HashSet<String> = acked.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let (url, to) = (db.url.clone(), copy.display().to_string());
    let report = tokio::task::spawn_blocking(move || cli(&url, &["backup", "--to", &to]))
        .await
        .unwrap();
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer");
    }
    assert_eq!(report["integrity_check"], json!("ok"), "{report}");
    assert!(report["bytes"].as_u64().unwrap() > 0, "{report}");

    // Restore as an operator would: point a server at the copy.
    let restored_url = format!("sqlite://{}", copy.display());
    let restored = Node::start(&restored_url).await;
    let users: HashSet<String> = restored
        .all_users(&tenant.key)
        .await
        .iter()
        .map(|u| u["external_id"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<&String> = before.difference(&users).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing from it: {lost:?}"
    );
    let total = acked.lock().unwrap().len();
    println!(
        "backup: {} writes acknowledged before it began, all restored; {during} more acknowledged \
         while it ran; the copy holds {} of {total} users",
        before.len(),
        users.len(),
    );

    // The live server never stopped.
    let (status, body) = node
        .get("/rest/v1/customer-users?limit=1", &tenant.key)
        .await;
    assert_eq!(status, 200, "{body}");
}

#[test]
fn backup_refuses_postgres_and_points_at_pg_dump() {
    let out = cli_output(
        "postgres://postgres@127.0.0.1:5432/postgres",
        &["backup", "--to", "/tmp/prove-never-written.db"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!std::path::Path::new("/tmp/prove-never-written.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_never_overwrites_a_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("taken.db");
    std::fs::write(&target, b"precious").unwrap();
    let out = cli_output(&db.url, &["backup", "--to", &target.display().to_string()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    // Nothing left behind either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
