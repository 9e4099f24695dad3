//! `performchat backup`: a consistent copy of a live SQLite database.
//!
//! `VACUUM INTO` reads the database inside one read transaction, so the copy
//! is the database as of one moment, and in WAL mode that reader never blocks
//! the server's writer. The copy is written beside the target under a
//! temporary name, synced, checked and only then renamed into place, so a
//! crash or a full disk never leaves a half-written file under the name the
//! operator asked for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection};

use super::dialect::{sqlite_options, Backend, ConnectOptions};

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Refusals name the tool to use instead, or the reason, before any work.
pub async fn backup_sqlite(url: &str, to: &Path) -> anyhow::Result<BackupReport> {
    if Backend::of_url(url)? == Backend::Postgres {
        anyhow::bail!(
            "backup copies SQLite databases only; for PostgreSQL use pg_dump, which takes a consistent \
             copy of a live database: pg_dump --format=custom --file=performchat.dump 'postgres://USER@HOST/DB' \
             (restore with pg_restore into an empty database)"
        );
    }
    let target = std::path::absolute(to)?;
    if target.exists() {
        anyhow::bail!(
            "{} already exists: backup never overwrites a file; choose a new name or remove it first",
            target.display()
        );
    }
    let folder = target
        .parent()
        .filter(|f| f.is_dir())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot write {}: its folder does not exist",
                target.display()
            )
        })?
        .to_path_buf();

    let (options, _) = sqlite_options(url, &ConnectOptions::default())?;
    let source = options.get_filename().to_path_buf();
    let mut conn = options
        // The server may be mid-write or checkpointing: wait for it.
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("opening {}: {e}", source.display()))?;

    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = folder.join(format!(".{name}.partial-{}", ulid::Ulid::new()));
    let result = write_copy(&mut conn, &partial, &target).await;
    let _ = conn.close().await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    sync_folder(&folder);
    Ok(BackupReport {
        bytes: std::fs::metadata(&target)?.len(),
        path: target,
    })
}

async fn write_copy(
    conn: &mut sqlx::SqliteConnection,
    partial: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    // The copy holds the signing secret too: owner-only, like the database.
    super::private_file::create_private(partial)?;
    sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut *conn)
        .await
        .map_err(|e| anyhow::anyhow!("copying into {}: {e}", partial.display()))?;
    // VACUUM INTO does not sync what it wrote.
    std::fs::File::open(partial)?.sync_all()?;
    check(partial).await?;
    // No overwrite, even if the name appeared meanwhile.
    std::fs::hard_link(partial, target)
        .map_err(|e| anyhow::anyhow!("naming the copy {}: {e}", target.display()))?;
    std::fs::remove_file(partial)?;
    Ok(())
}

/// The copy must open and pass SQLite's own full check before it is named.
async fn check(path: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    let _ = conn.close().await;
    anyhow::ensure!(
        verdict == "ok",
        "the copy failed SQLite's integrity check: {verdict}"
    );
    Ok(())
}

/// Makes the new name itself durable; best effort (not every filesystem allows it).
fn sync_folder(folder: &Path) {
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}
