//! Language models behind one small seam, [`ModelClient`]: any
//! OpenAI-compatible Chat Completions server ([`openai::OpenAiClient`]) and
//! the built-in [`offline::OfflineResponder`] used when no model is configured.
//!
//! A client's stream yields pieces of text, then the tool calls the model
//! asked for when it asked for any ([`Piece::Calls`], whole: assembled from
//! whatever fragments the server streamed), and ends only when the reply is
//! complete (the model sent a `finish_reason` or `[DONE]`); anything else
//! ends it with an error. [`guarded`] adds the first-token and whole-reply timeouts
//! to any client, so every model and test double is held to the same limits.

pub mod offline;
pub mod openai;
pub mod sse;
pub mod tool_calls;
#[cfg(test)]
mod tool_stream_tests;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::time::Instant;

use crate::domain::Agent;
pub use crate::domain::ToolCall;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnRole {
    System,
    User,
    Assistant,
    /// A tool's result, answering one call of the assistant turn before it.
    Tool,
}

impl TurnRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TurnRole::System => "system",
            TurnRole::User => "user",
            TurnRole::Assistant => "assistant",
            TurnRole::Tool => "tool",
        }
    }
}

/// One message of the model's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: TurnRole,
    pub content: String,
    /// An assistant turn's calls (OpenAI's `tool_calls`); empty otherwise.
    pub tool_calls: Vec<ToolCall>,
    /// A tool turn: the call it answers.
    pub tool_call_id: Option<String>,
}

impl Turn {
    /// A plain system, user or assistant message.
    pub fn text(role: TurnRole, content: impl Into<String>) -> Turn {
        Turn {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// An assistant message that calls tools (`content` is any text it wrote
    /// with them).
    pub fn calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Turn {
        Turn {
            tool_calls: calls,
            ..Turn::text(TurnRole::Assistant, content)
        }
    }

    /// A tool's result for the call `call_id`.
    pub fn result(call_id: impl Into<String>, content: impl Into<String>) -> Turn {
        Turn {
            tool_call_id: Some(call_id.into()),
            ..Turn::text(TurnRole::Tool, content)
        }
    }
}

/// A tool offered to the model (OpenAI's `tools[].function`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object.
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct ModelRequest {
    pub messages: Vec<Turn>,
    /// The tools the model may call; sent only when there are any.
    pub tools: Vec<ToolSpec>,
    /// The cap on the reply's length, sent as `max_tokens`.
    pub max_tokens: u32,
    /// The most code points of reply the caller will take (it stops reading
    /// past them); a client sizes the buffers the model feeds from it.
    pub max_reply_chars: usize,
}

impl ModelRequest {
    /// The most bytes one piece of the model's answer (an SSE line or event,
    /// a whole JSON completion) may take: the longest reply the caller takes,
    /// every code point escaped as a JSON surrogate pair (12 bytes), plus
    /// room for the JSON around it. Anything longer is refused as malformed
    /// rather than buffered.
    pub fn max_piece_bytes(&self) -> usize {
        64 * 1024 + self.max_reply_chars.saturating_mul(12)
    }
}

/// Why a reply could not be had. The details go to the log only: the client
/// sees `Language model unavailable` (docs/API.md §8).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model server could not be reached: {0}")]
    Unreachable(String),
    #[error("the model server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the model reported an error: {0}")]
    Reported(String),
    #[error("the model's answer could not be read: {0}")]
    Malformed(String),
    #[error("the reply broke off before it was complete")]
    Incomplete,
    #[error("no first token within {0:?}")]
    FirstTokenTimeout(Duration),
    #[error("the reply did not finish within {0:?}")]
    ReplyTimeout(Duration),
}

/// One piece of a model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text, as the model writes it.
    Text(String),
    /// The calls the model asked for, whole; at most once, after its text.
    Calls(Vec<ToolCall>),
}

/// The pieces of the reply as the model writes them.
pub type Deltas = BoxStream<'static, Result<Piece, ModelError>>;

#[async_trait]
pub trait ModelClient: Send + Sync {
    /// Sends the request; the stream carries the reply.
    async fn stream(&self, request: ModelRequest) -> Result<Deltas, ModelError>;
}

