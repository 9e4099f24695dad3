//! One chat message as a use case (docs/API.md §8): take the conversation's reply
//! lease and store the question (one transaction), build the model input,
//! then generate in a task of its own that owns the model stream, stores the
//! reply and releases the lease — so a client that leaves loses nothing.
//!
//! What the model sends is bounded on its way through: the reply stops at
//! the server's own cap (`ModelLimits::max_reply_chars`, the model may ignore
//! `max_tokens`), and the queue towards the client holds [`REPLY_QUEUE`]
//! events: a client that does not keep up is dropped, the reply goes on and is
//! stored all the same.

pub mod excerpts;
mod history;
pub mod input;
mod queue;
mod rounds;
mod tasks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::domain::{
    error_chain, now_ms, title_from_message, Agent, CustomerUser, Message, MessageContent, Source,
    ToolCall, ToolStatus,
};
use crate::llm::ModelRegistry;
use crate::store::{BeginReply, ChatOwner, Lease, Store, StoreError};

pub use excerpts::RagBudget;
pub use input::HistoryBudget;
use queue::ToClient;
pub use queue::REPLY_QUEUE;
pub use tasks::ReplyTasks;

/// What the chat use case may do, per node.
#[derive(Debug, Clone, Copy)]
pub struct ChatConfig {
    pub history: HistoryBudget,
    /// Knowledge excerpts per reply (with `rag:access`).
    pub rag: RagBudget,
    /// How long a reply lease lasts unless renewed; the generating node
    /// renews it every third of this, so only a dead node lets it lapse.
    pub lease: Duration,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            history: HistoryBudget::default(),
            rag: RagBudget::default(),
            lease: Duration::from_secs(30),
        }
    }
}

pub const MODEL_UNAVAILABLE: &str = "Language model unavailable";

/// The handles the chat use case needs, shared by a node's requests.
#[derive(Clone)]
pub struct Chat {
    pub store: Arc<dyn Store>,
    pub models: Arc<ModelRegistry>,
    pub config: ChatConfig,
    pub replies: Arc<ReplyTasks>,
    /// Calls the companies' tool endpoints (docs/API.md §10).
    pub tools: crate::tools::ToolClient,
}

/// Why a message was not taken, or its reply not stored.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The conversation is not this user's with this agent.
    #[error("Conversation not found")]
    NotFound,
    /// A reply is already being generated, on any node.
    #[error("A reply is already being generated")]
    Busy,
    /// The model failed, broke off or answered nothing.
    #[error("Language model unavailable")]
    ModelUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Replies being generated on this node, for `/metrics`: counted until the
/// reply is stored or has failed, before its client hears the end, so a
/// scrape after the answer never still counts it.
struct Generating;

const REPLIES_GENERATING: &str = "chat_replies_generating";

impl Generating {
    fn new() -> Self {
        metrics::gauge!(REPLIES_GENERATING).increment(1);
        Generating
    }
}

impl Drop for Generating {
    fn drop(&mut self) {
        metrics::gauge!(REPLIES_GENERATING).decrement(1);
    }
}

/// How one call to the model ended, for `/metrics`: `ok`, `error` (failed,
/// timed out or broke off) or `empty` (completed with no text).
fn record_model(outcome: &'static str, started: Instant, first_delta: Option<Duration>) {
    metrics::counter!("model_replies_total", "outcome" => outcome).increment(1);
    metrics::histogram!("model_reply_duration_seconds", "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    if let Some(first) = first_delta {
        metrics::histogram!("model_first_delta_seconds").record(first.as_secs_f64());
    }
}

/// What the generation task reports, in order: deltas (and tool calls),
/// then one end.
///
/// All but a delta are boxed: the queue's slots are allocated for the largest
/// variant, and a stream holds [`REPLY_QUEUE`] of them while it is open.
#[derive(Debug)]
pub enum ReplyEvent {
    Delta(String),
    /// The model called a tool (with deltas only).
    ToolCall(Box<ToolCall>),
    /// A tool call ended (with deltas only); never the tool's answer.
    ToolResult(Box<ToolEnded>),
    /// The stored reply.
    Done(Box<Message>),
    /// Nothing was stored as a reply; the question stays.
    Failed(Box<ChatError>),
}

/// A tool call that ended, as the client hears of it.
#[derive(Debug)]
pub struct ToolEnded {
    pub id: String,
    pub name: String,
    pub status: ToolStatus,
}

/// What a chat token's `perm` claim allows a reply (docs/API.md §0.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Grants {
    /// `rag:access`: knowledge excerpts, when the company has documents.
    pub rag_access: bool,
    /// `tools:use`: the agent's active tools.
    pub tools_use: bool,
}

/// A question accepted: stored, and its reply under way.
pub struct Started {
    pub question: Message,
    /// The reply's events, deltas only when asked for. The queue is bounded
    /// and never waited on: a client that falls [`REPLY_QUEUE`] events behind
    /// is dropped (the channel closes without its end event), so it neither
    /// holds up the model nor grows the server's memory.
    pub events: mpsc::Receiver<ReplyEvent>,
}

