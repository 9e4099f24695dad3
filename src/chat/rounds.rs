//! The model's side of one reply (docs/API.md §8, §10): ask, and when the
//! model calls tools, run the calls and ask again with their results.
//!
//! Tools are offered only when the token's `perm` has `tools:use` and the
//! agent has active tools. Each round stores the model's calls as a `tool`
//! message before running them (so the transcript shows what was attempted
//! even if this node dies mid-call), runs them side by side, stores their
//! results, streams `tool_call` and `tool_result` events, and gives the model
//! the OpenAI form: the assistant turn with its calls, one tool turn per
//! result. After [`MAX_TOOL_ROUNDS`] rounds the model is asked once more
//! without tools, so it must answer in text. A call never fails the reply:
//! `tools::call` turns every failure into an error text for the model.
//! The reply lease is renewed by the job for as long as all this takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::queue::ToClient;
use super::{cut_at, record_model, ChatError, Job, ReplyEvent, ToolEnded};
use crate::domain::{now_ms, ActiveTool, ToolCall, ToolPart, ToolStatus};
use crate::llm::{guarded, ModelClient, ModelRequest, Piece, ToolSpec, Turn};
use crate::store::NewToolMessage;
use crate::tools::{ToolInvocation, ToolOutcome};

/// Rounds of tool calls one reply may make before it must answer in text.
pub const MAX_TOOL_ROUNDS: usize = 5;

/// What one request to the model gave.
struct Answer {
    text: String,
    calls: Vec<ToolCall>,
    /// The reply cap was reached: reading stopped, the text is the reply.
    cut: bool,
    started: Instant,
    first_delta: Option<Duration>,
}

impl Job {
    /// The tools to offer: none without `tools:use`.
    pub(super) async fn offered_tools(&self) -> Result<Vec<ActiveTool>, ChatError> {
        if !self.tools_use {
            return Ok(Vec::new());
        }
        let store = &self.chat.store;
        Ok(store
            .active_tools(&self.user.company_id, &self.agent.id)
            .await?)
    }

    /// The reply's text, after as many tool rounds as the model asks for
    /// (at most [`MAX_TOOL_ROUNDS`]). Text is forwarded to `tx` as it comes,
    /// in every round; the reply is the last round's.
    pub(super) async fn answer(
        &self,
        mut turns: Vec<Turn>,
        tools: &[ActiveTool],
        tx: &mut ToClient,
    ) -> Result<String, ChatError> {
        let specs: Vec<ToolSpec> = tools
            .iter()
            .map(|t| ToolSpec {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.parameters.clone(),
            })
            .collect();
        let client = self.chat.models.for_agent(&self.agent);
        let limits = self.chat.models.limits;
        // The cap holds for the reply's text in all its rounds together.
        let mut chars = 0;
        let mut round = 0;
        loop {
            let offer = !specs.is_empty() && round < MAX_TOOL_ROUNDS;
            // Without tools this round is the last: the input moves into the
            // request, so the reply's stream does not hold a second copy.
            let messages = if offer {
                turns.clone()
            } else {
                std::mem::take(&mut turns)
            };
            let request = ModelRequest {
                messages,
                tools: if offer { specs.clone() } else { Vec::new() },
                max_tokens: limits.max_tokens,
                max_reply_chars: limits.max_reply_chars,
            };
            let answer = self
                .ask(Arc::clone(&client), request, tx, &mut chars)
                .await?;
            if answer.cut || !offer || answer.calls.is_empty() {
                if !answer.cut && !answer.calls.is_empty() {
                    tracing::warn!(agent = %self.agent.id, conversation = %self.conversation_id, "the model called tools when none were offered: the calls are ignored");
                }
                if answer.text.is_empty() {
                    record_model("empty", answer.started, answer.first_delta);
                    tracing::warn!(agent = %self.agent.id, conversation = %self.conversation_id, "model completed with no text");
                    return Err(ChatError::ModelUnavailable);
                }
                record_model("ok", answer.started, answer.first_delta);
                return Ok(answer.text);
            }
            record_model("ok", answer.started, answer.first_delta);
            let results = self
                .run_calls(tools, &answer.text, &answer.calls, tx)
                .await?;
            turns.push(Turn::calls(answer.text, answer.calls));
            turns.extend(results);
            round += 1;
        }
    }