/// Where an OpenAI-compatible model lives. The key and the URL's password
/// never appear in `Debug`.
#[derive(Clone)]
pub struct ModelEndpoint {
    /// Base URL, e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ModelEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEndpoint")
            .field("url", &crate::domain::redact_url(&self.url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A model server's base URL must be plain http(s); it is checked when
/// configured so that a typo fails at once rather than at the first chat.
pub fn check_base_url(url: &str) -> Result<(), String> {
    // The URL may carry a password: errors show it hidden.
    let shown = crate::domain::redact_url(url);
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{shown:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{shown:?} must be an http:// or https:// URL"));
    }
    Ok(())
}

/// Limits every reply is held to.
#[derive(Debug, Clone, Copy)]
pub struct ModelLimits {
    pub connect_timeout: Duration,
    pub first_token_timeout: Duration,
    pub reply_timeout: Duration,
    pub max_tokens: u32,
    /// The server's own cap on a reply, in code points: a model may ignore
    /// `max_tokens`, so past this the server stops reading and keeps the
    /// reply as it stands.
    pub max_reply_chars: usize,
}

impl Default for ModelLimits {
    fn default() -> Self {
        ModelLimits {
            connect_timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(60),
            reply_timeout: Duration::from_secs(300),
            max_tokens: 1024,
            max_reply_chars: 32_000,
        }
    }
}

/// Picks the model for an agent: its own endpoint when it names one, else the
/// server's default, else the offline responder.
pub struct ModelRegistry {
    default: Option<ModelEndpoint>,
    http: reqwest::Client,
    pub limits: ModelLimits,
}

impl ModelRegistry {
    pub fn new(default: Option<ModelEndpoint>, limits: ModelLimits) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .build()?;
        Ok(ModelRegistry {
            default,
            http,
            limits,
        })
    }

    pub fn for_agent(&self, agent: &Agent) -> Arc<dyn ModelClient> {
        let endpoint = match (&agent.llm_url, &self.default) {
            (Some(url), default) => Some(ModelEndpoint {
                url: url.clone(),
                model: agent
                    .llm_model
                    .clone()
                    .or_else(|| default.as_ref().map(|d| d.model.clone()))
                    .unwrap_or_default(),
                // The server's key is for the server's model: never send it
                // to another host an agent names.
                api_key: default
                    .as_ref()
                    .filter(|d| d.url == *url)
                    .and_then(|d| d.api_key.clone()),
            }),
            (None, Some(default)) => Some(ModelEndpoint {
                model: agent.llm_model.clone().unwrap_or(default.model.clone()),
                ..default.clone()
            }),
            (None, None) => None,
        };
        match endpoint {
            Some(endpoint) => Arc::new(openai::OpenAiClient::new(self.http.clone(), endpoint)),
            None => Arc::new(offline::OfflineResponder),
        }
    }
}

/// Runs `request` on `client` under `limits`: the first piece of text (or
/// the tool calls) must come within the first-token timeout and the whole reply within the reply
/// timeout, both counted from now; the stream then ends with the error.
pub fn guarded(client: Arc<dyn ModelClient>, request: ModelRequest, limits: ModelLimits) -> Deltas {
    let start = Instant::now();
    let first_by = start + limits.first_token_timeout;
    let end_by = start + limits.reply_timeout;
    let expired = move |got_text: bool| {
        if !got_text && first_by <= end_by {
            ModelError::FirstTokenTimeout(limits.first_token_timeout)
        } else {
            ModelError::ReplyTimeout(limits.reply_timeout)
        }
    };
    enum State {
        Connecting(Arc<dyn ModelClient>, ModelRequest),
        Streaming(Deltas, bool),
        Done,
    }
    stream::unfold(
        State::Connecting(client, request),
        move |state| async move {
            let (mut deltas, mut got_text) = match state {
                State::Done => return None,
                State::Connecting(client, request) => {
                    match tokio::time::timeout_at(first_by.min(end_by), client.stream(request))
                        .await
                    {
                        Ok(Ok(deltas)) => (deltas, false),
                        Ok(Err(e)) => return Some((Err(e), State::Done)),
                        Err(_) => return Some((Err(expired(false)), State::Done)),
                    }
                }
                State::Streaming(deltas, got_text) => (deltas, got_text),
            };
            let by = if got_text {
                end_by
            } else {
                first_by.min(end_by)
            };
            match tokio::time::timeout_at(by, deltas.next()).await {
                Err(_) => Some((Err(expired(got_text)), State::Done)),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some((Err(e), State::Done)),
                Ok(Some(Ok(piece))) => {
                    got_text |= match &piece {
                        Piece::Text(text) => !text.is_empty(),
                        Piece::Calls(_) => true,
                    };
                    Some((Ok(piece), State::Streaming(deltas, got_text)))
                }
            }
        },
    )
    .boxed()
}
