//! Store operations behind a customer user's rights (docs/API.md §12): the
//! erasure, in one transaction, and the keyset pages a data export reads.

use async_trait::async_trait;

use crate::domain::{Conversation, Message};
use crate::store::StoreResult;

/// A row's place in `created_at, id` order: an export page starts after it.
pub type After<'a> = Option<(i64, &'a str)>;

#[async_trait]
pub trait UserRights: Send + Sync {
    /// Erases the user in one transaction: their messages, conversations,
    /// activity days and the user row go; the data of their events (and of
    /// the webhook deliveries made of them) becomes `{id, erased: true}`;
    /// the `customer_user.deleted` event is written. `false` (and nothing
    /// changed) when the user is not this company's.
    async fn erase_user(&self, company_id: &str, user_id: &str) -> StoreResult<bool>;

    /// Up to `limit` of the user's conversations after `after`, in
    /// `created_at, id` order.
    async fn user_conversations_after(
        &self,
        company_id: &str,
        user_id: &str,
        after: After<'_>,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>>;

    /// Up to `limit` of the conversation's messages after `after`, in
    /// `created_at, id` order.
    async fn conversation_messages_after(
        &self,
        company_id: &str,
        conversation_id: &str,
        after: After<'_>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
}
