//! Builds the application: shared state, the router, and `serve`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::TokenSigner;
use crate::chat::{ChatConfig, ReplyTasks};
use crate::limits::{LimitsConfig, RateLimits};
use crate::llm::{ModelEndpoint, ModelLimits, ModelRegistry};
use crate::store::Store;

/// Settings that shape request handling (the CLI fills them from flags/env).
#[derive(Debug, Clone)]
pub struct Config {
    /// Upper bound for a token's `expiresIn`, in seconds.
    pub max_token_ttl_secs: i64,
    /// Request, header and body time limits and the connection cap.
    pub time_limits: crate::http::deadline::TimeLimits,
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
        }
    }
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub signer: TokenSigner,
    pub config: Config,
    pub limits: RateLimits,
    pub models: ModelRegistry,
    pub chat: ChatConfig,
    pub replies: Arc<ReplyTasks>,
    /// When each key's `last_used_at` was last written by this node, so a busy
    /// key costs one write a minute rather than one per request.
    key_touches: Mutex<HashMap<String, i64>>,
}

pub type SharedState = Arc<AppState>;

const TOUCH_INTERVAL_MS: i64 = 60_000;

/// HS256 keys shorter than its 256-bit output are guessable offline from any
/// one token (RFC 7518 §3.2 requires at least this much).
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
                .map_err(|e| anyhow::anyhow!("reading the JWT secret: {e}"))?,
        };
        let limits = RateLimits::start(&config.limits).await?;
        let models = ModelRegistry::new(config.llm.clone(), config.model_limits)?;
        Ok(Arc::new(AppState {
            store,
            signer: TokenSigner::new(secret.as_bytes()),
            limits,
            models,
            chat: config.chat,
            replies: Arc::default(),
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
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
}

pub fn router(state: SharedState) -> axum::Router {
    crate::http::router(state)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight
/// requests finish for at most the configured grace period.
pub async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config.shutdown_grace;
    let replies = Arc::clone(&state.replies);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    };
    // The peer address (ConnectInfo, set by the accept loop) feeds the
    // request log and the per-address lockout.
    let limits = state.config.time_limits;
    let server = crate::http::conn::serve(listener, router(state), limits, signal);
    // Replies whose clients already left are still generating: they get
    // the same grace, so they are stored rather than cut off.
    let server = async move {
        let result = server.await;
        replies.idle().await;
        result
    };
    tokio::select! {
        result = server => result,
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests or replies did not finish within {grace:?}; exiting");
            Ok(())
        }
    }
}
