//! An OpenAI-compatible Chat Completions client (`POST {base}/chat/completions`
//! with `stream: true`), as served by Ollama, vLLM, llama.cpp's server and
//! OpenAI. Lenient where those servers differ: a first delta whose content is
//! `null`, a usage-only last chunk with no choices, a stream that ends after
//! its `finish_reason` without `data: [DONE]`, and a server that ignores
//! `stream` and answers with one JSON completion.
//!
//! Nothing the model sends is buffered without a bound: an error body is read
//! up to [`ERROR_BODY_BYTES`], a JSON completion and each SSE line or event up
//! to the request's [`ModelRequest::max_piece_bytes`].

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::chunks::whole_completion;
pub use super::chunks::{parse_event, Chunk};
use super::sse::{SseEvent, SseParser};
use super::{Deltas, ModelClient, ModelEndpoint, ModelError, ModelRequest};

pub struct OpenAiClient {
    http: reqwest::Client,
    endpoint: ModelEndpoint,
}

impl OpenAiClient {
    pub fn new(http: reqwest::Client, endpoint: ModelEndpoint) -> Self {
        OpenAiClient { http, endpoint }
    }
}

/// The request, serialised straight from the turns (no JSON tree).
#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<RequestTurn<'a>>,
    stream: bool,
    max_tokens: u32,
}

#[derive(Serialize)]
struct RequestTurn<'a> {
    role: &'static str,
    content: &'a str,
}

#[async_trait]
impl ModelClient for OpenAiClient {
    async fn stream(&self, request: ModelRequest) -> Result<Deltas, ModelError> {
        let url = format!(
            "{}/chat/completions",
            self.endpoint.url.trim_end_matches('/')
        );
        let body = RequestBody {
            model: &self.endpoint.model,
            messages: request
                .messages
                .iter()
                .map(|t| RequestTurn {
                    role: t.role.as_str(),
                    content: &t.content,
                })
                .collect(),
            stream: true,
            max_tokens: request.max_tokens,
        };
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
            let text = whole_completion(&bytes)?;
            return Ok(stream::iter([Ok(text)]).boxed());
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

/// Turns the response body into pieces of text, ending at the first
/// `finish_reason` or `[DONE]`, or with [`ModelError::Incomplete`] when the
/// body ends before either. A line or event longer than `limit` bytes ends it
/// as malformed.
fn deltas(body: Bytes, limit: usize) -> Deltas {
    struct State {
        body: Bytes,
        parser: SseParser,
        pending: std::collections::VecDeque<SseEvent>,
        ended: bool,
        done: bool,
    }
    let state = State {
        body,
        parser: SseParser::with_limit(limit),
        pending: Default::default(),
        ended: false,
        done: false,
    };
    stream::unfold(state, move |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            if let Some(event) = s.pending.pop_front() {
                match parse_event(&event) {
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                    Ok(Chunk::Done) => return None,
                    Ok(Chunk::Delta { text, finished }) => {
                        s.done = finished;
                        if !text.is_empty() {
                            return Some((Ok(text), s));
                        }
                        continue;
                    }
                }
            }
            if s.ended {
                s.done = true;
                return Some((Err(ModelError::Incomplete), s));
            }
            match s.body.next().await {
                Some(Ok(bytes)) => {
                    s.pending.extend(s.parser.feed(&bytes));
                    if s.parser.overflowed() && s.pending.is_empty() {
                        s.done = true;
                        let e = format!("a stream line or event longer than {limit} bytes");
                        return Some((Err(ModelError::Malformed(e)), s));
                    }
                }
                Some(Err(e)) => {
                    s.done = true;
                    return Some((Err(ModelError::Unreachable(without_url(e))), s));
                }
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

    async fn collect(body: &'static [&'static str]) -> Vec<Result<String, String>> {
        let chunks = stream::iter(
            body.iter()
                .map(|s| Ok(bytes::Bytes::from_static(s.as_bytes()))),
        );
        deltas(chunks.boxed(), 1000)
            .map(|r| r.map_err(|e| e.to_string()))
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
            .map(|r| r.map_err(|e| e.to_string()))
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
