//! A SQLite database holds the chat-token signing secret: the files the
//! server creates for it (the database, `-wal`, `-shm`) and a backup's copy
//! are readable by their owner only, whatever the umask.

use crate::harness::nodes;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nodes::{cli, Node};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_are_the_owners_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", file.display());
    // The server creates the file, migrates it and writes the signing secret.
    let node = Node::start(&url).await;
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.path().join(format!("fresh.db{suffix}"));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    drop(node);

    let copy = dir.path().join("copy.db");
    cli(&url, &["backup", "--to", copy.to_str().unwrap()]);
    assert_eq!(mode(&copy), 0o600, "the backup holds the secret too");
}
