//! A large export from a real server process: every one of 100 000 users, in
//! list order, while the server's peak memory grows by far less than the size
//! of the export (it streams; it does not build the file in memory).

use crate::harness;
use crate::harness::nodes;

use futures::StreamExt;
use sqlx::Connection;

use harness::TestDb;
use nodes::{CliTenant, Node};
use performchat::store::Backend;

const USERS: usize = 100_000;
/// Bytes of metadata per user, so the export (~110 MiB) dwarfs the bound below.
const BLOB: usize = 1000;
const MEMORY_BOUND_KIB: u64 = 48 * 1024;

/// Inserts the users in one statement: through the API this would take minutes.
/// Names carry the characters CSV must quote.
async fn seed(url: &str, company: &str) {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
         INSERT INTO customer_users (company_id, id, external_id, name, name_folded, email, email_folded, \
             metadata, active, token_version, created_at, updated_at, last_seen_at) \
         SELECT $1, printf('cu_%08d', i), printf('ext-%06d', i), \
             printf('Doe, \"J\" %d' || char(10) || 'the %d', i, i), lower(printf('Doe, \"J\" %d' || char(10) || 'the %d', i, i)), \
             NULL, NULL, json_object('blob', replace(hex(zeroblob($3 / 2)), '00', 'xy'), 'n', i), \
             i % 3 != 0, 0, 1700000000000 + i, 1700000000000 + i, NULL FROM n",
    )
    .bind(company)
    .bind(USERS as i64)
    .bind(BLOB as i64)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// Peak resident memory of a process so far (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_100k_users_is_complete_ordered_and_streamed_in_bounded_memory() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = CliTenant::create(&db.url, "Big");
    seed(&db.url, &t.company).await;
    let node = Node::start(&db.url).await;
    let http = reqwest::Client::new();
    let url = format!("{}/rest/v1/customer-users/export?format=csv", node.base);

    // Warm up (pools, statement caches, allocator) before taking the baseline.
    let warm = http
        .get(format!("{}/rest/v1/customer-users", node.base))
        .basic_auth(&t.key.0, Some(&t.key.1))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let before = peak_rss_kib(node.pid());

    let res = http
        .get(&url)
        .basic_auth(&t.key.0, Some(&t.key.1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = Vec::new();
    let mut chunks = res.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk.expect("the export must arrive whole"));
    }
    let grown = peak_rss_kib(node.pid()).saturating_sub(before);
    eprintln!(
        "export: {} KiB; server peak memory grew by {grown} KiB",
        body.len() / 1024
    );
    let size_kib = body.len() as u64 / 1024;
    assert!(
        size_kib > 100 * 1024,
        "the export should be over 100 MiB, was {size_kib} KiB"
    );
    assert!(
        grown < MEMORY_BOUND_KIB,
        "server peak memory grew by {grown} KiB for a {size_kib} KiB export"
    );

    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "external_id",
            "name",
            "email",
            "active",
            "created_at",
            "last_seen_at",
            "metadata"
        ]
    );
    let blob = "xy".repeat(BLOB / 2);
    let mut count = 0;
    for (n, row) in reader.records().enumerate() {
        let row = row.expect("well-formed CSV");
        let i = n + 1;
        assert_eq!(&row[0], format!("cu_{i:08}"), "row {i} out of order");
        assert_eq!(&row[1], format!("ext-{i:06}"));
        assert_eq!(&row[2], format!("Doe, \"J\" {i}\nthe {i}"));
        assert_eq!(&row[3], "");
        assert_eq!(&row[4], if i % 3 != 0 { "true" } else { "false" });
        assert_eq!(&row[6], "");
        let metadata: serde_json::Value = serde_json::from_str(&row[7]).unwrap();
        assert_eq!(metadata, serde_json::json!({ "blob": blob, "n": i }));
        count += 1;
    }
    assert_eq!(count, USERS);
}
