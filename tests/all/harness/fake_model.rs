//! A stand-in OpenAI-compatible model server for the chat tests: a tiny axum
//! app on a free port that records every request and answers by model name.
//!
//! - `echo`: "You said: <last user message>" in 4-character pieces, opening
//!   with a `null` delta and closing with `finish_reason`, a usage-only chunk
//!   and `[DONE]` (the common quirks).
//! - `nodone`: the same without `[DONE]`.
//! - `gated`: "Hello" at once, then waits for [`FakeModel::release`] before
//!   " world" and the end, so a test decides when a reply finishes.
//! - `broken`: a piece of text, then the connection ends with no end marker.
//! - `empty`: completes at once with no text.
//! - `fail`: 500 with an error object.
//! - `flood`: [`FLOOD_BYTES`] of text in 1 KiB pieces, ignoring `max_tokens`,
//!   then `finish_reason` and `[DONE]`; sent as the reader takes it, and
//!   stopped when the reader hangs up.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::channel::mpsc;
use serde_json::{json, Value};
use tokio::sync::{Notify, Semaphore};

struct Shared {
    requests: Mutex<Vec<Value>>,
    arrived: Notify,
    gate: Semaphore,
}

pub struct FakeModel {
    /// The base URL to configure (`…/v1`).
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        let shared = Arc::new(Shared {
            requests: Mutex::default(),
            arrived: Notify::new(),
            gate: Semaphore::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeModel {
            url: format!("http://{addr}/v1"),
            shared,
            task,
        }
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The `messages` of the last request, as (role, content) pairs.
    pub fn last_messages(&self) -> Vec<(String, String)> {
        let last = self.requests().pop().expect("the model was called");
        last["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_owned(),
                    m["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Waits until `n` requests have arrived in all.
    pub async fn wait_for_requests(&self, n: usize) {
        loop {
            let arrived = self.shared.arrived.notified();
            if self.shared.requests.lock().unwrap().len() >= n {
                return;
            }
            arrived.await;
        }
    }

    /// Lets one waiting `gated` reply finish.
    pub fn release(&self) {
        self.shared.gate.add_permits(1);
    }
}

/// How much text `flood` sends: 4 MiB.
pub const FLOOD_BYTES: usize = 4 << 20;

/// `flood`'s body: pieces go out only as fast as the server reads them.
fn flood() -> Response {
    use futures::SinkExt;
    let (mut tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
    tokio::spawn(async move {
        let piece = "0123456789abcdef".repeat(64);
        for _ in 0..FLOOD_BYTES / piece.len() {
            if tx
                .send(Ok(chunk(json!({ "content": piece }), None)))
                .await
                .is_err()
            {
                return; // the server stopped reading
            }
        }
        let _ = tx.send(Ok(chunk(json!({}), Some("stop")))).await;
        let _ = tx.send(Ok(Bytes::from("data: [DONE]\n\n"))).await;
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(rx))
        .unwrap()
}

fn chunk(delta: Value, finish: Option<&str>) -> Bytes {
    let obj = json!({ "id": "chatcmpl-1", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
    Bytes::from(format!("data: {obj}\n\n"))
}

async fn completions(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    shared.arrived.notify_waiters();
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let last_user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    if model == "fail" {
        let err = json!({ "error": { "message": "model crashed", "type": "server_error" } });
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(err)).into_response();
    }
    if model == "flood" {
        return flood();
    }
    let (tx, rx) = mpsc::unbounded::<Result<Bytes, Infallible>>();
    let send = move |b: Bytes| {
        let _ = tx.unbounded_send(Ok(b));
    };
    tokio::spawn(async move {
        send(chunk(json!({ "role": "assistant", "content": null }), None));
        match model.as_str() {
            "gated" => {
                send(chunk(json!({ "content": "Hello" }), None));
                let permit = shared.gate.acquire().await.unwrap();
                permit.forget();
                send(chunk(json!({ "content": " world" }), None));
                send(chunk(json!({}), Some("stop")));
                send(Bytes::from("data: [DONE]\n\n"));
            }
            "broken" => send(chunk(json!({ "content": "Half a rep" }), None)),
            "empty" => {
                send(chunk(json!({}), Some("stop")));
                send(Bytes::from("data: [DONE]\n\n"));
            }
            _ => {
                let text: Vec<char> = format!("You said: {last_user}").chars().collect();
                for piece in text.chunks(4) {
                    send(chunk(
                        json!({ "content": piece.iter().collect::<String>() }),
                        None,
                    ));
                }
                send(chunk(json!({}), Some("stop")));
                let usage =
                    json!({ "id": "chatcmpl-1", "choices": [], "usage": { "prompt_tokens": 1 } });
                send(Bytes::from(format!("data: {usage}\n\n")));
                if model != "nodone" {
                    send(Bytes::from("data: [DONE]\n\n"));
                }
            }
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(rx))
        .unwrap()
}
