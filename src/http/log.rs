//! One log line per request: method, route, status, latency, request id and
//! the API key that made it (never a secret). Failed authentications are
//! warnings that carry the client's address, so a guessing client leaves a
//! trace. The same place counts the request for `/metrics`.
//!
//! The address logged is the one the lockout counts: the forwarded client
//! when the peer is a trusted proxy (`--trusted-proxies`), else the TCP peer.
//! The rate-limit layer, inside this one, works it out and notes it here, so
//! the log and the lockout cannot disagree about who failed.
//!
//! `X-Request-Id`: a caller's id is kept when it is 1–128 visible ASCII
//! characters (anything else could forge log lines or bloat them) and
//! replaced by a fresh ULID otherwise; either way it is answered back and
//! every log line of the request carries it (a span around the handler).

use std::net::{IpAddr, SocketAddr};
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

/// What the layers inside the router learn for the log line: the route the
/// request matched (set by [`NoteRoute`]), the client address after the
/// trusted-proxy rule (set by the rate-limit layer) and the id of the key the
/// credential extractor accepted.
#[derive(Clone, Default)]
pub struct LogSlot(Arc<Mutex<Noted>>);

#[derive(Default)]
struct Noted {
    route: Option<MatchedPath>,
    client: Option<IpAddr>,
    key_id: Option<String>,
}

impl LogSlot {
    fn noted(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client address the lockout counts against.
    pub fn set_client(&self, client: Option<IpAddr>) {
        self.noted().client = client;
    }

    pub fn set_key(&self, key_id: &str) {
        self.noted().key_id = Some(key_id.to_owned());
    }

    /// A key taken from memory turned out not to hold: log no key, as for any failed authentication.
    pub fn clear_key(&self) {
        self.noted().key_id = None;
    }

    fn take(&self) -> Noted {
        std::mem::take(&mut self.noted())
    }
}

/// The layer, innermost around each route, that tells the log line which
/// route matched: the log's own layer wraps the whole router once, where the
/// route is not known yet. (Applied per route, the log's layer and those
/// inside it were copied, boxed, for every request.)
#[derive(Clone, Copy)]
pub struct NoteRouteLayer;

impl<S> tower::Layer<S> for NoteRouteLayer {
    type Service = NoteRoute<S>;

    fn layer(&self, inner: S) -> NoteRoute<S> {
        NoteRoute(inner)
    }
}

#[derive(Clone)]
pub struct NoteRoute<S>(S);

impl<S: tower::Service<Request>> tower::Service<Request> for NoteRoute<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> S::Future {
        let extensions = req.extensions();
        if let (Some(route), Some(slot)) =
            (extensions.get::<MatchedPath>(), extensions.get::<LogSlot>())
        {
            slot.noted().route = Some(route.clone());
        }
        self.0.call(req)
    }
}

pub async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let slot = LogSlot::default();
    req.extensions_mut().insert(slot.clone());
    let id = request_id(&req);
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let request_id = id.to_str().unwrap_or("-").to_owned();

    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(req).instrument(span).await;
    response.headers_mut().insert(REQUEST_ID, id);

    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let Noted {
        route,
        client,
        key_id,
    } = slot.take();
    let route = route.as_ref().map(MatchedPath::as_str);
    crate::http::metrics::record_request(
        method.as_str(),
        route.unwrap_or("unmatched"),
        status,
        elapsed,
    );
    let latency_ms = format!("{:.2}", elapsed * 1000.0);
    // Unmatched paths are logged as sent (they are what an operator looks for).
    let route = route.unwrap_or(&path);
    let key_id = key_id.as_deref().unwrap_or("-");
    // The peer stands in when no inner layer noted a client (a request the
    // router never reached, such as one rejected for its time limit).
    let client_ip = client
        .or(peer)
        .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let client_ip = client_ip.as_str();
    if response.status() == StatusCode::UNAUTHORIZED {
        tracing::warn!(%method, route, status, %latency_ms, request_id, client_ip, "authentication failed");
    } else {
        tracing::info!(%method, route, status, %latency_ms, request_id, key_id, client_ip, "request");
    }
    response
}
