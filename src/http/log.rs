//! One log line per request: method, route, status, latency and the API key
//! that made it (never a secret). Failed authentications are warnings that
//! carry the client's address, so a guessing client leaves a trace.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// Where the credential extractor leaves the id of the key it accepted.
#[derive(Clone, Default)]
pub struct KeySlot(Arc<Mutex<Option<String>>>);

impl KeySlot {
    pub fn set(&self, key_id: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(key_id.to_owned());
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

    let response = next.run(req).await;

    let status = response.status().as_u16();
    let latency_ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0);
    // Unmatched paths are logged as sent (they are what an operator looks for).
    let route = route.as_deref().unwrap_or(&path);
    let key_id = slot.get();
    let key_id = key_id.as_deref().unwrap_or("-");
    let client_ip = peer.as_deref().unwrap_or("-");
    if response.status() == StatusCode::UNAUTHORIZED {
        tracing::warn!(%method, route, status, %latency_ms, client_ip, "authentication failed");
    } else {
        tracing::info!(%method, route, status, %latency_ms, key_id, client_ip, "request");
    }
    response
}
