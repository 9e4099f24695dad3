//! `migrate-store`: moves a whole store between SQLite and PostgreSQL.

use std::io::Write;

use serde_json::json;

use super::output::print;
use crate::domain::DatabaseUrl;
use crate::store::{copy_store, ConnectOptions, Progress, SqlStore};

#[derive(clap::Args, Debug)]
pub struct MigrateStoreArgs {
    /// Database to copy from: sqlite://FILE or postgres://USER@HOST/DB. It is only read.
    #[arg(long)]
    pub from: DatabaseUrl,

    /// Database to copy into. It must hold no companies, agents, keys or users;
    /// it is created (SQLite) and its schema set up when needed.
    #[arg(long)]
    pub to: DatabaseUrl,
}

pub async fn run(args: &MigrateStoreArgs, pool_size: u32, as_json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.from != args.to,
        "--from and --to name the same database"
    );
    // The source is never created (that would "copy" an empty database).
    let source = ConnectOptions {
        pool_size,
        ..ConnectOptions::default()
    };
    let target = ConnectOptions {
        pool_size,
        create: true,
        ..ConnectOptions::default()
    };
    let from = open("source (--from)", &args.from, &source).await?;
    let to = open("target (--to)", &args.to, &target).await?;
    eprintln!(
        "copying {} -> {}",
        super::redact(&args.from),
        super::redact(&args.to)
    );

    let mut last_shown = (String::new(), 0u64);
    let mut show = |p: Progress<'_>| {
        // One line per 10 000 rows keeps the output readable for millions of users.
        let table_done = p.copied == p.total;
        if last_shown.0 != p.table || table_done || p.copied - last_shown.1 >= 10_000 {
            eprintln!("  {:<15} {:>10} / {}", p.table, p.copied, p.total);
            let _ = std::io::stderr().flush();
            last_shown = (p.table.to_owned(), p.copied);
        }
    };
    let result = copy_store(&from, &to, &mut show).await;
    from.close().await;
    to.close().await;
    let report = result?;

    let tables: serde_json::Map<String, serde_json::Value> = report
        .tables
        .iter()
        .map(|(name, n)| (name.clone(), json!(n)))
        .collect();
    print(
        as_json,
        &json!({ "copied": tables, "verified": true }),
        || {
            let summary: Vec<String> = report
                .tables
                .iter()
                .map(|(name, n)| format!("{n} {name}"))
                .collect();
            format!("copied and verified: {}", summary.join(", "))
        },
    )
}

async fn open(role: &str, url: &str, options: &ConnectOptions) -> anyhow::Result<SqlStore> {
    SqlStore::connect(url, options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the {role} database {}: {e:#}",
            super::redact(url)
        )
    })
}
