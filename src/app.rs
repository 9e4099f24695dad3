//! The application's state: configuration and the handles every request
//! needs (store, signer, rate limits, models, reply tasks). The HTTP layer
//! builds on it (`http::router`, `http::serve`); nothing here knows HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::{KeyCache, TokenSigner};
use crate::chat::{Chat, ChatConfig};
use crate::limits::{LimitsConfig, RateLimits};
use crate::llm::{ModelEndpoint, ModelLimits, ModelRegistry};
use crate::store::Store;

/// Settings that shape request handling (the CLI fills them from flags/env).
#[derive(Debug, Clone)]
pub struct Config {
    /// Upper bound for a token's `expiresIn`, in seconds.
    pub max_token_ttl_secs: i64,
    /// Request, header and body time limits and the connection cap.
    pub time_limits: TimeLimits,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    pub limits: LimitsConfig,
    /// The server's default model; `None` means the offline responder for
    /// every agent that names no model of its own.
    pub llm: Option<ModelEndpoint>,
    pub model_limits: ModelLimits,
    pub chat: ChatConfig,
    /// Origins allowed to call `/rest/v1/chat/*` from a browser; empty means any.
    pub chat_origins: Vec<String>,
    /// Where company-set URLs (webhooks) may point: public addresses and these networks.
    pub outbound: crate::outbound::OutboundRule,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_token_ttl_secs: 30 * 86_400,
            time_limits: Default::default(),
            shutdown_grace: Duration::from_secs(30),
            limits: LimitsConfig::default(),
            llm: None,
            model_limits: ModelLimits::default(),
            chat: ChatConfig::default(),
            chat_origins: Vec::new(),
            outbound: Default::default(),
        }
    }
}

/// The server's time and connection limits (the CLI fills them from flags).
#[derive(Debug, Clone, Copy)]
pub struct TimeLimits {
    /// From the request head to the response head.
    pub request: Duration,
    /// For a client to send its request headers.
    pub header: Duration,
    /// For a client to send its whole body, from the request head on.
    pub body: Duration,
    /// Open connections; more wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for TimeLimits {
    fn default() -> Self {
        TimeLimits {
            request: Duration::from_secs(30),
            header: Duration::from_secs(10),
            body: Duration::from_secs(20),
            max_connections: 1024,
        }
    }
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub signer: TokenSigner,
    pub config: Config,
    pub limits: RateLimits,
    /// The chat use case's handles: the store, the models, its settings and
    /// the replies being generated.
    pub chat: Chat,
    /// When each key's `last_used_at` was last written by this node, so a busy
    /// key costs one write a minute rather than one per request.
    key_touches: Mutex<HashMap<String, i64>>,
    /// Keys authenticated here before, for the hot handlers whose statement
    /// checks a remembered key again (`http::extract`).
    pub key_cache: KeyCache,
}

pub type SharedState = Arc<AppState>;

const TOUCH_INTERVAL_MS: i64 = 60_000;

/// HS256 keys shorter than its 256-bit output are guessable offline from any
/// one token (RFC 7518 section 3.2 requires at least this much).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl AppState {
    /// The signing secret comes from configuration when given, otherwise from
    /// the database (generated once), so every node on one database agrees.
    pub async fn new(
        store: Arc<dyn Store>,
        jwt_secret: Option<crate::domain::Secret>,
        config: Config,
    ) -> anyhow::Result<SharedState> {
        let secret = match jwt_secret.filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => anyhow::bail!(
                "the configured JWT secret (--jwt-secret / PERFORMCHAT_JWT_SECRET) is {} bytes; HS256 needs at least \
                 {MIN_JWT_SECRET_BYTES} random bytes. Generate one with `openssl rand -base64 48`, or leave it unset \
                 to have one generated and kept in the database",
                secret.len()
            ),
            Some(secret) => secret.expose().to_owned(),
            None => store
                .shared_jwt_secret(&crate::auth::new_signing_secret())
                .await
                .map_err(|e| anyhow::Error::new(e).context("reading the JWT secret"))?,
        };
        let limits = RateLimits::start(&config.limits).await?;
        let chat = Chat {
            store: Arc::clone(&store),
            models: Arc::new(ModelRegistry::new(config.llm.clone(), config.model_limits)?),
            config: config.chat,
            replies: Arc::default(),
            tools: crate::tools::ToolClient::new(config.outbound.clone())?,
        };
        Ok(Arc::new(AppState {
            key_cache: KeyCache::default(),
            store,
            signer: TokenSigner::new(secret.as_bytes()),
            limits,
            chat,
            config,
            key_touches: Mutex::new(HashMap::new()),
        }))
    }

    /// Records a key's use, at most once a minute per key and off the request path.
    pub fn note_key_used(self: &Arc<Self>, company_id: &str, key_id: &str, now: i64) {
        {
            let mut touches = self.key_touches.lock().unwrap_or_else(|e| e.into_inner());
            match touches.get(key_id) {
                Some(last) if now - last < TOUCH_INTERVAL_MS => return,
                _ => touches.insert(key_id.to_owned(), now),
            };
        }
        let state = Arc::clone(self);
        let (company_id, key_id) = (company_id.to_owned(), key_id.to_owned());
        tokio::spawn(async move {
            if let Err(e) = state.store.touch_api_key(&company_id, &key_id, now).await {
                tracing::warn!(error = %crate::domain::error_chain(&e), "could not record API key use");
            }
        });
    }
}
