//! One log line per request: method, route, status, latency, request id and
//! the API key that made it (never a secret). Failed authentications are
//! warnings that carry the client's address, so a guessing client leaves a
//! trace. The same place counts the request for `/metrics`.
//!
//! `X-Request-Id`: a caller's id is kept when it is 1–128 visible ASCII
//! characters (anything else could forge log lines or bloat them) and
//! replaced by a fresh ULID otherwise; either way it is answered back and
//! every log line of the request carries it (a span around the handler).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID: usize = 128;

fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

fn request_id(req: &Request) -> HeaderValue {
    match req.headers().get(&REQUEST_ID) {
        Some(given) if acceptable_request_id(given) => given.clone(),
        _ => HeaderValue::from_str(&ulid::Ulid::new().to_string()).expect("a ULID is ASCII"),
    }
}

/// Where the credential extractor leaves the id of the key it accepted.
#[derive(Clone, Default)]
pub struct KeySlot(Arc<Mutex<Option<String>>>);

impl KeySlot {
    pub fn set(&self, key_id: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(key_id.to_owned());
    }

    /// A key taken from memory turned out refused: log no key, as for any refusal.
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let path = req.uri().path().to_owned();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let slot = KeySlot::default();
    req.extensions_mut().insert(slot.clone());
    let id = request_id(&req);
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let request_id = id.to_str().unwrap_or("-").to_owned();

    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(req).instrument(span).await;
    response.headers_mut().insert(REQUEST_ID, id);

    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    crate::http::metrics::record_request(
        method.as_str(),
        route.as_deref().unwrap_or("unmatched"),
        status,
        elapsed,
    );
    let latency_ms = format!("{:.2}", elapsed * 1000.0);
    // Unmatched paths are logged as sent (they are what an operator looks for).
    let route = route.as_deref().unwrap_or(&path);
    let key_id = slot.get();
    let key_id = key_id.as_deref().unwrap_or("-");
    let client_ip = peer.as_deref().unwrap_or("-");
    if response.status() == StatusCode::UNAUTHORIZED {
        tracing::warn!(%method, route, status, %latency_ms, request_id, client_ip, "authentication failed");
    } else {
        tracing::info!(%method, route, status, %latency_ms, request_id, key_id, client_ip, "request");
    }
    response
}
