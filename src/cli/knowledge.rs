//! `performchat knowledge …`: the knowledge base over the HTTP API, with the
//! key an integration would use (like `users`), so it works against any server.

mod sync;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;
use performchat_client::{Client, Document, NewDocument};

use super::output::{one_line, print, show, table};
use super::remote::ApiArgs;

#[derive(clap::Args, Debug)]
pub struct KnowledgeArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: KnowledgeCommand,
}

#[derive(Subcommand, Debug)]
pub enum KnowledgeCommand {
    /// Add a document from a file (.md, .html, .pdf, .txt) or from --text.
    /// With --external-id it is created or replaced (an upsert).
    Add(AddArgs),
    /// List documents, a page at a time.
    List {
        /// Only the documents this agent may use.
        #[arg(long)]
        agent: Option<String>,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Documents per page, 1–100.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one document and its extracted text.
    Get {
        /// Document id (doc_…).
        id: String,
    },
    /// Delete a document and its chunks.
    Delete {
        /// Document id (doc_…).
        id: String,
    },
    /// Show what a reply would be given for a question, best first.
    Search {
        /// The question, as a user would ask it.
        query: String,
        /// Search as this agent's replies do (its documents and the shared ones).
        #[arg(long)]
        agent: Option<String>,
        /// Chunks to show, 1–20.
        #[arg(long, default_value_t = 5)]
        limit: u32,
    },
    /// Upsert every .md, .html, .pdf and .txt file under a folder, and delete
    /// the documents of earlier syncs of it whose files are gone.
    Sync(sync::SyncArgs),
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The file to add; its extension gives its type.
    #[arg(required_unless_present = "text", conflicts_with = "text")]
    file: Option<PathBuf>,
    /// The document's text, instead of a file.
    #[arg(long)]
    text: Option<String>,
    /// Title [default: a Markdown file's first `# ` heading, an HTML file's
    /// <title>, else the file name].
    #[arg(long, required_unless_present = "file")]
    title: Option<String>,
    /// The http(s) link end users see for this source. (Not `--url`: that
    /// flag names the server, as in every command over the API.)
    #[arg(long, value_name = "URL")]
    doc_url: Option<String>,
    /// Your own id for the document: adding it again replaces it.
    #[arg(long)]
    external_id: Option<String>,
    /// An agent that may use it (repeat for several) [default: every agent].
    #[arg(long = "agent", value_name = "AGENT_ID")]
    agents: Vec<String>,
    /// The type of --text: text/plain, text/markdown or text/html.
    #[arg(long, requires = "text")]
    content_type: Option<String>,
}

pub async fn run(args: &KnowledgeArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        KnowledgeCommand::Add(add_args) => add(&client, add_args, as_json).await,
        KnowledgeCommand::List { agent, page, limit } => {
            list(&client, agent.as_deref(), *page, *limit, as_json).await
        }
        KnowledgeCommand::Get { id } => {
            let doc = client.get_document(id).await?;
            show(as_json, &doc, |doc| {
                println!("{}", document_text(doc));
                if let Some(content) = &doc.content {
                    println!("\n{content}");
                }
            })
        }
        KnowledgeCommand::Delete { id } => {
            client.delete_document(id).await?;
            print(as_json, &serde_json::json!({ "deleted": id }), || {
                format!("deleted {id}")
            })
        }
        KnowledgeCommand::Search {
            query,
            agent,
            limit,
        } => search(&client, query, agent.as_deref(), *limit, as_json).await,
        KnowledgeCommand::Sync(sync_args) => sync::run(&client, sync_args, as_json).await,
    }
}

async fn add(client: &Client, args: &AddArgs, as_json: bool) -> anyhow::Result<()> {
    let mut doc = match (&args.file, &args.text) {
        (Some(path), _) => file_document(path, args.title.clone())?,
        (None, Some(text)) => {
            let title = args.title.clone().context("--text needs --title")?;
            let doc = NewDocument::text(title, text.clone());
            match &args.content_type {
                Some(ct) => doc.content_type(ct.clone()),
                None => doc,
            }
        }
        (None, None) => bail!("give a FILE or --text"),
    };
    if let Some(url) = &args.doc_url {
        doc = doc.url(url.clone());
    }
    doc = doc.agent_ids(args.agents.clone());
    let (stored, created) = match &args.external_id {
        Some(ext) => {
            let done = client.upsert_document(ext, &doc).await?;
            (done.document, done.created)
        }
        None => (client.create_document(&doc).await?, true),
    };
    show(as_json, &stored, |stored| {
        println!(
            "{} {} ({} chunk{})",
            if created { "created" } else { "replaced" },
            stored.id,
            stored.chunk_count,
            if stored.chunk_count == 1 { "" } else { "s" }
        );
    })
}

/// The types a file may have, by extension; `None` for any other file.
pub(crate) fn content_type_of(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        _ => return None,
    })
}

/// A file as a document to upload, its type from its extension.
pub(crate) fn file_document(path: &Path, title: Option<String>) -> anyhow::Result<NewDocument> {
    let content_type = content_type_of(path)
        .with_context(|| format!("{}: not a .md, .html, .pdf or .txt file", path.display()))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    let title = title.unwrap_or_else(|| default_title(&name, content_type, &bytes));
    Ok(NewDocument::file(title, name, bytes).content_type(content_type))
}

