//! `users bulk-update`: JSON lines in, one report line per item out.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{bail, Context};
use performchat_client::{BulkResult, BulkUpdate, Client, BULK_MAX};

use crate::cli::output::{one_line, print};

#[derive(clap::Args, Debug)]
pub struct BulkArgs {
    /// JSON lines, one change per line: {"external_id": "…", "name"?,
    /// "email"?, "metadata_merge"?: {…}, "active"?, "create"?: true}.
    /// `-` reads stdin.
    #[arg(long)]
    file: PathBuf,
}

pub async fn run(client: &Client, args: &BulkArgs, as_json: bool) -> anyhow::Result<()> {
    // Every line is checked before anything is sent, so a typo on line 5000
    // does not leave the first 4000 applied.
    let items = read_items(&args.file)?;
    if items.is_empty() {
        bail!("{} has no changes in it", args.file.display());
    }
    let (mut updated, mut created, mut failed) = (0usize, 0usize, 0usize);
    for (batch_no, batch) in items.chunks(BULK_MAX).enumerate() {
        let updates: Vec<BulkUpdate> = batch.iter().map(|(_, u)| u.clone()).collect();
        let results = client.bulk_update(&updates).await.with_context(|| {
            let first_line = batch[0].0;
            if batch_no == 0 {
                format!("the batch starting at line {first_line} failed; nothing was applied")
            } else {
                format!("the batch starting at line {first_line} failed; the lines before it were applied")
            }
        })?;
        for r in &results {
            match (r.success, r.created) {
                (true, Some(true)) => created += 1,
                (true, _) => updated += 1,
                (false, _) => failed += 1,
            }
            report(r, as_json)?;
        }
    }
    eprintln!("{updated} updated, {created} created, {failed} failed");
    if failed > 0 {
        bail!("{failed} of {} changes failed", items.len());
    }
    Ok(())
}

fn report(r: &BulkResult, as_json: bool) -> anyhow::Result<()> {
    print(as_json, r, || {
        let id = one_line(&r.external_id);
        match (r.success, r.created) {
            (true, Some(true)) => format!("created  {id}"),
            (true, _) => format!("updated  {id}"),
            (false, _) => format!(
                "failed   {id}: {}",
                one_line(r.error.as_deref().unwrap_or("no reason given"))
            ),
        }
    })
}

/// The changes with their line numbers; blank lines are skipped.
fn read_items(path: &PathBuf) -> anyhow::Result<Vec<(usize, BulkUpdate)>> {
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )
    };
    let mut items = Vec::new();
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line_no = i + 1;
        let line = line.with_context(|| format!("reading line {line_no}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let item: BulkUpdate = serde_json::from_str(&line)
            .with_context(|| format!("line {line_no} is not a valid change"))?;
        items.push((line_no, item));
    }
    Ok(items)
}
