//! Conversations and their messages, read-only (docs/API.md §6).

use reqwest::Method;

use crate::client::{call, Client};
use crate::error::Result;
use crate::types::{Conversation, MessagePage, Page};

impl Client {
    /// `GET /conversations`: one page (`page` ≥ 1, `limit` 1–100), oldest
    /// first, optionally only one customer user's (`cu_…`).
    pub async fn list_conversations(
        &self,
        customer_user_id: Option<&str>,
        page: u32,
        limit: u32,
    ) -> Result<Page<Conversation>> {
        let mut request = self
            .api(Method::GET, &["conversations"])
            .query(&[("page", page), ("limit", limit)]);
        if let Some(user) = customer_user_id {
            request = request.query(&[("customer_user_id", user)]);
        }
        call(request).await
    }

    /// `GET /conversations/:id`.
    pub async fn get_conversation(&self, id: &str) -> Result<Conversation> {
        call(self.api(Method::GET, &["conversations", id])).await
    }

    /// `GET /conversations/:id/messages`: one page from the oldest message
    /// (`limit` 1–100; the server's default is 50).
    pub async fn list_messages(&self, id: &str, page: u32, limit: u32) -> Result<MessagePage> {
        let request = self
            .api(Method::GET, &["conversations", id, "messages"])
            .query(&[("page", page), ("limit", limit)]);
        call(request).await
    }
}
