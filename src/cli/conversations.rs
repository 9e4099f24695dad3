//! `performchat conversations …`: the company's conversations over the HTTP
//! API, with an API key holding `conversations:read`.

use clap::Subcommand;
use performchat_client::Conversation;

use super::output::{one_line, print, show, table};
use super::remote::ApiArgs;

#[derive(clap::Args, Debug)]
pub struct ConversationsArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: ConversationsCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConversationsCommand {
    /// List conversations, oldest first, a page at a time.
    List {
        /// Only this customer user's conversations (cu_…).
        #[arg(long)]
        customer_user_id: Option<String>,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Conversations per page, 1–100.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one conversation.
    Get { id: String },
    /// Show a conversation's messages, oldest first, a page at a time.
    Messages {
        id: String,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Messages per page, 1–100.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn conversation_text(c: &Conversation) -> String {
    [
        ("id", c.id.clone()),
        ("title", c.title.clone().unwrap_or_else(|| "-".into())),
        ("customer_user_id", c.customer_user_id.clone()),
        ("agent_id", c.agent_id.clone()),
        ("message_count", c.message_count.to_string()),
        ("created_at", c.created_at.clone()),
        ("updated_at", c.updated_at.clone()),
    ]
    .iter()
    .map(|(k, v)| format!("{k:<16} {}", one_line(v)))
    .collect::<Vec<_>>()
    .join("\n")
}

pub async fn run(args: &ConversationsArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        ConversationsCommand::List {
            customer_user_id,
            page,
            limit,
        } => {
            let found = client
                .list_conversations(customer_user_id.as_deref(), *page, *limit)
                .await?;
            show(as_json, &found, |found| {
                let rows: Vec<Vec<String>> = found
                    .data
                    .iter()
                    .map(|c| {
                        vec![
                            c.id.clone(),
                            c.customer_user_id.clone(),
                            c.message_count.to_string(),
                            c.updated_at.clone(),
                            one_line(c.title.as_deref().unwrap_or("-")),
                        ]
                    })
                    .collect();
                println!(
                    "{}",
                    table(
                        &["ID", "CUSTOMER USER", "MESSAGES", "UPDATED", "TITLE"],
                        &rows
                    )
                );
                let p = found.pagination;
                eprintln!(
                    "page {} of {} ({} conversations)",
                    p.page, p.total_pages, p.total
                );
            })?;
        }
        ConversationsCommand::Get { id } => {
            let c = client.get_conversation(id).await?;
            print(as_json, &c, || conversation_text(&c))?;
        }
        ConversationsCommand::Messages { id, page, limit } => {
            let found = client.list_messages(id, *page, *limit).await?;
            show(as_json, &found, |found| {
                for m in &found.data {
                    println!("[{}] {}: {}", m.created_at, m.role, m.content);
                }
                let p = found.pagination;
                eprintln!(
                    "page {} of {} ({} messages)",
                    p.page, p.total_pages, p.total
                );
            })?;
        }
    }
    Ok(())
}
