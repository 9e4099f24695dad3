//! One chat message as a use case (docs/API.md §8): take the conversation's reply
//! lease and store the question (one transaction), build the model input,
//! then generate in a task of its own that owns the model stream, stores the
//! reply and releases the lease — so a client that leaves loses nothing.

pub mod excerpts;
pub mod input;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{mpsc, Notify};

use crate::app::SharedState;
use crate::domain::{
    now_ms, title_from_message, Agent, CustomerUser, Message, MessageContent, Source,
};
use crate::error::{ApiError, ApiResult};
use crate::llm::{guarded, ModelRequest};
use crate::store::{BeginReply, ChatOwner, Lease};

pub use excerpts::RagBudget;
pub use input::HistoryBudget;

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

/// The replies being generated on this node, so a graceful shutdown can let
/// them finish and be stored even when their clients have already left.
#[derive(Default)]
pub struct ReplyTasks {
    running: AtomicUsize,
    idle: Notify,
}

impl ReplyTasks {
    fn start(self: &Arc<Self>) -> ReplyGuard {
        self.running.fetch_add(1, Ordering::SeqCst);
        ReplyGuard(Arc::clone(self))
    }

    /// Resolves once no reply is being generated.
    pub async fn idle(&self) {
        loop {
            // Registered before the check, so a task ending in between still wakes us.
            let idle = self.idle.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

struct ReplyGuard(Arc<ReplyTasks>);

impl Drop for ReplyGuard {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What the generation task reports, in order: deltas, then one end.
#[derive(Debug)]
pub enum ReplyEvent {
    Delta(String),
    /// The stored reply.
    Done(Message),
    /// Nothing was stored as a reply; the question stays.
    Failed(ApiError),
}

/// A question accepted: stored, and its reply under way.
pub struct Started {
    pub question: Message,
    /// Unbounded, so a slow or departed client never holds up the model; the
    /// reply is capped by `max_tokens`, which bounds what can queue.
    pub events: mpsc::UnboundedReceiver<ReplyEvent>,
}

/// Stores `content` as the user's next message in the conversation and starts
/// its reply. 404 when the conversation is not this user's with this agent,
/// 409 when a reply is already being generated (on any node). With
/// `rag_access` (the token's `perm` claim) the reply is given knowledge
/// excerpts, when the company has documents.
pub async fn post_message(
    state: &SharedState,
    user: &CustomerUser,
    agent: &Agent,
    conversation_id: &str,
    content: &MessageContent,
    rag_access: bool,
) -> ApiResult<Started> {
    let owner = ChatOwner {
        company_id: &user.company_id,
        customer_user_id: &user.id,
        agent_id: &agent.id,
    };
    let now = now_ms();
    let lease = Lease {
        owner: ulid::Ulid::new().to_string(),
        until: now + state.chat.lease.as_millis() as i64,
    };
    let title = title_from_message(content.as_str());
    let (question, has_documents) = match state
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
        BeginReply::NotFound => return Err(ApiError::NotFound("Conversation not found")),
        BeginReply::Busy => {
            return Err(ApiError::Conflict(
                "A reply is already being generated".into(),
            ))
        }
    };
    let (tx, events) = mpsc::unbounded_channel();
    let job = Job {
        state: Arc::clone(state),
        user: user.clone(),
        agent: agent.clone(),
        conversation_id: conversation_id.to_owned(),
        lease,
        retrieve: rag_access && has_documents,
    };
    let guard = state.replies.start();
    tokio::spawn(async move {
        job.run(tx).await;
        drop(guard);
    });
    Ok(Started { question, events })
}

struct Job {
    state: SharedState,
    user: CustomerUser,
    agent: Agent,
    conversation_id: String,
    lease: Lease,
    /// Whether to search the knowledge base: the token allows it and the
    /// company has documents (learnt with the question's own statement).
    retrieve: bool,
}

impl Job {
    async fn run(self, tx: mpsc::UnboundedSender<ReplyEvent>) {
        let generating = Generating::new();
        let renewing = tokio::spawn(renew(
            Arc::clone(&self.state),
            self.user.company_id.clone(),
            self.conversation_id.clone(),
            self.lease.owner.clone(),
        ));
        let outcome = self.generate(&tx).await;
        renewing.abort();
        let company = &self.user.company_id;
        let store = &self.state.store;
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
                    Ok(message) => ReplyEvent::Done(message),
                    Err(e) => {
                        tracing::error!(error = %crate::error::chain(&e), conversation = %self.conversation_id, "could not store a reply");
                        self.release().await;
                        ReplyEvent::Failed(e.into())
                    }
                }
            }
            Err(e) => {
                self.release().await;
                ReplyEvent::Failed(e)
            }
        };
        drop(generating);
        // The client may have gone: the reply is stored either way.
        let _ = tx.send(end);
    }