    /// One request: its text (forwarded as it comes, up to the cap) and calls.
    async fn ask(
        &self,
        client: Arc<dyn ModelClient>,
        request: ModelRequest,
        tx: &mut ToClient,
        chars: &mut usize,
    ) -> Result<Answer, ChatError> {
        let limits = self.chat.models.limits;
        let cap = limits.max_reply_chars;
        let mut answer = Answer {
            text: String::new(),
            calls: Vec::new(),
            cut: false,
            started: Instant::now(),
            first_delta: None,
        };
        let mut pieces = guarded(client, request, limits);
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(Piece::Calls(calls)) => {
                    answer
                        .first_delta
                        .get_or_insert_with(|| answer.started.elapsed());
                    answer.calls.extend(calls);
                }
                Ok(Piece::Text(mut text)) => {
                    answer
                        .first_delta
                        .get_or_insert_with(|| answer.started.elapsed());
                    answer.cut = cut_at(&mut text, cap - *chars);
                    *chars += text.chars().count();
                    answer.text.push_str(&text);
                    if !text.is_empty() {
                        tx.delta(text);
                    }
                    if answer.cut {
                        metrics::counter!("model_replies_cut_total").increment(1);
                        tracing::warn!(agent = %self.agent.id, conversation = %self.conversation_id, cap, "the model went past the reply cap: stored as it stands");
                        break;
                    }
                }
                Err(e) => {
                    record_model("error", answer.started, answer.first_delta);
                    tracing::warn!(error = %e, agent = %self.agent.id, conversation = %self.conversation_id, "model reply failed");
                    return Err(ChatError::ModelUnavailable);
                }
            }
        }
        Ok(answer)
    }

    /// Stores the calls, runs them side by side, stores their results, and
    /// gives the model's tool turns back.
    async fn run_calls(
        &self,
        tools: &[ActiveTool],
        text: &str,
        calls: &[ToolCall],
        tx: &mut ToClient,
    ) -> Result<Vec<Turn>, ChatError> {
        let store = &self.chat.store;
        let company = &self.user.company_id;
        let asked = NewToolMessage {
            content: text.to_owned(),
            part: ToolPart::Calls(calls.to_vec()),
        };
        store
            .append_tool_messages(company, &self.conversation_id, &[asked], now_ms())
            .await?;
        for call in calls {
            tx.progress(ReplyEvent::ToolCall(Box::new(call.clone())));
        }
        let outcomes =
            futures::future::join_all(calls.iter().map(|call| self.run_one(tools, call))).await;
        let results: Vec<NewToolMessage> = calls
            .iter()
            .zip(&outcomes)
            .map(|(call, (status, content))| NewToolMessage {
                content: content.clone(),
                part: ToolPart::Result {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    status: *status,
                },
            })
            .collect();
        store
            .append_tool_messages(company, &self.conversation_id, &results, now_ms())
            .await?;
        let mut turns = Vec::with_capacity(calls.len());
        for (call, (status, content)) in calls.iter().zip(outcomes) {
            tx.progress(ReplyEvent::ToolResult(Box::new(ToolEnded {
                id: call.id.clone(),
                name: call.name.clone(),
                status,
            })));
            turns.push(Turn::result(call.id.clone(), content));
        }
        Ok(turns)
    }

    /// One call: its status and what the model is told.
    async fn run_one(&self, tools: &[ActiveTool], call: &ToolCall) -> (ToolStatus, String) {
        let Some(tool) = tools.iter().find(|t| t.name == call.name) else {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            let text = format!(
                "Error: there is no tool named {:?}; the tools are: {}",
                call.name,
                names.join(", ")
            );
            return (ToolStatus::Error, text);
        };
        let invocation = ToolInvocation {
            call_id: &call.id,
            arguments: &call.arguments,
            customer_user: &self.user,
            conversation_id: &self.conversation_id,
            agent_id: &self.agent.id,
        };
        let ToolOutcome { status, content } =
            crate::tools::call(&self.chat.tools, tool, invocation).await;
        (status, content)
    }
}
