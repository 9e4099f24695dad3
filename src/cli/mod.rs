//! The command line: `serve`, and the operator's admin commands, which work on
//! the database directly. With `--json` each prints one JSON object.

pub mod admin;
pub mod migrate;
pub mod remote;
pub mod token;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::{AppState, Config};
use crate::limits::{LimitsConfig, Policies, Rate, TrustedProxies};
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
    /// Copy every company, agent, API key, customer user and the JWT secret
    /// into an empty database (SQLite <-> PostgreSQL); ignores --database-url.
    #[command(name = "migrate-store")]
    MigrateStore(migrate::MigrateStoreArgs),
    /// Customer users, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Users(users::UsersArgs),
    /// Chat tokens, over the HTTP API (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET).
    Token(token::TokenArgs),
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
    pub limits: LimitArgs,
}

/// Rate limits (spec 0.4). Rates are LIMIT/WINDOW with a window in s, m or h.
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Rate limits and the failed-authentication lockout (`off` for benchmarks).
    #[arg(long, env = "PERFORMCHAT_RATE_LIMITS", default_value = "on", value_parser = ["on", "off"])]
    pub rate_limits: String,

    /// Token generation, per API key.
    #[arg(long, env = "PERFORMCHAT_RATE_LIMIT_TOKENS", default_value = "100/1m")]
    pub rate_limit_tokens: Rate,

    /// Every other API-key request, per API key.
    #[arg(long, env = "PERFORMCHAT_RATE_LIMIT_API", default_value = "1000/1m")]
    pub rate_limit_api: Rate,

    /// Chat messages, per customer user.
    #[arg(long, env = "PERFORMCHAT_RATE_LIMIT_CHAT", default_value = "20/1m")]
    pub rate_limit_chat: Rate,

    /// Failed API-key authentications per client address; over it, the
    /// address gets 429 even with good credentials.
    #[arg(
        long,
        env = "PERFORMCHAT_RATE_LIMIT_FAILED_AUTH",
        default_value = "10/5m"
    )]
    pub rate_limit_failed_auth: Rate,

    /// Share the limits between nodes through Redis: redis://HOST:PORT[/DB].
    #[arg(long, env = "PERFORMCHAT_RATE_LIMIT_STORE")]
    pub rate_limit_store: Option<String>,

    /// Prefix of every Redis key this server writes.
    #[arg(
        long,
        env = "PERFORMCHAT_RATE_LIMIT_PREFIX",
        default_value = "performchat:rl:"
    )]
    pub rate_limit_prefix: String,

    /// Proxies (CIDR,...) whose X-Forwarded-For names the client; from any
    /// other peer the header is ignored.
    #[arg(long, env = "PERFORMCHAT_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
}

impl LimitArgs {
    pub fn config(&self) -> LimitsConfig {
        LimitsConfig {
            enabled: self.rate_limits == "on",
            policies: Policies {
                tokens: self.rate_limit_tokens,
                api: self.rate_limit_api,
                chat: self.rate_limit_chat,
                failed_auth: self.rate_limit_failed_auth,
            },
            store_url: self.rate_limit_store.clone().filter(|u| !u.is_empty()),
            key_prefix: self.rate_limit_prefix.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            ..LimitsConfig::default()
        }
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
    let config = Config {
        max_token_ttl_secs: args.max_token_ttl,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        limits: args.limits.config(),
    };
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
