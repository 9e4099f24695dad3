//! The HTTP layer: thin handlers, grouped by resource (`agents`,
//! `conversations`, `tokens`, `users`, `chat`, `widget`), with the way in
//! (`extract`, `query`), the request frame (`conn`, `deadline`, `linger`,
//! `log`, `rate_limit`, `metrics`) and the document (`openapi`, `views`,
//! `ops`) beside them.

mod agents;
mod chat;
mod console;
mod conversations;
mod events;
pub mod extract;
pub mod idempotency;
mod knowledge;
mod linger;
pub mod log;
pub mod metrics;
pub mod no_store;
mod openapi;
pub mod rate_limit;
// Connections and time limits.
pub mod conn;
pub mod deadline;
mod ops;
pub mod query;
mod stats;
mod tokens;
mod tools;
mod upload;
mod users;
pub mod views;
mod webhooks;
mod widget;

use std::future::Future;
use std::sync::{Arc, LazyLock};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use ops::ApiDoc;

use crate::app::SharedState;

/// The one route list: each `routes!` entry registers the handler with the
/// router and its `#[utoipa::path]` operation with the OpenAPI document, so
/// the two cannot drift apart. Paths are relative to `/rest/v1`; handlers
/// sharing a path go in one `routes!`.
fn api(chat_origins: &[String]) -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(tokens::issue))
        .routes(routes!(tokens::invalidate))
        .routes(routes!(tokens::verify))
        .routes(routes!(users::list::list))
        // Static segments win over `{id}` in axum's router, whatever the order.
        .routes(routes!(users::export::export))
        .routes(routes!(users::recipes::stats))
        .routes(routes!(stats::daily))
        .routes(routes!(users::bulk::bulk))
        .routes(routes!(users::recipes::upsert))
        .routes(routes!(
            users::list::get,
            users::write::update,
            users::recipes::patch,
            users::erase::erase
        ))
        .routes(routes!(users::data_export::data_export))
        .routes(routes!(agents::list))
        .routes(routes!(agents::get))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::messages))
        .routes(routes!(knowledge::list, knowledge::create))
        .routes(routes!(knowledge::get, knowledge::delete))
        .routes(routes!(knowledge::upsert))
        .routes(routes!(knowledge::search))
        .routes(routes!(events::feed))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::test))
        .routes(routes!(tools::create, tools::list))
        .routes(routes!(tools::get, tools::update, tools::delete))
        .routes(routes!(tools::rotate_secret))
        .nest("/chat", chat::router(chat_origins))
        .routes(routes!(ops::openapi_json))
}

/// The routes at the root and under `/rest/v1`, with their document.
fn documented(chat_origins: &[String]) -> (Router<SharedState>, OpenApiRouter<SharedState>) {
    let api = api(chat_origins);
    let root = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::health))
        .routes(routes!(widget::widget_js))
        .routes(routes!(widget::chat_demo))
        .routes(routes!(widget::chat_demo_js))
        .routes(routes!(console::page))
        .routes(routes!(console::asset))
        .nest("/rest/v1", api.clone());
    (Router::from(api), root)
}

/// The OpenAPI document, generated once from the route list, then given
/// what applies by path (`openapi::Contract`: credentials, common errors).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut doc = documented(&[]).1.into_openapi();
        utoipa::Modify::modify(&openapi::Contract, &mut doc);
        doc
    });
    &DOC
}

/// The routes inside the frame every request passes through once: the
/// lingering drain, the log line, the time limits, the panic guard, the
/// rate limits and `Idempotency-Key` (inside them, so a replay gets this
/// response's own rate-limit headers), outermost first. The frame wraps the whole router rather
/// than each route, so a request pays for each layer once, not for a copy of
/// the whole stack per layer.
pub fn router(state: SharedState) -> Router {
    let (api, root) = documented(&state.config.chat_origins);
    let (root, _) = root.split_for_parts();
    let routes = root
        .merge(ops::docs())
        // The docs' own examples double the prefix; both answer.
        .nest("/rest/v1/v1", api)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Our extractor enforces the 1 MiB limit itself, with our error body.
        .layer(DefaultBodyLimit::disable())
        .layer(log::NoteRouteLayer)
        .with_state(Arc::clone(&state));
    let framed = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(linger::drain_unread_body))
        .layer(axum::middleware::from_fn(log::log_request))
        .layer(axum::middleware::from_fn_with_state(
            state.config.time_limits,
            deadline::limit_time,
        ))
        .layer(CatchPanicLayer::custom(ops::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state,
            rate_limit::rate_limit_layer,
        ))
        .layer(idempotency::IdempotencyLayer)
        .service(routes);
    Router::new().fallback_service(framed)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight
/// requests finish for at most the configured grace period.
pub async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config.shutdown_grace;
    let replies = Arc::clone(&state.chat.replies);
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
