//! The HTTP side of rate limiting: a layer that works out the client address
//! and, after the handler, writes the decision's headers; and the calls that
//! extractors and handlers make into `limits`, turning refusals into 429s.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::SharedState;
use crate::error::ApiError;
use crate::limits::{Decision, Policy};

/// One request's view of the limits: who it comes from, and the decision to
/// report in its response headers.
#[derive(Clone, Debug, Default)]
pub struct RateScope {
    client: Option<IpAddr>,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl RateScope {
    /// The client address (after the trusted-proxy rule), when known.
    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// Charges `subject`'s bucket of `policy` — e.g. `Policy::Chat` with the
    /// customer user's id — and remembers the decision for the response
    /// headers. Refused → 429 with `Retry-After`.
    pub async fn enforce(
        &self,
        state: &SharedState,
        policy: Policy,
        subject: &str,
    ) -> Result<(), ApiError> {
        let decision = state.limits.check(policy, subject).await;
        self.apply(decision)
    }

    /// An authenticated API-key request: its address's lockout, then its key's bucket.
    pub async fn enforce_key(
        &self,
        state: &SharedState,
        policy: Policy,
        key_id: &str,
    ) -> Result<(), ApiError> {
        let decision = state.limits.check_key(self.client, policy, key_id).await;
        self.apply(decision)
    }

    /// Counts a failed authentication; `Err(429)` when the address is now
    /// over its limit, so the caller answers that instead of its 401.
    pub async fn failed_auth(&self, state: &SharedState) -> Result<(), ApiError> {
        let decision = state.limits.failed_auth(self.client).await;
        self.apply(decision)
    }

    fn apply(&self, decision: Option<Decision>) -> Result<(), ApiError> {
        let Some(decision) = decision else {
            return Ok(());
        };
        *self.decision.lock().unwrap_or_else(|e| e.into_inner()) = Some(decision);
        if decision.allowed {
            Ok(())
        } else {
            crate::http::metrics::record_refusal(decision.policy.name());
            Err(ApiError::TooManyRequests {
                message: decision.refusal(),
                retry_after_secs: decision.retry_after_secs,
            })
        }
    }

    fn decision(&self) -> Option<Decision> {
        *self.decision.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RateScope {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Outside the layer (never in the served router) a scope of an unknown
        // client still limits: it only has no headers to write.
        Ok(parts
            .extensions
            .get::<RateScope>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The layer: client address in, rate-limit headers out.
pub async fn rate_limit_layer(
    State(state): State<SharedState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let client = state
        .config
        .limits
        .trusted_proxies
        .client_ip(peer, forwarded);
    let scope = RateScope {
        client,
        decision: Arc::default(),
    };
    if let Some(slot) = req.extensions().get::<super::log::LogSlot>() {
        slot.set_client(client);
    }
    req.extensions_mut().insert(scope.clone());
    let mut response = next.run(req).await;
    if let Some(decision) = scope.decision() {
        let headers = response.headers_mut();
        for (name, value) in decision.headers() {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    response
}
