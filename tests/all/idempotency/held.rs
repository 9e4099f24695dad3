//! The answers a real route cannot be made to give on demand, through the
//! server's own layer and extractor on a route of the test's own: a request
//! held until the test lets it go (409 meanwhile), one that never answers
//! (its claim is released), and 5xx and 429 answers (not kept).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tokio::sync::Notify;
use tower::{Layer, ServiceExt};

use super::*;
use performchat::domain::Permission;
use performchat::http::extract::{Call, Endpoint};
use performchat::http::idempotency::{Idempotency, IdempotencyLayer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Anything {
    #[allow(dead_code)]
    n: Option<i64>,
}

impl Endpoint for Anything {
    const PERMISSION: Permission = Permission::UsersWrite;
}

#[derive(Default)]
struct Gate {
    /// Runs of the handler.
    ran: AtomicUsize,
    entered: Notify,
    go: Notify,
    hold: AtomicBool,
    /// Statuses to answer, in turn (then 201).
    statuses: Mutex<VecDeque<u16>>,
}

async fn handler(
    Extension(gate): Extension<Arc<Gate>>,
    _call: Call<Anything>,
) -> impl IntoResponse {
    let run = gate.ran.fetch_add(1, Ordering::SeqCst) + 1;
    gate.entered.notify_one();
    if gate.hold.load(Ordering::SeqCst) {
        gate.go.notified().await;
    }
    let status = gate.statuses.lock().unwrap().pop_front().unwrap_or(201);
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({ "run": run })),
    )
}

/// The route at `/thing`, in the server's idempotency layer.
fn app(test: &TestApp, gate: &Arc<Gate>) -> Idempotency<axum::routing::RouterIntoService<Body>> {
    let router = Router::new()
        .route("/thing", post(handler))
        .layer(Extension(Arc::clone(gate)))
        .with_state(Arc::clone(&test.state));
    IdempotencyLayer.layer(router.into_service())
}

/// The request, made now and sent when awaited (so it may be spawned).
fn call(
    test: &TestApp,
    gate: &Arc<Gate>,
    t: &Tenant,
    fields: Value,
) -> impl std::future::Future<Output = Reply> + Send + 'static {
    let req = request(
        Method::POST,
        "/thing",
        t,
        Auth::Basic,
        Some(b"held"),
        fields,
    );
    let service = app(test, gate);
    async move { read(service.oneshot(req).await.unwrap()).await }
}

async fn read(res: axum::response::Response) -> Reply {
    use http_body_util::BodyExt;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} within 30 s"))
}

backend_tests! {
    async fn a_request_still_running_is_409_then_replayed(app) {
        let t = app.tenant("Acme").await;
        let gate = Arc::new(Gate { hold: AtomicBool::new(true), ..Gate::default() });
        let first = tokio::spawn(call(&app, &gate, &t, json!({"n": 1})));
        within("the first request to start", gate.entered.notified()).await;
        let r = call(&app, &gate, &t, json!({"n": 1})).await;
        assert_eq!(r.assert_error(409), "A request with this Idempotency-Key is in progress");
        let r = call(&app, &gate, &t, json!({"n": 2})).await;
        assert_eq!(r.assert_error(422), "Idempotency-Key reused with a different request");
        gate.go.notify_one();
        let first = within("the first answer", first).await.unwrap();
        assert_eq!((first.status.as_u16(), first.body.clone()), (201, json!({"run": 1})));
        let again = call(&app, &gate, &t, json!({"n": 1})).await;
        assert_eq!((again.status.as_u16(), replayed(&again)), (201, true));
        assert_eq!(again.body, json!({"run": 1}));
        assert_eq!(gate.ran.load(Ordering::SeqCst), 1);
    }

    async fn a_request_that_never_answers_gives_its_key_up(app) {
        let t = app.tenant("Acme").await;
        let gate = Arc::new(Gate { hold: AtomicBool::new(true), ..Gate::default() });
        let first = tokio::spawn(call(&app, &gate, &t, json!({})));
        within("the first request to start", gate.entered.notified()).await;
        // The client went away (or the time limit struck): the request is dropped.
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        gate.hold.store(false, Ordering::SeqCst);
        // The claim is released in the background: poll, with a deadline.
        let deadline = Instant::now() + Duration::from_secs(30);
        let r = loop {
            let r = call(&app, &gate, &t, json!({})).await;
            if r.status != 409 || Instant::now() > deadline {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!((r.status.as_u16(), replayed(&r)), (201, false), "{}", r.text);
        assert_eq!(r.body, json!({"run": 2}));
    }

    async fn failures_and_rate_limits_are_not_kept(app) {
        let t = app.tenant("Acme").await;
        let gate = Arc::new(Gate::default());
        gate.statuses.lock().unwrap().extend([503, 500, 429, 404]);
        for (status, run) in [(503, 1), (500, 2), (429, 3)] {
            let r = call(&app, &gate, &t, json!({})).await;
            assert_eq!((r.status.as_u16(), replayed(&r)), (status, false), "{}", r.text);
            assert_eq!(r.body, json!({"run": run}));
        }
        // A 4xx is an answer like any other: kept.
        let r = call(&app, &gate, &t, json!({})).await;
        assert_eq!((r.status.as_u16(), r.body.clone()), (404, json!({"run": 4})));
        let again = call(&app, &gate, &t, json!({})).await;
        assert_eq!((again.status.as_u16(), replayed(&again), again.body.clone()), (404, true, json!({"run": 4})));
        assert_eq!(gate.ran.load(Ordering::SeqCst), 4);
    }
}
