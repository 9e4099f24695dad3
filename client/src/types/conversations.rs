//! Conversations and their messages, as the company sees them.

use serde::{Deserialize, Serialize};

use super::{Pagination, Source};

/// A conversation between a customer user and an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    pub id: String,
    pub title: Option<String>,
    pub customer_user_id: String,
    pub agent_id: String,
    pub message_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One message of a conversation; `role` is `user` or `assistant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    pub id: String,
    pub content: String,
    pub role: String,
    pub conversation_id: String,
    pub created_at: String,
    /// For an assistant reply, the knowledge-base documents it was given, in
    /// rank order (empty otherwise, and from servers that predate them).
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// The conversation a page of messages belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationBrief {
    pub id: String,
    pub title: Option<String>,
}

/// A page of [`Client::list_messages`](crate::Client::list_messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessagePage {
    pub data: Vec<Message>,
    pub pagination: Pagination,
    pub conversation: ConversationBrief,
}