    async fn release(&self) {
        if let Err(e) = self
            .state
            .store
            .release_lease(
                &self.user.company_id,
                &self.conversation_id,
                &self.lease.owner,
            )
            .await
        {
            // The lease lapses on its own; until then the conversation answers 409.
            tracing::warn!(error = %crate::error::chain(&e), conversation = %self.conversation_id, "could not release a reply lease");
        }
    }

    /// The reply's whole text, each piece forwarded to `tx` as it comes,
    /// and the sources of the excerpts the model was given.
    async fn generate(
        &self,
        tx: &mpsc::UnboundedSender<ReplyEvent>,
    ) -> ApiResult<(String, Vec<Source>)> {
        let store = &self.state.store;
        let company = &self.user.company_id;
        let history = self.state.chat.history;
        let (messages, _) = store
            .latest_messages(
                company,
                &self.conversation_id,
                history.messages.max(1),
                None,
            )
            .await?
            .unwrap_or_default();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut turns = input::model_input(&self.user, &self.agent, &today, &messages, history);
        let hits = if self.retrieve {
            let budget = self.state.chat.rag;
            excerpts::retrieve(&**store, company, &self.agent.id, &messages, budget).await
        } else {
            Vec::new()
        };
        excerpts::append_excerpts(&mut turns, &hits);
        let request = ModelRequest {
            messages: turns,
            max_tokens: self.state.models.limits.max_tokens,
        };
        let client = self.state.models.for_agent(&self.agent);
        let started = Instant::now();
        let mut first_delta = None;
        let mut deltas = guarded(client, request, self.state.models.limits);
        let mut reply = String::new();
        while let Some(piece) = deltas.next().await {
            match piece {
                Ok(text) => {
                    first_delta.get_or_insert_with(|| started.elapsed());
                    reply.push_str(&text);
                    let _ = tx.send(ReplyEvent::Delta(text));
                }
                Err(e) => {
                    record_model("error", started, first_delta);
                    tracing::warn!(error = %e, agent = %self.agent.id, conversation = %self.conversation_id, "model reply failed");
                    return Err(ApiError::BadGateway(MODEL_UNAVAILABLE));
                }
            }
        }
        if reply.is_empty() {
            record_model("empty", started, first_delta);
            tracing::warn!(agent = %self.agent.id, conversation = %self.conversation_id, "model completed with no text");
            return Err(ApiError::BadGateway(MODEL_UNAVAILABLE));
        }
        record_model("ok", started, first_delta);
        Ok((reply, excerpts::sources(&hits)))
    }
}

/// Keeps the lease while the reply is generated (aborted when it ends).
async fn renew(state: SharedState, company_id: String, conversation_id: String, owner: String) {
    let period = state.chat.lease / 3;
    loop {
        tokio::time::sleep(period).await;
        let lease = Lease {
            owner: owner.clone(),
            until: now_ms() + state.chat.lease.as_millis() as i64,
        };
        match state
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
                tracing::warn!(error = %crate::error::chain(&e), "could not renew a reply lease; retrying")
            }
        }
    }
}
