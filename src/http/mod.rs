//! The HTTP layer: thin handlers, one module per resource.

mod agents;
mod chat;
mod conversations;
pub mod extract;
pub mod limit;
mod linger;
pub mod log;
pub mod metrics;
// Connections and time limits.
pub mod conn;
pub mod deadline;
mod ops;
pub mod query;
mod tokens;
mod users;
pub mod views;
mod widget;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

pub use ops::ApiDoc;

use crate::app::SharedState;

fn api(chat_origins: &[String]) -> Router<SharedState> {
    Router::new()
        .route("/auth/token", post(tokens::issue))
        .route("/auth/invalidate-token", post(tokens::invalidate))
        .route("/auth/verify-token", post(tokens::verify))
        .route("/customer-users", get(users::list))
        // Static segments win over `{id}` in axum's router, whatever the order.
        .route("/customer-users/export", get(users::export::export))
        .route("/customer-users/stats", get(users::recipes::stats))
        .route("/customer-users/bulk", post(users::bulk::bulk))
        .route(
            "/customer-users/by-external-id/{external_id}",
            put(users::recipes::upsert),
        )
        .route(
            "/customer-users/{id}",
            get(users::get).put(users::update).patch(users::recipes::patch),
        )
        .route("/agents", get(agents::list))
        .route("/agents/{id}", get(agents::get))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{id}", get(conversations::get))
        .route("/conversations/{id}/messages", get(conversations::messages))
        .nest("/chat", chat::router(chat_origins))
        .route("/openapi.json", get(ops::openapi_json))
}

pub fn router(state: SharedState) -> Router {
    let api = api(&state.config.chat_origins);
    Router::new()
        .route("/health", get(ops::health))
        .merge(ops::docs())
        .route("/widget.js", get(widget::widget_js))
        .route("/chat-demo", get(widget::chat_demo))
        .route("/chat-demo.js", get(widget::chat_demo_js))
        .nest("/rest/v1/v1", api.clone())
        .nest("/rest/v1", api)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Our extractor enforces the 1 MiB limit itself, with our error body.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::rate_limit_layer,
        ))
        .layer(CatchPanicLayer::custom(ops::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.config.time_limits,
            deadline::limit_time,
        ))
        .layer(axum::middleware::from_fn(log::log_request))
        .layer(axum::middleware::from_fn(linger::drain_unread_body))
        .with_state(state)
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
    let server = conn::serve(listener, router(state), limits, signal);
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
