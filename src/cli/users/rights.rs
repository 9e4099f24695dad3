//! `users erase <id>`: a customer user's erasure (docs/API.md §12.1) over
//! the HTTP API. `users export <id>` is in export.rs.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
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
