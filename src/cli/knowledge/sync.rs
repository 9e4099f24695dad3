//! `performchat knowledge sync DIR`: a folder kept in git (a help centre) made
//! the knowledge base's copy of it, in one command that can run on every push.
//!
//! Each file's external id is `SOURCE/relative/path` (SOURCE defaults to the
//! folder's name), and its metadata records `sync_source`, `sync_path` and
//! `sync_sha256`. A document counts as made by a sync of SOURCE only when
//! both its external id starts with `SOURCE/` and its `sync_source` is SOURCE,
//! so a document added by hand (or by a sync of another folder) is never
//! deleted. A file whose hash, title, URL and agents are unchanged is not
//! uploaded again.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use performchat_client::{Client, Metadata};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{content_type_of, file_document};
use crate::cli::output::show;

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// The folder; every .md, .markdown, .html, .htm, .pdf and .txt file under it
    /// (hidden files and folders skipped).
    dir: PathBuf,
    /// What this folder's documents are recognised by [default: the folder's name].
    #[arg(long)]
    source: Option<String>,
    /// Public address of the folder: each document's url is this plus its relative path.
    #[arg(long, value_name = "URL")]
    url_base: Option<String>,
    /// An agent that may use the documents (repeat for several) [default: every agent].
    #[arg(long = "agent", value_name = "AGENT_ID")]
    agents: Vec<String>,
}

/// What a sync did, file by file.
#[derive(Debug, Default, Serialize)]
struct Report {
    source: String,
    created: Vec<String>,
    updated: Vec<String>,
    unchanged: Vec<String>,
    deleted: Vec<String>,
    failed: Vec<Failure>,
}

#[derive(Debug, Serialize)]
struct Failure {
    path: String,
    error: String,
}

/// A document an earlier sync of this source made.
struct Known {
    id: String,
    sha256: Option<String>,
}

pub async fn run(client: &Client, args: &SyncArgs, as_json: bool) -> anyhow::Result<()> {
    let source = match &args.source {
        Some(s) => s.clone(),
        None => folder_name(&args.dir)?,
    };
    if source.is_empty() || source.contains('/') {
        bail!("--source must be a non-empty name without '/'");
    }
    let files = collect(&args.dir)?;
    let known = synced_documents(client, &source).await?;
    let bar = progress(files.len() as u64, as_json);
    let mut report = Report {
        source: source.clone(),
        ..Report::default()
    };
    let mut present = BTreeSet::new();
    for rel in &files {
        bar.set_message(rel.clone());
        let external_id = format!("{source}/{rel}");
        present.insert(external_id.clone());
        match upload(
            client,
            args,
            &source,
            rel,
            &external_id,
            known.get(&external_id),
        )
        .await
        {
            Ok(Outcome::Created) => report.created.push(rel.clone()),
            Ok(Outcome::Updated) => report.updated.push(rel.clone()),
            Ok(Outcome::Unchanged) => report.unchanged.push(rel.clone()),
            Err(e) => report.failed.push(Failure {
                path: rel.clone(),
                error: format!("{e:#}"),
            }),
        }
        bar.inc(1);
    }
    for (external_id, doc) in &known {
        if present.contains(external_id) {
            continue;
        }
        let rel = &external_id[source.len() + 1..];
        match client.delete_document(&doc.id).await {
            Ok(()) => report.deleted.push(rel.to_owned()),
            // Deleted meanwhile by someone else: the goal is reached.
            Err(e) if e.is_not_found() => report.deleted.push(rel.to_owned()),
            Err(e) => report.failed.push(Failure {
                path: rel.to_owned(),
                error: format!("delete {}: {e}", doc.id),
            }),
        }
    }
    bar.finish_and_clear();
    show(as_json, &report, print_summary)?;
    if !report.failed.is_empty() {
        bail!(
            "{} file{} could not be synced",
            report.failed.len(),
            if report.failed.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

fn folder_name(dir: &Path) -> anyhow::Result<String> {
    let full = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    full.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the folder has no name: give --source")
}

/// Relative paths (with `/`) of the files to sync, sorted.
fn collect(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?;
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(path);
            } else if content_type_of(&path).is_some() && path.is_file() {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every document of the company that an earlier sync of `source` made, by external id.
async fn synced_documents(
    client: &Client,
    source: &str,
) -> anyhow::Result<BTreeMap<String, Known>> {
    let prefix = format!("{source}/");
    let mut known = BTreeMap::new();
    let mut page = 1;
    loop {
        let result = client.list_documents(None, page, 100).await?;
        for doc in result.data {
            let Some(ext) = doc.external_id.filter(|e| e.starts_with(&prefix)) else {
                continue;
            };
            if doc.metadata.get("sync_source").and_then(|v| v.as_str()) != Some(source) {
                continue;
            }
            let sha256 = doc
                .metadata
                .get("sync_sha256")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            known.insert(ext, Known { id: doc.id, sha256 });
        }
        if u64::from(page) >= result.pagination.total_pages {
            return Ok(known);
        }
        page += 1;
    }
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

async fn upload(
    client: &Client,
    args: &SyncArgs,
    source: &str,
    rel: &str,
    external_id: &str,
    known: Option<&Known>,
) -> anyhow::Result<Outcome> {
    let mut doc = file_document(&args.dir.join(rel), None)?;
    if let Some(base) = &args.url_base {
        doc = doc.url(format!("{}/{rel}", base.trim_end_matches('/')));
    }
    doc = doc.agent_ids(args.agents.clone());
    let sha256 = fingerprint(&doc);
    if known.and_then(|k| k.sha256.as_deref()) == Some(sha256.as_str()) {
        return Ok(Outcome::Unchanged);
    }
    let metadata: Metadata = json!({
        "sync_source": source,
        "sync_path": rel,
        "sync_sha256": sha256,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let done = client
        .upsert_document(external_id, &doc.metadata(metadata))
        .await?;
    Ok(if done.created {
        Outcome::Created
    } else {
        Outcome::Updated
    })
}

/// Everything a sync sends, hashed: a changed title, URL or agent list is an
/// update even when the file's bytes are not.
fn fingerprint(doc: &performchat_client::NewDocument) -> String {
    let mut hash = Sha256::new();
    if let performchat_client::DocumentBody::File { bytes, .. } = &doc.body {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    let rest = json!([doc.title, doc.url, doc.agent_ids]).to_string();
    hash.update(rest.as_bytes());
    format!("{:x}", hash.finalize())
}

/// A bar on stderr for a terminal; nothing when the output is read by a
/// program (not a terminal, or `--json`).
fn progress(len: u64, as_json: bool) -> ProgressBar {
    if as_json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

fn print_summary(r: &Report) {
    for f in &r.failed {
        eprintln!("failed  {}: {}", f.path, f.error);
    }
    for (label, paths) in [
        ("created", &r.created),
        ("updated", &r.updated),
        ("deleted", &r.deleted),
    ] {
        for p in paths.iter() {
            println!("{label:<8}{p}");
        }
    }
    println!(
        "{}: {} created, {} updated, {} unchanged, {} deleted, {} failed",
        r.source,
        r.created.len(),
        r.updated.len(),
        r.unchanged.len(),
        r.deleted.len(),
        r.failed.len()
    );
}
