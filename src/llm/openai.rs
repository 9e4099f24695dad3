//! An OpenAI-compatible Chat Completions client (`POST {base}/chat/completions`
//! with `stream: true`), as served by Ollama, vLLM, llama.cpp's server and
//! OpenAI. Lenient where those servers differ: a first delta whose content is
//! `null`, a usage-only last chunk with no choices, a stream that ends after
//! its `finish_reason` without `data: [DONE]`, and a server that ignores
//! `stream` and answers with one JSON completion.
//!
//! Tool calls (docs/API.md §10) are offered as `tools` when the request has
//! any, and read from the stream's fragments or the JSON completion's
//! message by [`super::tool_calls`].
//!
//! Nothing the model sends is buffered without a bound: an error body is read
//! up to [`ERROR_BODY_BYTES`], a JSON completion and each SSE line or event up
//! to the request's [`ModelRequest::max_piece_bytes`].

use std::collections::VecDeque;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::sse::{SseEvent, SseParser};
use super::tool_calls::{fragments, CallAssembler, CallFragment};
use super::wire::{error_text, request_body, whole_completion};
use super::{Deltas, ModelClient, ModelEndpoint, ModelError, ModelRequest, Piece};

pub struct OpenAiClient {
    http: reqwest::Client,
    endpoint: ModelEndpoint,
}

impl OpenAiClient {
    pub fn new(http: reqwest::Client, endpoint: ModelEndpoint) -> Self {
        OpenAiClient { http, endpoint }
    }
}

/// What one `data:` payload of the stream says.
#[derive(Debug, PartialEq)]
pub enum Chunk {
    /// Text (possibly none), fragments of tool calls (possibly none), and
    /// whether the model said it was finished.
    Delta {
        text: String,
        calls: Vec<CallFragment>,
        finished: bool,
    },
    /// `[DONE]`.
    Done,
}

/// Reads one event of the stream.
pub fn parse_event(event: &SseEvent) -> Result<Chunk, ModelError> {
    let data = event.data.trim();
    if data == "[DONE]" {
        return Ok(Chunk::Done);
    }
    let value: Value = serde_json::from_str(data)
        .map_err(|e| ModelError::Malformed(format!("{e}: {data:.200}")))?;
    if let Some(error) = value.get("error") {
        return Err(ModelError::Reported(error_text(error)));
    }
    let choice = value.get("choices").and_then(|c| c.get(0));
    let text = choice
        .and_then(|c| c.get("delta"))
        .and_then(|d| d.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let calls = fragments(
        choice
            .and_then(|c| c.get("delta"))
            .and_then(|d| d.get("tool_calls")),
    )?;
    let finished = choice
        .and_then(|c| c.get("finish_reason"))
        .is_some_and(|f| !f.is_null());
    Ok(Chunk::Delta {
        text,
        calls,
        finished,
    })
}

#[async_trait]
impl ModelClient for OpenAiClient {
    async fn stream(&self, request: ModelRequest) -> Result<Deltas, ModelError> {
        let url = format!(
            "{}/chat/completions",
            self.endpoint.url.trim_end_matches('/')
        );
        let body = request_body(&self.endpoint.model, &request);
        let mut req = self.http.post(&url).json(&body);
        if let Some(key) = &self.endpoint.api_key {
            req = req.bearer_auth(key);
        }
        let limit = request.max_piece_bytes();
        let response = req
            .send()
            .await
            .map_err(|e| ModelError::Unreachable(without_url(e)))?;
        let status = response.status();
        if !status.is_success() {
            // Only its start goes to the log; the rest is never read.
            let (start, _) = read_capped(response.bytes_stream(), ERROR_BODY_BYTES)
                .await
                .unwrap_or_default();
            return Err(ModelError::Status {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&start).chars().take(300).collect(),
            });
        }
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let (bytes, whole) = read_capped(response.bytes_stream(), limit)
                .await
                .map_err(|e| ModelError::Unreachable(without_url(e)))?;
            if !whole {
                return Err(ModelError::Malformed(format!(
                    "a JSON completion longer than {limit} bytes"
                )));
            }
            let pieces = whole_completion(&bytes)?;
            return Ok(stream::iter(pieces.into_iter().map(Ok)).boxed());
        }
        Ok(deltas(response.bytes_stream().boxed(), limit))
    }
}

/// How much of an error answer is read (its first 300 characters are logged).
pub const ERROR_BODY_BYTES: usize = 4096;

/// Reads `body` until its end or `limit` bytes, whichever comes first; the
/// bytes, and whether that was the whole body. What lies past the limit is
/// never read (dropping the response closes its connection).
async fn read_capped<S, E>(mut body: S, limit: usize) -> Result<(Vec<u8>, bool), E>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if out.len() + chunk.len() > limit {
            out.extend_from_slice(&chunk[..limit - out.len()]);
            return Ok((out, false));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, true))
}

/// reqwest errors name the URL, which may carry credentials; keep the cause.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

type Bytes = futures::stream::BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>;

