//! The command line: `serve`, and the operator's admin commands, which work on
//! the database directly. With `--json` each prints one JSON object.

pub mod admin;
pub mod agents;
pub mod backup;
pub mod chat;
pub mod conversations;
pub mod events;
mod files;
pub mod knowledge;
mod logs;
pub mod migrate;
pub mod output;
mod public_url;
pub mod remote;
mod serve;
mod serve_events;
pub mod token;
pub mod tools;
pub mod users;

use clap::{Parser, Subcommand};

use crate::domain::DatabaseUrl;
use crate::store::{ConnectOptions, SqlStore};
use logs::init_logs;
use serve::serve;
pub use serve::{ChatArgs, LimitArgs, ServeArgs};

#[derive(Parser, Debug)]
#[command(
    name = "performchat",
    version,
    about = "PerformChat-compatible chat-token and customer-user service"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB (may also follow
    /// the command). Only `serve` and `quickstart` create a missing SQLite file.
    #[arg(
        long,
        env = "PERFORMCHAT_DATABASE_URL",
        default_value = "sqlite://performchat.db"
    )]
    pub database_url: DatabaseUrl,

    /// Database connections per process (SQLite: readers; it always has one writer).
    #[arg(long, env = "PERFORMCHAT_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// Print one JSON object instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The database options of the commands that open one, so that they can also
/// follow the command (`performchat company list --database-url …`) and only
/// those commands list them in their help.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB
    /// [default: PERFORMCHAT_DATABASE_URL, else sqlite://performchat.db]
    #[arg(long = "database-url", value_name = "URL", global = true)]
    database_url: Option<DatabaseUrl>,

    /// Database connections per process [default: PERFORMCHAT_DB_POOL_SIZE, else 8]
    #[arg(long = "db-pool-size", value_name = "N", global = true)]
    db_pool_size: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server.
    Serve(Box<ServeArgs>),
    /// Create a company, an agent and an API key in one go, and print a
    /// ready-to-run token request and the environment lines for the clients.
    Quickstart(admin::QuickstartArgs),
    /// Manage companies (tenants).
    Company(admin::CompanyArgs),
    /// Manage a company's agents.
    Agent(agents::AgentArgs),
    /// Manage a company's API keys.
    #[command(name = "api-key")]
    ApiKey(admin::ApiKeyArgs),
    /// Copy every company, agent, API key, customer user, conversation, message
    /// and the JWT secret into an empty database (SQLite <-> PostgreSQL).
    #[command(name = "migrate-store")]
    MigrateStore(migrate::MigrateStoreArgs),
    /// Copy a live SQLite database to a new file, consistently, while the
    /// server keeps running (PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// Customer users, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Users(users::UsersArgs),
    /// Chat tokens, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Token(token::TokenArgs),
    /// Conversations and messages, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Conversations(conversations::ConversationsArgs),
    /// Knowledge-base documents and search, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Knowledge(knowledge::KnowledgeArgs),
    /// Chat in the terminal as an end user, with a chat token (PERFORMCHAT_CHAT_TOKEN).
    Chat(chat::ChatArgs),
    /// Follow the change feed over the HTTP API (an API key with events:read).
    Events(events::EventsArgs),
    /// Manage webhook endpoints over the HTTP API (an API key with webhooks:write).
    Webhooks(events::WebhooksArgs),
    /// Manage an agent's tools and try a tool's endpoint, over the HTTP API
    /// (an API key with agents:write).
    Tools(tools::ToolsArgs),
}

/// Opens the database a command names; `create` lets a missing SQLite file be
/// created (only `serve` and `quickstart` do).
pub async fn connect(
    cli: &Cli,
    db: &DbArgs,
    create: bool,
    allow_in_memory: bool,
) -> anyhow::Result<SqlStore> {
    let url = db.database_url.as_deref().unwrap_or(&cli.database_url);
    let options = ConnectOptions {
        pool_size: db.db_pool_size.unwrap_or(cli.db_pool_size),
        create,
        allow_in_memory,
    };
    SqlStore::connect(url, &options).await
}

/// Hides a password in a database URL before it is shown.
fn redact(url: &str) -> String {
    crate::domain::redact_url(url)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match &cli.command {
        // These name their own databases or talk to a server over HTTP:
        // opening --database-url (by default a local SQLite file) would
        // create a stray file.
        Command::MigrateStore(args) => migrate::run(args, cli.db_pool_size, json).await,
        Command::Users(args) => users::run(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Token(args) => token::run(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Conversations(args) => conversations::run(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Knowledge(args) => knowledge::run(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Chat(args) => chat::run(args).await,
        Command::Events(args) => events::run_events(args)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Webhooks(args) => events::run_webhooks(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Tools(args) => tools::run(args, json)
            .await
            .map_err(|e| remote::explain(e, &args.api.url)),
        Command::Serve(args) => {
            let _logs = init_logs(&args.log_format);
            // The addresses first: a server refused its port must not have
            // created (or migrated) a database on the way.
            let listeners = serve::Listeners::bind(args).await?;
            let store = connect(&cli, &args.db, true, args.in_memory).await?;
            serve(store, listeners, args).await
        }
        Command::Quickstart(args) => {
            let store = connect(&cli, &args.db, true, false).await?;
            admin::quickstart(&store, args, json).await
        }
        Command::Company(args) => {
            let store = connect(&cli, &args.db, false, false).await?;
            admin::company(&store, &args.command, json).await
        }
        Command::Agent(args) => {
            let store = connect(&cli, &args.db, false, false).await?;
            agents::agent(&store, &args.command, json).await
        }
        Command::ApiKey(args) => {
            let store = connect(&cli, &args.db, false, false).await?;
            admin::api_key(&store, &args.command, json).await
        }
        Command::Backup(args) => backup::run(&cli, args, json).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parsed_configuration_debug_prints_no_secret() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "performchat",
            "--database-url",
            "postgres://app:db-password-1@h/db",
            "serve",
            "--jwt-secret",
            "jwt-secret-value-0123456789abcdef",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("db-password-1"), "{shown}");
        assert!(!shown.contains("jwt-secret-value"), "{shown}");
        assert!(shown.contains("app:***@h/db"), "{shown}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:pw@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            super::redact("postgres://u@h/db"),
            "postgres://u@h/db",
            "no password, nothing to hide"
        );
    }
}
