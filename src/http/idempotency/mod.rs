//! `Idempotency-Key` on the API-key routes' writes (docs/API.md §12), in
//! three steps around the handler:
//!
//! 1. [`IdempotencyLayer`], innermost in the request frame: a `POST`, `PUT`,
//!    `PATCH` or `DELETE` carrying the header gets an [`IdempotencySlot`] in
//!    its extensions. Without the header the request passes straight
//!    through: no allocation, no query, no copy of its body.
//! 2. The API-key extractor (`http::extract`), once the key is proven:
//!    [`IdempotencySlot::claim`] checks the key's syntax, works out the
//!    request's identity and claims the key in the database. A replay, a
//!    409 or a 422 is the extractor's early answer; an unauthenticated
//!    request never gets this far, so it reads and claims nothing.
//! 3. The layer again, with the handler's answer: kept (status, body and
//!    the headers in `KEPT_HEADERS`) unless it is a 5xx or a 429, in which
//!    case the claim is released so a retry runs. A request that never
//!    answers (a panic, a time limit, a dropped connection) releases its
//!    claim when its slot is dropped; a node that dies holding one leaves a
//!    claim that lapses after its lease ([`lease`]).
//!
//! Submodules: `claim` (step 2) and `prune` (forgetting answers after 24 h);
//! what the OpenAPI document says of the header is in `http/openapi/idempotency.rs`.

mod claim;
mod prune;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures::future::{BoxFuture, Either};

pub use prune::{prune_once, spawn_pruning};

use crate::domain::idempotency::{kept_status, KeptAnswer, IDEMPOTENCY_KEY, KEPT_HEADERS};
use crate::error::error_response;
use crate::store::{IdempotencyScope, Store};

/// How long a claim holds when its request never answers: past the longest
/// a request may run (its body's and its answer's time limits), and never
/// under five minutes.
pub(crate) fn lease(limits: &crate::app::TimeLimits) -> Duration {
    (limits.body + limits.request + Duration::from_secs(60)).max(Duration::from_secs(300))
}

/// A write request's `Idempotency-Key`, and its claim once the extractor
/// has made one.
#[derive(Clone)]
pub struct IdempotencySlot(Arc<Slot>);

struct Slot {
    /// The header's values as sent (more than one is refused).
    sent: Vec<Vec<u8>>,
    held: Mutex<Option<Held>>,
}

impl IdempotencySlot {
    fn take_held(&self) -> Option<Held> {
        self.0.held.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn hold(&self, held: Held) {
        *self.0.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(held);
    }
}

/// A claim this request holds. Dropped without being kept or released (the
/// request never answered), it is released in the background.
struct Held {
    store: Arc<dyn Store>,
    scope: IdempotencyScope,
    claim: String,
    settled: bool,
}

impl Held {
    async fn keep(mut self, answer: &KeptAnswer) {
        match self
            .store
            .keep_idempotent_answer(&self.scope, &self.claim, answer)
            .await
        {
            Ok(true) => self.settled = true,
            Ok(false) => {
                self.settled = true;
                tracing::warn!("an Idempotency-Key claim lapsed before its answer was kept");
            }
            Err(e) => {
                tracing::warn!(error = %e, "keeping an Idempotency-Key answer failed; the key is released");
                self.release().await;
            }
        }
    }

    async fn release(mut self) {
        self.settled = true;
        if let Err(e) = self
            .store
            .release_idempotency(&self.scope, &self.claim)
            .await
        {
            // The claim lapses after its lease instead.
            tracing::warn!(error = %e, "releasing an Idempotency-Key claim failed");
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (store, scope, claim) = (
            Arc::clone(&self.store),
            self.scope.clone(),
            std::mem::take(&mut self.claim),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.release_idempotency(&scope, &claim).await {
                    tracing::warn!(error = %e, "releasing an abandoned Idempotency-Key claim failed");
                }
            });
        }
    }
}

/// The layer of step 1 and 3; see the module's documentation.
#[derive(Clone, Copy)]
pub struct IdempotencyLayer;

impl<S> tower::Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Idempotency<S> {
        Idempotency(inner)
    }
}

#[derive(Clone)]
pub struct Idempotency<S>(S);

impl<S> tower::Service<Request> for Idempotency<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let writes = matches!(
            *req.method(),
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        if !writes || !req.headers().contains_key(IDEMPOTENCY_KEY) {
            return Either::Left(self.0.call(req));
        }
        let sent = req
            .headers()
            .get_all(IDEMPOTENCY_KEY)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect();
        let slot = IdempotencySlot(Arc::new(Slot {
            sent,
            held: Mutex::new(None),
        }));
        req.extensions_mut().insert(slot.clone());
        let answer = self.0.call(req);
        Either::Right(Box::pin(async move {
            let response = answer.await?;
            Ok(settle(&slot, response).await)
        }))
    }
}

/// Step 3: keeps the answer of a request that claimed its key, or releases
/// the claim; any other answer (a replay, a refusal before the claim, a
/// route without an API key) goes out as it is.
async fn settle(slot: &IdempotencySlot, response: Response) -> Response {
    let Some(held) = slot.take_held() else {
        return response;
    };
    let status = response.status();
    if !kept_status(status.as_u16()) {
        // Released before answering, so a retry that follows runs.
        held.release().await;
        return response;
    }
    let (parts, body) = response.into_parts();
    // Answers to writes are small JSON documents; exports are GETs.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "reading an answer to keep for its Idempotency-Key failed");
            held.release().await;
            return error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let headers = KEPT_HEADERS
        .iter()
        .flat_map(|name| {
            parts
                .headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect();
    let answer = KeptAnswer {
        status: status.as_u16(),
        headers,
        body: bytes.to_vec(),
    };
    held.keep(&answer).await;
    Response::from_parts(parts, Body::from(bytes))
}
