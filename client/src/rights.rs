//! A customer user's rights (docs/API.md §12): erasure and the data export.

use reqwest::Method;

use crate::client::{send, Client};
use crate::error::Result;
use crate::export::ByteStream;

impl Client {
    /// `DELETE /customer-users/:id`: erases the user, their conversations
    /// and messages at once; their tokens stop working and their earlier
    /// events keep only ids. Not found (another company's, or already
    /// erased) is an error ([`crate::Error::is_not_found`]).
    pub async fn erase_customer_user(&self, id: &str) -> Result<()> {
        send(self.api(Method::DELETE, &["customer-users", id])).await?;
        Ok(())
    }

    /// `GET /customer-users/:id/data-export`: everything stored about the
    /// user as one JSON document (`exported_at`, `customer_user`, and
    /// `conversations`, each with its `messages`), streamed as the server
    /// writes it, to be saved or parsed whole.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let mut body = client.export_customer_user("cu_…").await?;
    /// let mut document = Vec::new();
    /// while let Some(chunk) = body.try_next().await? {
    ///     document.extend_from_slice(&chunk);
    /// }
    /// let document: serde_json::Value = serde_json::from_slice(&document).unwrap();
    /// # Ok(()) }
    /// ```
    pub async fn export_customer_user(&self, id: &str) -> Result<ByteStream> {
        let response = send(self.api(Method::GET, &["customer-users", id, "data-export"])).await?;
        Ok(ByteStream::of(response))
    }
}
