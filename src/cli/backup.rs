//! `backup --to FILE`: a consistent copy of the live SQLite database.

use std::path::PathBuf;

use serde_json::json;

use super::output::print;
use super::{Cli, DbArgs};

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// File to write the copy to; it must not exist yet. The server may keep
    /// running and writing meanwhile.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

pub async fn run(cli: &Cli, args: &BackupArgs, as_json: bool) -> anyhow::Result<()> {
    let url = args.db.database_url.as_deref().unwrap_or(&cli.database_url);
    let report = crate::store::backup_sqlite(url, &args.to).await?;
    let value = json!({ "backup": report.path.display().to_string(), "bytes": report.bytes, "integrity_check": "ok" });
    print(as_json, &value, || {
        format!(
            "backed up {} to {} ({} bytes, integrity check ok)",
            super::redact(url),
            report.path.display(),
            report.bytes
        )
    })
}
