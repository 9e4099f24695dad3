//! The command line: `serve`, and the operator's admin commands, which work on
//! the database directly. With `--json` each prints one JSON object.

pub mod admin;
pub mod conversations;
pub mod migrate;
pub mod remote;
pub mod token;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::{AppState, Config};
use crate::store::{ConnectOptions, SqlStore, Store};

#[derive(Parser, Debug)]
#[command(
    name = "performchat",
    version,
    about = "PerformChat-compatible chat-token and customer-user service"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE (created on first use) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "PERFORMCHAT_DATABASE_URL",
        default_value = "sqlite://performchat.db"
    )]
    pub database_url: String,

    /// Database connections per process (SQLite: readers; it always has one writer).
    #[arg(
        long,
        global = true,
        env = "PERFORMCHAT_DB_POOL_SIZE",
        default_value_t = 8
    )]
    pub db_pool_size: u32,

    /// Print one JSON object instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Create a company, an agent and an API key in one go, and print a
    /// ready-to-run token request.
    Quickstart(admin::QuickstartArgs),
    /// Manage companies (tenants).
    #[command(subcommand)]
    Company(admin::CompanyCommand),
    /// Manage a company's agents.
    #[command(subcommand)]
    Agent(admin::AgentCommand),
    /// Manage a company's API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(admin::ApiKeyCommand),
    /// Copy every company, agent, API key, customer user, conversation, message
    /// and the JWT secret into an empty database (SQLite <-> PostgreSQL);
    /// ignores --database-url.
    #[command(name = "migrate-store")]
    MigrateStore(migrate::MigrateStoreArgs),
    /// Customer users, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Users(users::UsersArgs),
    /// Chat tokens, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Token(token::TokenArgs),
    /// Conversations and messages, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Conversations(conversations::ConversationsArgs),
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PERFORMCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Secret for signing chat tokens. When unset, one is generated once and
    /// kept in the database, so every node on that database agrees.
    #[arg(long, env = "PERFORMCHAT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Longest token lifetime a caller may ask for, in seconds.
    #[arg(long, env = "PERFORMCHAT_MAX_TOKEN_TTL", default_value_t = 30 * 86_400)]
    pub max_token_ttl: i64,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(long, env = "PERFORMCHAT_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,

    #[command(flatten)]
    pub chat: ChatArgs,
}

/// The language model and the chat limits (spec 8).
#[derive(clap::Args, Debug)]
pub struct ChatArgs {
    /// Base URL of the default OpenAI-compatible model server, e.g.
    /// http://127.0.0.1:11434/v1 (Ollama). Without it, agents that name no
    /// model of their own get the built-in offline responder.
    #[arg(long, env = "PERFORMCHAT_LLM_URL")]
    pub llm_url: Option<String>,

    /// The default model's name, e.g. llama3.2 (needed with --llm-url).
    #[arg(long, env = "PERFORMCHAT_LLM_MODEL")]
    pub llm_model: Option<String>,

    /// API key sent to the default model server (only to it). Prefer the
    /// environment variable: command lines are visible to other users.
    #[arg(long, env = "PERFORMCHAT_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,

    /// Cap on a reply's length, sent to the model as max_tokens.
    #[arg(long, env = "PERFORMCHAT_LLM_MAX_TOKENS", default_value_t = 1024)]
    pub llm_max_tokens: u32,

    /// Seconds to wait for a connection to the model server.
    #[arg(long, env = "PERFORMCHAT_LLM_CONNECT_TIMEOUT", default_value_t = 10)]
    pub llm_connect_timeout: u64,

    /// Seconds to wait for the model's first piece of text.
    #[arg(
        long,
        env = "PERFORMCHAT_LLM_FIRST_TOKEN_TIMEOUT",
        default_value_t = 60
    )]
    pub llm_first_token_timeout: u64,

    /// Seconds a whole reply may take.
    #[arg(long, env = "PERFORMCHAT_LLM_REPLY_TIMEOUT", default_value_t = 300)]
    pub llm_reply_timeout: u64,

    /// Most messages of a conversation sent to the model (the new one included).
    #[arg(long, env = "PERFORMCHAT_CHAT_HISTORY_MESSAGES", default_value_t = 20)]
    pub chat_history_messages: u32,

    /// Most code points of conversation history sent to the model (the
    /// system prompt not counted).
    #[arg(long, env = "PERFORMCHAT_CHAT_HISTORY_CHARS", default_value_t = 24_000)]
    pub chat_history_chars: usize,

    /// Milliseconds a reply lease lasts unless its node renews it: how long a
    /// conversation stays busy after the node generating its reply dies.
    #[arg(long, env = "PERFORMCHAT_CHAT_LEASE_MS", default_value_t = 30_000)]
    pub chat_lease_ms: u64,

    /// Comma-separated origins allowed to call /rest/v1/chat/* from a
    /// browser; any origin when unset (the bearer token is the credential).
    #[arg(long, env = "PERFORMCHAT_CHAT_ORIGINS", value_delimiter = ',')]
    pub chat_origins: Vec<String>,
}

