//! A company's tool endpoint for the chat tests (docs/API.md §10): on
//! 127.0.0.1, it records every call (headers and JSON body) and answers each
//! path as told: a status, a body, and optionally a delay first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Call {
    pub headers: HashMap<String, String>,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn ok(body: &str) -> Answer {
        Answer {
            status: 200,
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct Inner {
    got: Mutex<HashMap<String, Vec<Call>>>,
    answers: Mutex<HashMap<String, Answer>>,
}

pub struct ToolEndpoint {
    inner: Arc<Inner>,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ToolEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    inner
        .got
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default()
        .push(call);
    let answer = inner.answers.lock().unwrap().get(&path).cloned();
    let answer = answer.unwrap_or_else(|| Answer::ok("{}"));
    tokio::time::sleep(answer.delay).await;
    let status = StatusCode::from_u16(answer.status).unwrap();
    (status, [("content-type", "application/json")], answer.body).into_response()
}

impl ToolEndpoint {
    pub async fn start() -> ToolEndpoint {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{path}", axum::routing::post(handle))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ToolEndpoint { inner, base, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// How `path` answers from now on (200 `{}` until told).
    pub fn answer(&self, path: &str, answer: Answer) {
        self.inner
            .answers
            .lock()
            .unwrap()
            .insert(path.into(), answer);
    }

    /// The calls `path` has had, in order.
    pub fn got(&self, path: &str) -> Vec<Call> {
        let got = self.inner.got.lock().unwrap();
        got.get(path).cloned().unwrap_or_default()
    }
}