/// Turns the response body into pieces: text as it comes, then the tool
/// calls assembled from their fragments (when there are any), ending at the
/// first `finish_reason` or `[DONE]`, or with [`ModelError::Incomplete`] when
/// the body ends before either. A line or event longer than `limit` bytes,
/// or calls the assembler refuses, end it as malformed.
pub(super) fn deltas(body: Bytes, limit: usize) -> Deltas {
    struct State {
        body: Bytes,
        parser: SseParser,
        pending: VecDeque<SseEvent>,
        calls: CallAssembler,
        /// What is ready to go out, in order.
        out: VecDeque<Result<Piece, ModelError>>,
        ended: bool,
        done: bool,
    }
    impl State {
        fn fail(&mut self, e: ModelError) {
            self.out.push_back(Err(e));
            self.done = true;
        }
        /// The model finished: its calls, if it made any, go last.
        fn complete(&mut self) {
            self.done = true;
            let calls = std::mem::take(&mut self.calls);
            if !calls.is_empty() {
                self.out.push_back(calls.finish().map(Piece::Calls));
            }
        }
    }
    let state = State {
        body,
        parser: SseParser::with_limit(limit),
        pending: VecDeque::new(),
        calls: CallAssembler::new(),
        out: VecDeque::new(),
        ended: false,
        done: false,
    };
    stream::unfold(state, move |mut s| async move {
        loop {
            if let Some(item) = s.out.pop_front() {
                return Some((item, s));
            }
            if s.done {
                return None;
            }
            if let Some(event) = s.pending.pop_front() {
                match parse_event(&event) {
                    Err(e) => s.fail(e),
                    Ok(Chunk::Done) => s.complete(),
                    Ok(Chunk::Delta {
                        text,
                        calls,
                        finished,
                    }) => {
                        if !text.is_empty() {
                            s.out.push_back(Ok(Piece::Text(text)));
                        }
                        let fed = calls.into_iter().try_for_each(|f| s.calls.feed(f));
                        match fed {
                            Err(e) => s.fail(e),
                            Ok(()) if finished => s.complete(),
                            Ok(()) => {}
                        }
                    }
                }
                continue;
            }
            if s.ended {
                s.fail(ModelError::Incomplete);
                continue;
            }
            match s.body.next().await {
                Some(Ok(bytes)) => {
                    s.pending.extend(s.parser.feed(&bytes));
                    if s.parser.overflowed() && s.pending.is_empty() {
                        let e = format!("a stream line or event longer than {limit} bytes");
                        s.fail(ModelError::Malformed(e));
                    }
                }
                Some(Err(e)) => s.fail(ModelError::Unreachable(without_url(e))),
                None => {
                    s.ended = true;
                    s.pending.extend(s.parser.finish());
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }

    #[test]
    fn reads_the_known_quirks() {
        let null_first = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}]}"#;
        assert_eq!(
            parse_event(&event(null_first)).unwrap(),
            Chunk::Delta {
                text: String::new(),
                calls: vec![],
                finished: false
            }
        );
        let usage_only = r#"{"choices":[],"usage":{"prompt_tokens":1}}"#;
        assert_eq!(
            parse_event(&event(usage_only)).unwrap(),
            Chunk::Delta {
                text: String::new(),
                calls: vec![],
                finished: false
            }
        );
        let last = r#"{"choices":[{"delta":{"content":"!"},"finish_reason":"stop"}]}"#;
        assert_eq!(
            parse_event(&event(last)).unwrap(),
            Chunk::Delta {
                text: "!".into(),
                calls: vec![],
                finished: true
            }
        );
        assert_eq!(parse_event(&event("[DONE]")).unwrap(), Chunk::Done);
        assert!(matches!(
            parse_event(&event(r#"{"error":{"message":"overloaded"}}"#)),
            Err(ModelError::Reported(m)) if m == "overloaded"
        ));
        assert!(parse_event(&event("not json")).is_err());
    }

    fn text_of(piece: Piece) -> String {
        match piece {
            Piece::Text(text) => text,
            Piece::Calls(calls) => panic!("no calls expected, got {calls:?}"),
        }
    }

    async fn collect(body: &'static [&'static str]) -> Vec<Result<String, String>> {
        let chunks = stream::iter(
            body.iter()
                .map(|s| Ok(bytes::Bytes::from_static(s.as_bytes()))),
        );
        deltas(chunks.boxed(), 1000)
            .map(|r| r.map(text_of).map_err(|e| e.to_string()))
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_stream_ends_at_finish_reason_or_done_else_it_is_incomplete() {
        let a = r#"data: {"choices":[{"delta":{"content":"Hel"},"finish_reason":null}]}"#;
        let got = collect(&[
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
        ])
        .await;
        assert_eq!(got, vec![Ok("Hel".into()), Ok("lo".into())], "{a}");
        let done = collect(&[
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DO",
            "NE]\n\n",
        ])
        .await;
        assert_eq!(done, vec![Ok("Hi".into())]);
        let broken = collect(&["data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"]).await;
        assert_eq!(broken.len(), 2);
        assert!(broken[1].as_ref().unwrap_err().contains("broke off"));
    }

    #[tokio::test]
    async fn a_line_past_the_limit_ends_the_stream_as_malformed() {
        let endless = stream::iter(
            std::iter::once(Ok(bytes::Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: ",
            )))
            .chain(std::iter::repeat_with(|| {
                Ok(bytes::Bytes::from(vec![b'x'; 300]))
            })),
        );
        let got: Vec<_> = deltas(endless.boxed(), 1000)
            .map(|r| r.map(text_of).map_err(|e| e.to_string()))
            .collect()
            .await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok("Hi".into()));
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .contains("longer than 1000 bytes"));
    }

    #[tokio::test]
    async fn capped_reads_stop_at_the_limit() {
        let endless = stream::iter(std::iter::repeat_with(|| {
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(vec![b'e'; 1000]))
        }));
        let (start, whole) = read_capped(endless, ERROR_BODY_BYTES).await.unwrap();
        assert_eq!((start.len(), whole), (ERROR_BODY_BYTES, false));
        let short = stream::iter([Ok::<_, std::convert::Infallible>(
            bytes::Bytes::from_static(b"{}"),
        )]);
        assert_eq!(
            read_capped(short, 10).await.unwrap(),
            (b"{}".to_vec(), true)
        );
    }
}
