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
//! - `tool` (function calling, as the conformance suite's `fake-tool`): when
//!   offered tools and the last message is the user's, calls the first tool
//!   with `{"query": <that message>}` (id, then the arguments in three
//!   fragments, `finish_reason` `tool_calls`); when the last message is a
//!   tool result, "Tool said: <the results joined by ` | `>"; else as `echo`.
//! - `tooltwo`: the same, but two calls at once, to the first two tools (or
//!   the first twice), their fragments interleaved by `index`.
//! - `toolloop`: calls the first tool whenever offered tools; without them,
//!   "Done after <n> results" (n: the tool messages it was given).
//! - `toolfail`: calls as `tool` does, then answers the results with a 500.
//!
//! Call ids are `call_<n>`, counted per server.

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
    calls: std::sync::atomic::AtomicUsize,
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
            calls: Default::default(),
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
                    m["content"].as_str().unwrap_or_default().to_owned(),
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
    if let Some(answer) = tool_answer(&shared, &model, &body) {
        return answer;
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

/// The function-calling modes' answer, when it is a call or a reply to
/// results; `None` leaves the request to the text modes.
fn tool_answer(shared: &Shared, model: &str, body: &Value) -> Option<Response> {
    if !matches!(model, "tool" | "tooltwo" | "toolloop" | "toolfail") {
        return None;
    }
    let empty = Vec::new();
    let messages = body["messages"].as_array().unwrap_or(&empty);
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    let last = messages.last().cloned().unwrap_or_default();
    let results: Vec<&str> = messages
        .iter()
        .rev()
        .take_while(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str())
        .collect();
    let call_one = |tool: &str, query: &str| {
        let n = shared
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        (
            format!("call_{n}"),
            tool.to_owned(),
            json!({ "query": query }).to_string(),
        )
    };
    let text = match model {
        "toolloop" if !tools.is_empty() => {
            return Some(stream_calls(vec![call_one(tools[0], "again")]));
        }
        "toolloop" => {
            let n = messages.iter().filter(|m| m["role"] == "tool").count();
            format!("Done after {n} results")
        }
        _ if !tools.is_empty() && last["role"] == "user" => {
            let query = last["content"].as_str().unwrap_or_default();
            let calls = if model == "tooltwo" {
                let second = tools.get(1).unwrap_or(&tools[0]);
                vec![call_one(tools[0], query), call_one(second, "second")]
            } else {
                vec![call_one(tools[0], query)]
            };
            return Some(stream_calls(calls));
        }
        "toolfail" if last["role"] == "tool" => {
            let err = json!({ "error": { "message": "model crashed", "type": "server_error" } });
            return Some((StatusCode::INTERNAL_SERVER_ERROR, Json(err)).into_response());
        }
        _ if last["role"] == "tool" => {
            let mut results = results;
            results.reverse();
            format!("Tool said: {}", results.join(" | "))
        }
        _ => return None,
    };
    let mut out = vec![chunk(json!({ "role": "assistant", "content": null }), None)];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(4) {
        out.push(chunk(
            json!({ "content": piece.iter().collect::<String>() }),
            None,
        ));
    }
    out.push(chunk(json!({}), Some("stop")));
    out.push(Bytes::from("data: [DONE]\n\n"));
    Some(sse(out))
}

/// Calls (id, name, arguments) streamed as OpenAI streams them: each call's
/// id and name first, then its arguments in three fragments, the calls'
/// fragments interleaved by index.
fn stream_calls(calls: Vec<(String, String, String)>) -> Response {
    let mut out = vec![chunk(json!({ "role": "assistant", "content": null }), None)];
    for (i, (id, name, _)) in calls.iter().enumerate() {
        out.push(chunk(
            json!({ "tool_calls": [{ "index": i, "id": id, "type": "function",
                "function": { "name": name, "arguments": "" } }] }),
            None,
        ));
    }
    for part in 0..3 {
        for (i, (_, _, args)) in calls.iter().enumerate() {
            let size = args.chars().count().div_ceil(3);
            let piece: String = args.chars().skip(part * size).take(size).collect();
            out.push(chunk(
                json!({ "tool_calls": [{ "index": i, "function": { "arguments": piece } }] }),
                None,
            ));
        }
    }
    out.push(chunk(json!({}), Some("tool_calls")));
    out.push(Bytes::from("data: [DONE]\n\n"));
    sse(out)
}

fn sse(chunks: Vec<Bytes>) -> Response {
    let body = futures::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}
