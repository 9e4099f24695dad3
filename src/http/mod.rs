//! The HTTP layer: thin handlers, one module per resource.

mod agents;
mod bulk;
mod chat;
mod conversations;
mod export;
pub mod extract;
mod ops;
pub mod query;
mod recipes;
mod tokens;
mod users;
pub mod views;
mod widget;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use futures::stream::{self, StreamExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use ops::ApiDoc;

use crate::app::SharedState;

fn api(chat_origins: &[String]) -> Router<SharedState> {
    Router::new()
        .route("/auth/token", post(tokens::issue))
        .route("/auth/invalidate-token", post(tokens::invalidate))
        .route("/auth/verify-token", post(tokens::verify))
        .route("/customer-users", get(users::list))
        // Static segments win over `{id}` in axum's router, whatever the order.
        .route("/customer-users/export", get(export::export))
        .route("/customer-users/stats", get(recipes::stats))
        .route("/customer-users/bulk", post(bulk::bulk))
        .route(
            "/customer-users/by-external-id/{external_id}",
            put(recipes::upsert),
        )
        .route(
            "/customer-users/{id}",
            get(users::get).put(users::update).patch(recipes::patch),
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
        .route("/widget.js", get(widget::widget_js))
        .route("/chat-demo", get(widget::chat_demo))
        .route("/chat-demo.js", get(widget::chat_demo_js))
        .nest("/rest/v1/v1", api.clone())
        .nest("/rest/v1", api)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Our extractor enforces the 1 MiB limit itself, with our error body.
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(ops::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(close_if_body_unread))
        .with_state(state)
}

/// A response sent before its request body was read to the end (a 413, or a
/// 404/405/400 that never looked at the body) leaves the rest of that body on
/// the connection, so hyper drops the connection afterwards. Saying
/// `Connection: close` tells the client not to send its next request there.
async fn close_if_body_unread(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finished);
    let end = stream::once(async move {
        flag.store(true, Ordering::Release);
    })
    .filter_map(|()| async { None::<Result<Bytes, axum::Error>> });
    let tracked = Body::from_stream(body.into_data_stream().chain(end));
    let mut response = next.run(Request::from_parts(parts, tracked)).await;
    if !finished.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
