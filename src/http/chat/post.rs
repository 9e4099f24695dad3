//! `POST /chat/conversations/:id/messages`: the question is stored, then the
//! reply streams as SSE (`Accept: text/event-stream`) or comes whole as JSON.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Receiver;
use utoipa::ToSchema;

use super::bearer::{ChatBody, ChatUser};
use crate::app::SharedState;
use crate::chat::{post_message, Grants, ReplyEvent};
use crate::domain::MessageContent;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::PathId;
use crate::http::rate_limit::RateScope;
use crate::http::views::{ErrorBody, MessageView};
use crate::limits::Policy;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1–8000 characters, not only whitespace, no NUL.
    #[schema(min_length = 1, max_length = 8000, format = "non-blank-text")]
    content: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    user_message: MessageView,
    assistant_message: MessageView,
}

fn wants_sse(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/event-stream"))
}

/// Stores the question and answers with the reply. With
/// `Accept: text/event-stream`: 200 and events `user_message`, `delta`…
/// (with `tool_call` / `tool_result` as tools run), then `assistant_message`
/// or `error`. Otherwise 201 with both messages, or
/// 502 `Language model unavailable` (the question stays stored).
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "chat",
    security(("chat_token" = [])),
    params(("id" = String, Path, description = "Conversation id (conv_…)")),
    request_body = NewMessage,
    responses(
        (status = 200, description = "SSE: user_message, delta… (tool_call, tool_result), assistant_message | error", content_type = "text/event-stream"),
        (status = 201, body = Exchange),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A reply is already being generated", body = ErrorBody),
        (status = 502, description = "Language model unavailable", body = ErrorBody),
    ))]
pub async fn post(
    State(state): State<SharedState>,
    ChatUser(t): ChatUser,
    PathId(id): PathId,
    headers: HeaderMap,
    limits: RateScope,
    ChatBody(body, ..): ChatBody<NewMessage>,
) -> ApiResult<Response> {
    let content = MessageContent::parse(body.content).map_err(ApiError::BadRequest)?;
    // The message is accepted for processing from here on: a valid message
    // spends the customer user's `chat` budget (docs/API.md §0.4), and a rejected one
    // (429) stores nothing.
    limits.enforce(&state, Policy::Chat, &t.user.id).await?;
    let grants = Grants {
        rag_access: t.claims.allows(crate::domain::Permission::RagAccess),
        tools_use: t.claims.allows(crate::domain::Permission::ToolsUse),
    };
    let streaming = wants_sse(&headers);
    let started = post_message(
        &state.chat,
        &t.user,
        &t.agent,
        &id,
        &content,
        grants,
        streaming,
    )
    .await?;
    let question = MessageView::from(started.question);
    if streaming {
        let mut response = sse(question, started.events).into_response();
        // Reverse proxies such as nginx would otherwise hold deltas back.
        response.headers_mut().insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
        return Ok(response);
    }
    let mut events = started.events;
    while let Some(event) = events.recv().await {
        match event {
            ReplyEvent::Delta(_) | ReplyEvent::ToolCall(_) | ReplyEvent::ToolResult(_) => {}
            ReplyEvent::Done(reply) => {
                let body = Exchange {
                    user_message: question,
                    assistant_message: (*reply).into(),
                };
                return Ok((StatusCode::CREATED, Json(body)).into_response());
            }
            ReplyEvent::Failed(e) => return Err((*e).into()),
        }
    }
    // The task ends every reply with Done or Failed; only a panic gets here.
    Err(ApiError::Internal(
        "the reply task ended without a result".into(),
    ))
}

/// One SSE reply stream held open by a client, counted in `/metrics` from
/// the answer until the stream ends or the client leaves.
struct OpenStream;

const STREAMS_OPEN: &str = "chat_streams_open";

impl OpenStream {
    fn new() -> Self {
        metrics::gauge!(STREAMS_OPEN).increment(1);
        OpenStream
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!(STREAMS_OPEN).decrement(1);
    }
}

fn sse(
    question: MessageView,
    events: Receiver<ReplyEvent>,
) -> Sse<impl Stream<Item = Result<Event, std::io::Error>>> {
    let first = stream::once(async move { Ok(json_event("user_message", &question)) });
    // The counter lives in the stream's state, so it drops with the stream
    // whether the reply ended or the client went away.
    let rest = stream::unfold(
        (events, OpenStream::new(), false),
        |(mut rx, open, ended)| async move {
            let event = match rx.recv().await {
                Some(ReplyEvent::Delta(text)) => {
                    (json_event("delta", &Delta { content: &text }), false)
                }
                Some(ReplyEvent::ToolCall(call)) => (
                    json_event("tool_call", &crate::http::views::ToolCallView::from(*call)),
                    false,
                ),
                // The tool's answer stays out of the stream: it is for the model.
                Some(ReplyEvent::ToolResult(ended)) => (
                    json_event(
                        "tool_result",
                        &serde_json::json!({ "id": ended.id, "name": ended.name, "status": ended.status.as_str() }),
                    ),
                    false,
                ),
                Some(ReplyEvent::Done(reply)) => (
                    json_event("assistant_message", &MessageView::from(*reply)),
                    true,
                ),
                Some(ReplyEvent::Failed(e)) => {
                    (json_event("error", &ApiError::from(*e).body()), true)
                }
                None if ended => return None,
                // The client fell too far behind and was dropped (the reply
                // goes on and is stored): an error item aborts the response,
                // so the client sees a broken stream, not one that looks whole.
                None => {
                    let dropped = std::io::Error::other("the client fell behind its reply");
                    return Some((Err(dropped), (rx, open, true)));
                }
            };
            let (event, ended) = event;
            Some((Ok(event), (rx, open, ended)))
        },
    );
    Sse::new(first.chain(rest)).keep_alive(KeepAlive::default())
}

/// A `delta` event's data, written straight from the piece (no JSON tree).
#[derive(Serialize)]
struct Delta<'a> {
    content: &'a str,
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "{}".into()))
}
