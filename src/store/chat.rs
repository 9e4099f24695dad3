//! Store operations for conversations and messages (docs/API.md §6 and §8), and the
//! reply lease that keeps one reply in flight per conversation on every node.

use async_trait::async_trait;

use super::PageRequest;
use crate::domain::{Conversation, CustomerUser, Message, Source};
use crate::store::StoreResult;

/// Who holds a conversation's reply lease, and until when (ms since the epoch).
#[derive(Debug, Clone)]
pub struct Lease {
    /// Unique per reply, so only the reply that took the lease releases it.
    pub owner: String,
    pub until: i64,
}

impl Lease {
    /// The lease `owner` holds from `now` (ms) for `lasting`.
    pub fn from(owner: String, now: i64, lasting: std::time::Duration) -> Self {
        Lease {
            owner,
            until: now + lasting.as_millis() as i64,
        }
    }
}

/// What asking to start a reply found.
#[derive(Debug)]
pub enum BeginReply {
    /// The question is stored and the lease taken.
    Started {
        conversation: Box<Conversation>,
        question: Message,
        /// Whether the company has knowledge documents (read by the same
        /// statement), so a reply without any skips retrieval for free.
        has_documents: bool,
    },
    /// Not this user's conversation with this agent (or none at all).
    NotFound,
    /// Another reply holds an unexpired lease; nothing was written.
    Busy,
}

/// The end user a chat request acts for: the token's user and agent.
#[derive(Debug, Clone, Copy)]
pub struct ChatOwner<'a> {
    pub company_id: &'a str,
    pub customer_user_id: &'a str,
    pub agent_id: &'a str,
}

impl<'a> ChatOwner<'a> {
    /// `user` chatting with the agent `agent_id`.
    pub fn new(user: &'a CustomerUser, agent_id: &'a str) -> Self {
        ChatOwner {
            company_id: &user.company_id,
            customer_user_id: &user.id,
            agent_id,
        }
    }
}

#[async_trait]
pub trait ChatStore: Send + Sync {
    async fn create_conversation(
        &self,
        owner: ChatOwner<'_>,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<Conversation>;

    /// The company's conversations in `created_at, id` order, optionally one user's.
    async fn list_conversations(
        &self,
        company_id: &str,
        customer_user_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Conversation>, i64)>;

    /// An end user's conversations with one agent, most recently updated first.
    async fn list_recent_conversations(
        &self,
        owner: ChatOwner<'_>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Conversation>, i64)>;

    async fn get_conversation(
        &self,
        company_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Option<Conversation>>;

    /// Messages from the oldest, in `created_at, id` order, with the total.
    async fn list_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        page: PageRequest,
    ) -> StoreResult<(Vec<Message>, i64)>;

    /// The latest `limit` messages (before `before` when given), in
    /// chronological order, and whether older ones exist. `None` when
    /// `before` is not a message of this conversation.
    async fn latest_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        limit: u32,
        before: Option<&str>,
    ) -> StoreResult<Option<(Vec<Message>, bool)>>;

    /// Takes the reply lease and stores the question, in one transaction:
    /// `message_count` and `updated_at` move with it, and `derived_title`
    /// becomes the title if there is none yet.
    async fn begin_reply(
        &self,
        owner: ChatOwner<'_>,
        conversation_id: &str,
        question: &str,
        derived_title: &str,
        lease: &Lease,
        now: i64,
    ) -> StoreResult<BeginReply>;

    /// Extends a lease still held by `owner`; false when it is not.
    async fn renew_lease(
        &self,
        company_id: &str,
        conversation_id: &str,
        lease: &Lease,
    ) -> StoreResult<bool>;

    /// Stores the reply (with the sources it cites) and releases the lease if `owner` still holds it.
    async fn finish_reply(
        &self,
        company_id: &str,
        conversation_id: &str,
        owner: &str,
        reply: &str,
        sources: &[Source],
        now: i64,
    ) -> StoreResult<Message>;

    /// Releases the lease if `owner` still holds it (a failed reply).
    async fn release_lease(
        &self,
        company_id: &str,
        conversation_id: &str,
        owner: &str,
    ) -> StoreResult<()>;
}

/// A `tool` message to store (docs/API.md §10): a model's calls or a call's result.
#[derive(Debug, Clone)]
pub struct NewToolMessage {
    pub content: String,
    pub part: crate::domain::ToolPart,
}

/// The tool messages of a reply, written while it is generated.
#[async_trait]
pub trait ToolMessages: Send + Sync {
    /// Stores `messages` in order, in one transaction, as the conversation's
    /// next messages (`message_count` and `updated_at` move with them), and
    /// returns them as stored.
    async fn append_tool_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        messages: &[NewToolMessage],
        now: i64,
    ) -> StoreResult<Vec<Message>>;
}