/// Stores `content` as the user's next message in the conversation and starts
/// its reply; `deltas` says whether the caller wants the pieces as they come
/// or only the end. 404 when the conversation is not this user's with this
/// agent, 409 when a reply is already being generated (on any node).
/// `grants` says what the token's `perm` claim allows the reply.
pub async fn post_message(
    chat: &Chat,
    user: &CustomerUser,
    agent: &Agent,
    conversation_id: &str,
    content: &MessageContent,
    grants: Grants,
    deltas: bool,
) -> Result<Started, ChatError> {
    let owner = ChatOwner::new(user, &agent.id);
    let now = now_ms();
    let lease = Lease::from(ulid::Ulid::new().to_string(), now, chat.config.lease);
    let title = title_from_message(content.as_str());
    let (question, has_documents) = match chat
        .store
        .begin_reply(
            owner,
            conversation_id,
            content.as_str(),
            &title,
            &lease,
            now,
        )
        .await?
    {
        BeginReply::Started {
            question,
            has_documents,
            ..
        } => (question, has_documents),
        BeginReply::NotFound => return Err(ChatError::NotFound),
        BeginReply::Busy => return Err(ChatError::Busy),
    };
    let (tx, events) = mpsc::channel(REPLY_QUEUE);
    let tx = ToClient {
        tx: Some(tx),
        deltas,
    };
    let job = Job {
        chat: chat.clone(),
        user: user.clone(),
        agent: agent.clone(),
        conversation_id: conversation_id.to_owned(),
        lease,
        retrieve: grants.rag_access && has_documents,
        tools_use: grants.tools_use,
    };
    let guard = chat.replies.start();
    tokio::spawn(async move {
        job.run(tx).await;
        drop(guard);
    });
    Ok(Started { question, events })
}

struct Job {
    chat: Chat,
    user: CustomerUser,
    agent: Agent,
    conversation_id: String,
    lease: Lease,
    /// Whether to search the knowledge base: the token allows it and the
    /// company has documents (learnt with the question's own statement).
    retrieve: bool,
    /// Whether the token allows tools (`tools:use`).
    tools_use: bool,
}

impl Job {
    async fn run(self, mut tx: ToClient) {
        let generating = Generating::new();
        let renewing = tokio::spawn(renew(
            self.chat.clone(),
            self.user.company_id.clone(),
            self.conversation_id.clone(),
            self.lease.owner.clone(),
        ));
        let outcome = self.generate(&mut tx).await;
        renewing.abort();
        let company = &self.user.company_id;
        let store = &self.chat.store;
        let end = match outcome {
            Ok((reply, sources)) => {
                match store
                    .finish_reply(
                        company,
                        &self.conversation_id,
                        &self.lease.owner,
                        &reply,
                        &sources,
                        now_ms(),
                    )
                    .await
                {
                    Ok(message) => ReplyEvent::Done(Box::new(message)),
                    Err(e) => {
                        tracing::error!(error = %error_chain(&e), conversation = %self.conversation_id, "could not store a reply");
                        self.release().await;
                        ReplyEvent::Failed(Box::new(e.into()))
                    }
                }
            }
            Err(e) => {
                self.release().await;
                ReplyEvent::Failed(Box::new(e))
            }
        };
        drop(generating);
        tx.end(end);
    }

    async fn release(&self) {
        if let Err(e) = self
            .chat
            .store
            .release_lease(
                &self.user.company_id,
                &self.conversation_id,
                &self.lease.owner,
            )
            .await
        {
            // The lease lapses on its own; until then the conversation answers 409.
            tracing::warn!(error = %error_chain(&e), conversation = %self.conversation_id, "could not release a reply lease");
        }
    }

    /// The reply's whole text, each piece forwarded to `tx` as it comes, and
    /// the sources of the excerpts the model was given; cut at the server's
    /// cap, where reading stops (dropping the model's stream closes its
    /// connection). Tool calls run in rounds first (`rounds.rs`).
    async fn generate(&self, tx: &mut ToClient) -> Result<(String, Vec<Source>), ChatError> {
        let store = &self.chat.store;
        let company = &self.user.company_id;
        let history = self.chat.config.history;
        let (messages, tools) = tokio::join!(
            store.latest_messages(
                company,
                &self.conversation_id,
                history.messages.max(1),
                None,
            ),
            self.offered_tools(),
        );
        let (messages, _) = messages?.unwrap_or_default();
        let tools = tools?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut turns = input::model_input(&self.user, &self.agent, &today, &messages, history);
        let hits = if self.retrieve {
            let budget = self.chat.config.rag;
            excerpts::retrieve(&**store, company, &self.agent.id, &messages, budget).await
        } else {
            Vec::new()
        };
        excerpts::append_excerpts(&mut turns, &hits);
        let sources = excerpts::sources(&hits);
        // The model's input is sent as it is built: the history and the
        // excerpts are not kept while the reply streams, which may take minutes.
        drop((messages, hits));
        let reply = self.answer(turns, &tools, tx).await?;
        Ok((reply, sources))
    }
}

/// Keeps at most `room` code points of `text`; whether any were cut.
fn cut_at(text: &mut String, room: usize) -> bool {
    match text.char_indices().nth(room) {
        Some((at, _)) => {
            text.truncate(at);
            true
        }
        None => false,
    }
}

/// Keeps the lease while the reply is generated (aborted when it ends).
async fn renew(chat: Chat, company_id: String, conversation_id: String, owner: String) {
    let period = chat.config.lease / 3;
    loop {
        tokio::time::sleep(period).await;
        let lease = Lease::from(owner.clone(), now_ms(), chat.config.lease);
        match chat
            .store
            .renew_lease(&company_id, &conversation_id, &lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(conversation = %conversation_id, "a reply lease was lost while generating");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "could not renew a reply lease; retrying")
            }
        }
    }
}
