//! No secret in a log line: the server's startup log names its model server,
//! rate-limit store and database with their passwords replaced.

use crate::harness;
use crate::harness::nodes;

use harness::TestDb;
use nodes::{free_port, wait_for_log, Node};
use performchat::store::Backend;

const SECRETS: [&str; 3] = ["model-pw-1", "redis-pw-2", "db-pw-3"];

/// Starts a server on `database_url` whose model and Redis URLs carry
/// passwords (Redis on a port where nothing listens, so its outage is logged
/// too), and returns its log once it is serving.
async fn startup_log(database_url: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let model = format!("http://user:{}@127.0.0.1:{}/v1", SECRETS[0], free_port());
    let redis = format!("redis://:{}@127.0.0.1:{}", SECRETS[1], free_port());
    let args = [
        "--llm-url",
        &model,
        "--llm-model",
        "m",
        "--rate-limit-store",
        &redis,
    ];
    let file = std::fs::File::create(&log).unwrap();
    let node = Node::start_logging(database_url, &args, &file).await;
    let text = wait_for_log(&log, "listening on");
    drop(node);
    text
}

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    assert!(
        text.contains("user:***@127.0.0.1"),
        "the model URL is still named:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_startup_log_hides_passwords() {
    let db = TestDb::new(Backend::Sqlite).await;
    assert_no_secret(&startup_log(&db.url).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn postgres_startup_log_hides_passwords() {
    let db = TestDb::new(Backend::Postgres).await;
    // The test server trusts local connections: the password is only carried.
    let url = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{}@", SECRETS[2]),
        1,
    );
    assert!(url.contains(SECRETS[2]), "{url}");
    assert_no_secret(&startup_log(&url).await);
}