impl ChatArgs {
    /// Checks the flags and fills the matching parts of `config`.
    pub fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        use crate::llm::{ModelEndpoint, ModelLimits};
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        config.llm = match (nonempty(&self.llm_url), nonempty(&self.llm_model)) {
            (Some(url), Some(model)) => {
                crate::llm::check_base_url(&url).map_err(|e| anyhow::anyhow!("--llm-url: {e}"))?;
                Some(ModelEndpoint {
                    url,
                    model,
                    api_key: nonempty(&self.llm_api_key),
                })
            }
            (None, None) => None,
            (Some(_), None) => anyhow::bail!("--llm-url needs --llm-model too"),
            (None, Some(_)) => anyhow::bail!("--llm-model needs --llm-url too"),
        };
        anyhow::ensure!(self.llm_max_tokens > 0, "--llm-max-tokens must be positive");
        anyhow::ensure!(
            self.llm_connect_timeout > 0
                && self.llm_first_token_timeout > 0
                && self.llm_reply_timeout > 0,
            "model timeouts must be positive"
        );
        anyhow::ensure!(
            self.chat_history_messages > 0 && self.chat_history_chars > 0,
            "the history budget must be positive"
        );
        anyhow::ensure!(
            self.chat_lease_ms >= 300,
            "--chat-lease-ms must be at least 300"
        );
        config.model_limits = ModelLimits {
            connect_timeout: Duration::from_secs(self.llm_connect_timeout),
            first_token_timeout: Duration::from_secs(self.llm_first_token_timeout),
            reply_timeout: Duration::from_secs(self.llm_reply_timeout),
            max_tokens: self.llm_max_tokens,
        };
        config.chat = crate::chat::ChatConfig {
            history: crate::chat::HistoryBudget {
                messages: self.chat_history_messages,
                chars: self.chat_history_chars,
            },
            lease: Duration::from_millis(self.chat_lease_ms),
        };
        config.chat_origins = self
            .chat_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Ok(())
    }
}

pub async fn connect(cli: &Cli) -> anyhow::Result<SqlStore> {
    let options = ConnectOptions {
        pool_size: cli.db_pool_size,
    };
    SqlStore::connect(&cli.database_url, &options)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e:#}",
                redact(&cli.database_url)
            )
        })
}

/// Hides a password in a database URL before it is shown.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_part = &url[scheme + 3..at];
            match user_part.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match &cli.command {
        // These name their own databases or talk to a server over HTTP:
        // opening --database-url (by default a local SQLite file) would
        // create a stray file.
        Command::MigrateStore(args) => migrate::run(args, cli.db_pool_size, json).await,
        Command::Users(args) => users::run(args, json).await,
        Command::Token(args) => token::run(args, json).await,
        Command::Conversations(args) => conversations::run(args, json).await,
        Command::Serve(args) => serve(connect(&cli).await?, args).await,
        Command::Quickstart(args) => admin::quickstart(&connect(&cli).await?, args, json).await,
        Command::Company(cmd) => admin::company(&connect(&cli).await?, cmd, json).await,
        Command::Agent(cmd) => admin::agent(&connect(&cli).await?, cmd, json).await,
        Command::ApiKey(cmd) => admin::api_key(&connect(&cli).await?, cmd, json).await,
    }
}

async fn serve(store: SqlStore, args: &ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "performchat=info,tower_http=warn".into()),
        )
        .init();
    if args.max_token_ttl <= 0 {
        anyhow::bail!("--max-token-ttl must be positive");
    }
    let mut config = Config {
        max_token_ttl_secs: args.max_token_ttl,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        ..Config::default()
    };
    args.chat.apply(&mut config)?;
    match &config.llm {
        // The URL and model only: the API key is never logged.
        Some(m) => tracing::info!(url = %m.url, model = %m.model, "default language model"),
        None => tracing::info!(
            "no default language model: agents without one get the offline responder"
        ),
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let state = AppState::new(store, args.jwt_secret.clone(), config).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    crate::app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
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
