//! `performchat token …`: chat tokens over the HTTP API.

use clap::Subcommand;
use performchat_client::TokenRequest;

use super::output::{print, show, user_text};
use super::remote::ApiArgs;

#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a chat token (creates the customer user on its first token).
    /// Prints the token alone, so `$(performchat token issue …)` captures it.
    Issue {
        /// Your own id for the user.
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        agent_id: String,
        /// Lifetime, e.g. 30m, 24h, 7d (the server's default is 24h).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// Invalidate every token issued so far for a customer user.
    Invalidate {
        /// Internal id (cu_…).
        customer_user_id: String,
    },
    /// Check a chat token as a chat front end would.
    Verify { token: String },
}

pub async fn run(args: &TokenArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        TokenCommand::Issue {
            user_id,
            agent_id,
            expires_in,
        } => {
            let mut request = TokenRequest::new(user_id, agent_id);
            request.expires_in = expires_in.clone();
            let issued = client.issue_token(&request).await?;
            show(as_json, &issued, |issued| {
                println!("{}", issued.token);
                eprintln!(
                    "for customer user {} until {}",
                    issued.customer_user.id, issued.expires_at
                );
            })?;
        }
        TokenCommand::Invalidate { customer_user_id } => {
            let done = client.invalidate_tokens(customer_user_id).await?;
            print(as_json, &done, || {
                format!(
                    "{}: tokens invalidated, token version now {}",
                    done.customer_user_id, done.new_token_version
                )
            })?;
        }
        TokenCommand::Verify { token } => {
            let verified = client.verify_token(token).await?;
            print(as_json, &verified, || {
                format!(
                    "valid until {} for agent {}\n{}",
                    verified.expires_at,
                    verified.agent.id,
                    user_text(&verified.customer_user)
                )
            })?;
        }
    }
    Ok(())
}
