//! `users erase <id>` and `users export <id>`: a customer user's rights
//! (docs/API.md §12) over the HTTP API.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context};
use futures::TryStreamExt;
use performchat_client::Client;
use serde_json::json;

use super::super::output::{one_line, print};

#[derive(clap::Args, Debug)]
pub struct EraseArgs {
    /// Internal id (cu_…).
    id: String,
    /// Erase without asking (needed when nobody is at the terminal to answer).
    #[arg(long)]
    yes: bool,
}

/// Shows who will be erased and asks, unless `--yes`; then erases.
pub async fn erase(client: &Client, args: &EraseArgs, as_json: bool) -> anyhow::Result<()> {
    let user = client.get_user(&args.id).await?;
    if !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            bail!(
                "not erasing {} without --yes: nobody at the terminal to confirm",
                user.id
            );
        }
        eprint!(
            "Erase customer user {} (external id {}, name {}) with all their conversations and messages? \
             This cannot be undone. Type yes to erase: ",
            user.id,
            one_line(&user.external_id),
            one_line(user.name.as_deref().unwrap_or("-"))
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            bail!("not erased");
        }
    }
    client.erase_customer_user(&user.id).await?;
    let done = json!({ "id": user.id, "external_id": user.external_id, "erased": true });
    print(as_json, &done, || {
        format!(
            "erased {} (external id {})",
            user.id,
            one_line(&user.external_id)
        )
    })
}

/// Writes the user's data export to `output` (complete or not at all: under
/// a temporary name, renamed at the end) or to stdout.
pub async fn export(client: &Client, id: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let mut body = client.export_customer_user(id).await?;
    match output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            while let Some(chunk) = body.try_next().await? {
                out.write_all(&chunk).context("writing the export")?;
            }
            out.write_all(b"\n")?;
            out.flush().context("writing the export")
        }
        Some(path) => {
            let partial = super::export::partial_path(path);
            let result: anyhow::Result<()> = async {
                let file = std::fs::File::create(&partial)
                    .with_context(|| format!("cannot create {}", partial.display()))?;
                let mut out = std::io::BufWriter::new(file);
                while let Some(chunk) = body.try_next().await? {
                    out.write_all(&chunk).context("writing the export")?;
                }
                out.flush().context("writing the export")
            }
            .await;
            match result {
                Ok(()) => std::fs::rename(&partial, path)
                    .with_context(|| format!("cannot move the export to {}", path.display())),
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }
    }
}
