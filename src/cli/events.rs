//! `performchat events tail` and `performchat webhooks …`: the change feed
//! and webhook endpoints over the HTTP API (docs/EVENTS.md), with an API key
//! holding `events:read` or `webhooks:write`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;

use super::output::{one_line, show, table};
use super::remote::ApiArgs;

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: EventsCommand,
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Print the feed's events as JSON lines, then follow it. With
    /// --cursor-file, start after the id it holds and keep it up to date,
    /// so a stopped tail resumes where it left off.
    Tail {
        #[arg(long, value_name = "PATH")]
        cursor_file: Option<PathBuf>,
        /// Only these types (comma-separated).
        #[arg(long = "type", value_delimiter = ',')]
        types: Vec<String>,
        /// Stop once caught up instead of following.
        #[arg(long)]
        once: bool,
        /// Seconds between polls once caught up.
        #[arg(long, default_value_t = 1.0)]
        poll_secs: f64,
    },
}

#[derive(clap::Args, Debug)]
pub struct WebhooksArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: WebhooksCommand,
}

#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// Register an endpoint; prints its secret, which is shown only now.
    Add {
        /// Where to send deliveries (https; http only to allowed networks).
        #[arg(value_name = "ENDPOINT_URL")]
        endpoint: String,
        /// Event types (comma-separated), or `*` for all.
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the company's endpoints.
    List,
    /// A new secret; the old one keeps signing for 24 hours.
    Rotate { id: String },
    /// An endpoint's latest delivery attempts, newest first.
    Deliveries { id: String },
}

fn read_cursor(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|c| !c.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    }
}

/// Written beside and renamed over, so a crash never leaves half a cursor.
fn save_cursor(path: &Path, id: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, id)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

pub async fn run_events(args: &EventsArgs) -> anyhow::Result<()> {
    let client = args.api.client()?;
    let EventsCommand::Tail {
        cursor_file,
        types,
        once,
        poll_secs,
    } = &args.command;
    anyhow::ensure!(
        poll_secs.is_finite() && *poll_secs > 0.0,
        "--poll-secs must be positive"
    );
    let mut cursor = match cursor_file {
        Some(path) => read_cursor(path)?,
        None => None,
    };
    loop {
        let page = client.events(cursor.as_deref(), 100, types).await?;
        for e in &page.data {
            println!("{}", serde_json::to_string(e)?);
        }
        if let Some(last) = page.data.last() {
            cursor = Some(last.id.clone());
            if let Some(path) = cursor_file {
                save_cursor(path, &last.id)?;
            }
        }
        if !page.has_more {
            if *once {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs_f64(*poll_secs)).await;
        }
    }
}

pub async fn run_webhooks(args: &WebhooksArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        WebhooksCommand::Add {
            endpoint,
            events,
            description,
        } => {
            let made = client
                .create_webhook(endpoint, events, description.as_deref())
                .await?;
            show(as_json, &made, |made| {
                println!("id      {}", made.id);
                println!("secret  {}", made.secret.as_deref().unwrap_or_default());
                eprintln!("keep the secret now: it is not shown again (rotate to get a new one)");
            })
        }
        WebhooksCommand::List => {
            let found = client.list_webhooks().await?;
            show(as_json, &found, |found| {
                let rows: Vec<Vec<String>> = found
                    .data
                    .iter()
                    .map(|w| {
                        vec![
                            w.id.clone(),
                            if w.active { "yes" } else { "no" }.into(),
                            w.events.join(","),
                            one_line(&w.url),
                        ]
                    })
                    .collect();
                println!("{}", table(&["ID", "ACTIVE", "EVENTS", "URL"], &rows));
            })
        }
        WebhooksCommand::Rotate { id } => {
            let rotated = client.rotate_webhook_secret(id).await?;
            show(as_json, &rotated, |rotated| {
                println!("secret  {}", rotated.secret.as_deref().unwrap_or_default());
                eprintln!("the previous secret keeps signing for 24 hours");
            })
        }
        WebhooksCommand::Deliveries { id } => {
            let found = client.webhook_deliveries(id).await?;
            show(as_json, &found, |found| {
                let rows: Vec<Vec<String>> = found
                    .data
                    .iter()
                    .map(|a| {
                        vec![
                            a.created_at.clone(),
                            a.event_id.clone(),
                            a.attempt.to_string(),
                            a.status_code.map_or("-".into(), |s| s.to_string()),
                            format!("{} ms", a.duration_ms),
                            a.next_attempt_at.clone().unwrap_or_else(|| "-".into()),
                            one_line(a.error.as_deref().unwrap_or("")),
                        ]
                    })
                    .collect();
                let headers = [
                    "AT", "EVENT", "ATTEMPT", "STATUS", "DURATION", "NEXT", "ERROR",
                ];
                println!("{}", table(&headers, &rows));
            })
        }
    }
}
