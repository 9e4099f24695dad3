//! `serve`: its flags (server, chat, rate limits), the configuration built
//! from them, and running the server until a shutdown signal.

use std::sync::Arc;
use std::time::Duration;

use crate::app::{AppState, Config};
use crate::domain::{redact_url, Secret};
use crate::limits::{LimitsConfig, Policies, Rate, TrustedProxies};
use crate::store::{SqlStore, Store};

use super::DbArgs;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Address to listen on.
    #[arg(long, env = "PERFORMCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Secret for signing chat tokens. When unset, one is generated once and
    /// kept in the database, so every node on that database agrees.
    #[arg(long, env = "PERFORMCHAT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Longest token lifetime a caller may ask for, in seconds.
    #[arg(long, env = "PERFORMCHAT_MAX_TOKEN_TTL", default_value_t = 30 * 86_400)]
    pub max_token_ttl: i64,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(long, env = "PERFORMCHAT_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Seconds a request may take until the server starts its answer (503
    /// past it). Streamed bodies (export, chat replies) are not cut by it.
    #[arg(long, env = "PERFORMCHAT_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,

    /// Seconds a client may take to send its request headers (the connection
    /// is closed past it).
    #[arg(long, env = "PERFORMCHAT_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,

    /// Seconds a client may take to send its whole request body (408 past it).
    #[arg(long, env = "PERFORMCHAT_BODY_TIMEOUT", default_value_t = 20)]
    pub body_timeout: u64,

    /// Open connections at most; more wait until one closes.
    #[arg(long, env = "PERFORMCHAT_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Serve Prometheus metrics at http://ADDR/metrics, a listener of its
    /// own (off when unset; never on the API's address).
    #[arg(long, env = "PERFORMCHAT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,

    /// Log format: `text` (colours only on a terminal) or `json` (one object per line).
    #[arg(long, env = "PERFORMCHAT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Allow an in-memory SQLite database (sqlite::memory:): nothing is saved,
    /// and admin commands (other processes) cannot reach it.
    #[arg(long)]
    pub in_memory: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub chat: ChatArgs,
    #[command(flatten)]
    pub events: super::serve_events::EventArgs,
}

/// The language model and the chat limits (docs/API.md §8).
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
    pub llm_api_key: Option<Secret>,

    /// Cap on a reply's length, sent to the model as max_tokens.
    #[arg(long, env = "PERFORMCHAT_LLM_MAX_TOKENS", default_value_t = 1024)]
    pub llm_max_tokens: u32,

    /// The server's own cap on a reply, in code points: past it the server
    /// stops reading the model (which may ignore max_tokens) and stores the
    /// reply as it stands.
    #[arg(
        long,
        env = "PERFORMCHAT_LLM_MAX_REPLY_CHARS",
        default_value_t = 32_000
    )]
    pub llm_max_reply_chars: usize,

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

    /// Most knowledge chunks given to one reply (with `rag:access`).
    #[arg(long, env = "PERFORMCHAT_RAG_CHUNKS", default_value_t = 4)]
    pub rag_chunks: u32,

    /// Most code points of knowledge excerpts given to one reply.
    #[arg(long, env = "PERFORMCHAT_RAG_CHARS", default_value_t = 6_000)]
    pub rag_chars: usize,

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
                    api_key: self
                        .llm_api_key
                        .as_ref()
                        .map(|k| k.expose().to_owned())
                        .filter(|k| !k.trim().is_empty()),
                })
            }
            (None, None) => None,
            (Some(_), None) => anyhow::bail!("--llm-url needs --llm-model too"),
            (None, Some(_)) => anyhow::bail!("--llm-model needs --llm-url too"),
        };
        anyhow::ensure!(self.llm_max_tokens > 0, "--llm-max-tokens must be positive");
        anyhow::ensure!(
            self.llm_max_reply_chars > 0,
            "--llm-max-reply-chars must be positive"
        );
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
            (1..=20).contains(&self.rag_chunks) && self.rag_chars > 0,
            "--rag-chunks must be between 1 and 20 and --rag-chars positive"
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
            max_reply_chars: self.llm_max_reply_chars,
        };
        config.chat = crate::chat::ChatConfig {
            history: crate::chat::HistoryBudget {
                messages: self.chat_history_messages,
                chars: self.chat_history_chars,
            },
            rag: crate::chat::RagBudget {
                chunks: self.rag_chunks,
                chars: self.rag_chars,
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

/// Rate limits (docs/API.md §0.4). Rates are LIMIT/WINDOW with a window in s, m or h.
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

    /// Chat writes (new conversations and messages together), per customer user.
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

/// The server's sockets, bound before the database is opened.
pub(super) struct Listeners {
    api: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
}

impl Listeners {
    pub(super) async fn bind(args: &ServeArgs) -> anyhow::Result<Self> {
        let api = bind(&args.listen, "--listen", "PERFORMCHAT_LISTEN").await?;
        let metrics = match &args.metrics_listen {
            Some(addr) => Some(bind(addr, "--metrics-listen", "PERFORMCHAT_METRICS_LISTEN").await?),
            None => None,
        };
        Ok(Listeners { api, metrics })
    }
}

/// Binds `addr`; the error names the option that picks another address.
async fn bind(addr: &str, flag: &str, env: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (is another server running there?)"
        } else {
            ""
        };
        anyhow::anyhow!("cannot listen on {addr}: {e}{hint}; choose another address with {flag} ADDR:PORT or {env}")
    })
}

pub(super) async fn serve(
    store: SqlStore,
    listeners: Listeners,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    if let Some(listener) = listeners.metrics {
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        crate::http::metrics::start(listener, store.pool_watch())?;
    }
    if args.max_token_ttl <= 0 {
        anyhow::bail!("--max-token-ttl must be positive");
    }
    let mut config = Config {
        max_token_ttl_secs: args.max_token_ttl,
        time_limits: time_limits(args)?,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        limits: args.limits.config(),
        ..Config::default()
    };
    args.chat.apply(&mut config)?;
    args.events.apply(&mut config)?;
    match &config.llm {
        // The URL (its password hidden) and model only: the API key is never logged.
        Some(m) => {
            tracing::info!(url = %redact_url(&m.url), model = %m.model, "default language model")
        }
        None => tracing::info!(
            "no default language model: agents without one get the offline responder"
        ),
    }
    let store: Arc<dyn Store> = Arc::new(store);
    args.events
        .start(Arc::clone(&store), config.outbound.clone())?;
    crate::http::idempotency::spawn_pruning(Arc::clone(&store));
    let state = AppState::new(store, args.jwt_secret.clone(), config).await?;
    let listener = listeners.api;
    super::files::raise_open_files(args.max_connections);
    tracing::info!("listening on http://{}", listener.local_addr()?);
    crate::http::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn time_limits(args: &ServeArgs) -> anyhow::Result<crate::http::deadline::TimeLimits> {
    for (flag, value) in [
        ("--request-timeout", args.request_timeout),
        ("--header-timeout", args.header_timeout),
        ("--body-timeout", args.body_timeout),
        ("--max-connections", args.max_connections as u64),
    ] {
        anyhow::ensure!(value > 0, "{flag} must be at least 1");
    }
    Ok(crate::http::deadline::TimeLimits {
        request: Duration::from_secs(args.request_timeout),
        header: Duration::from_secs(args.header_timeout),
        body: Duration::from_secs(args.body_timeout),
        max_connections: args.max_connections,
    })
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