/// A readable title without asking: a Markdown file's first `# ` line, an
/// HTML file's `<title>`, else the file name. Good enough for a default;
/// `--title` is there when it is not.
fn default_title(name: &str, content_type: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let found = match content_type {
        "text/markdown" => text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(|t| t.trim().to_owned()),
        "text/html" => html_title(&text),
        _ => None,
    };
    let title = found
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| name.into());
    title.chars().take(300).collect()
}

/// The text of the first `<title>` element, entities left to the few that
/// titles use.
fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let raw = html[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

async fn list(
    client: &Client,
    agent: Option<&str>,
    page: u32,
    limit: u32,
    as_json: bool,
) -> anyhow::Result<()> {
    let result = client.list_documents(agent, page, limit).await?;
    show(as_json, &result, |result| {
        let rows: Vec<Vec<String>> = result
            .data
            .iter()
            .map(|d| {
                vec![
                    d.id.clone(),
                    one_line(d.external_id.as_deref().unwrap_or("-")),
                    one_line(&d.title),
                    d.content_type.clone(),
                    d.chunk_count.to_string(),
                    d.updated_at.clone(),
                ]
            })
            .collect();
        let headers = ["ID", "EXTERNAL ID", "TITLE", "TYPE", "CHUNKS", "UPDATED"];
        println!("{}", table(&headers, &rows));
        let p = result.pagination;
        println!(
            "page {} of {}, {} document{} in all",
            p.page,
            p.total_pages,
            p.total,
            if p.total == 1 { "" } else { "s" }
        );
    })
}

/// A document as `key: value` lines.
fn document_text(d: &Document) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let agents = if d.agent_ids.is_empty() {
        "(every agent)".to_owned()
    } else {
        d.agent_ids.join(", ")
    };
    [
        ("id", d.id.clone()),
        ("title", d.title.clone()),
        ("url", or_dash(&d.url)),
        ("external_id", or_dash(&d.external_id)),
        ("content_type", d.content_type.clone()),
        ("agents", agents),
        (
            "metadata",
            serde_json::Value::Object(d.metadata.clone()).to_string(),
        ),
        ("chars", d.chars.to_string()),
        ("chunks", d.chunk_count.to_string()),
        ("created_at", d.created_at.clone()),
        ("updated_at", d.updated_at.clone()),
    ]
    .iter()
    .map(|(k, v)| format!("{k:<13} {}", one_line(v)))
    .collect::<Vec<_>>()
    .join("\n")
}

async fn search(
    client: &Client,
    query: &str,
    agent: Option<&str>,
    limit: u32,
    as_json: bool,
) -> anyhow::Result<()> {
    let hits = client.search_knowledge(query, agent, limit).await?;
    show(as_json, &serde_json::json!({ "data": hits }), |_| {
        if hits.is_empty() {
            println!("no match");
        }
        for (rank, hit) in hits.iter().enumerate() {
            let heading = hit.heading.as_deref().unwrap_or(&hit.title);
            println!(
                "{}. {}  (score {:.3})",
                rank + 1,
                one_line(heading),
                hit.score
            );
            println!(
                "   {}  {}",
                hit.document_id,
                one_line(hit.url.as_deref().unwrap_or("-"))
            );
            let text: String = hit.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut excerpt: String = text.chars().take(200).collect();
            if text.chars().count() > 200 {
                excerpt.push('…');
            }
            println!("   {excerpt}\n");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_default_from_the_file() {
        let md = b"intro\n# Refund policy \n\n## Later";
        assert_eq!(default_title("r.md", "text/markdown", md), "Refund policy");
        let html = b"<html><HEAD><Title>\n Data Types &amp; more</title>";
        assert_eq!(
            default_title("d.html", "text/html", html),
            "Data Types & more"
        );
        assert_eq!(default_title("a.txt", "text/plain", b"# no"), "a.txt");
        assert_eq!(default_title("e.md", "text/markdown", b"#\n"), "e.md");
    }

    #[test]
    fn the_document_link_is_not_the_server_address() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "performchat",
            "knowledge",
            "add",
            "f.md",
            "--doc-url",
            "https://help.example/f",
            "--url",
            "http://127.0.0.1:9",
        ])
        .unwrap();
        let crate::cli::Command::Knowledge(args) = cli.command else {
            panic!("not knowledge: {cli:?}")
        };
        assert_eq!(args.api.url, "http://127.0.0.1:9");
        let KnowledgeCommand::Add(add) = args.command else {
            panic!("not add")
        };
        assert_eq!(add.doc_url.as_deref(), Some("https://help.example/f"));
    }

    #[test]
    fn types_come_from_the_extension() {
        assert_eq!(content_type_of(Path::new("a/B.MD")), Some("text/markdown"));
        assert_eq!(content_type_of(Path::new("x.htm")), Some("text/html"));
        assert_eq!(content_type_of(Path::new("x.exe")), None);
        assert_eq!(content_type_of(Path::new("README")), None);
    }
}
