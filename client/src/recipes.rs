//! The public docs' client recipes (`shared/seed`), each as one call where
//! the docs' version needed one call per page, per user or per item.

use futures_util::TryStreamExt;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::export::UserStream;
use crate::types::{
    BulkResult, BulkUpdate, CustomerUser, Metadata, Upserted, UserFilter, UserStats, UserUpdate,
};
use crate::users::BULK_MAX;

impl Client {
    /// The user with this e-mail address (case-insensitive), if any. One call.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<CustomerUser>> {
        self.first(&UserFilter::new().email(email)).await
    }

    /// The user with this external id (your own id for it), if any. One call.
    pub async fn find_by_external_id(&self, external_id: &str) -> Result<Option<CustomerUser>> {
        self.first(&UserFilter::new().external_id(external_id))
            .await
    }

    async fn first(&self, filter: &UserFilter) -> Result<Option<CustomerUser>> {
        Ok(self.list_users(filter, 1, 1).await?.data.into_iter().next())
    }

    /// The docs' `syncUser`: creates or updates the user with your id, in one
    /// call (the docs' version looked the user up first, and could not create
    /// a user before its first token).
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::UserUpdate;
    /// let meta = serde_json::json!({ "plan": "premium" });
    /// let synced = client
    ///     .sync_user(
    ///         "user_123",
    ///         &UserUpdate::new().name("Ann").email("ann@example.com").metadata(meta.as_object().unwrap().clone()),
    ///     )
    ///     .await?;
    /// println!("{} ({})", synced.user.id, if synced.created { "created" } else { "updated" });
    /// # Ok(()) }
    /// ```
    pub async fn sync_user(&self, external_id: &str, data: &UserUpdate) -> Result<Upserted> {
        self.upsert_user(external_id, data).await
    }

    /// The docs' `exportAllUsers`, as a stream: every user from one call,
    /// instead of one call per page of 100.
    pub async fn export_all_users(&self) -> Result<UserStream> {
        self.export_users(&UserFilter::new()).await
    }

    /// The docs' `exportToCSV`: every user as CSV text from one call, quoted
    /// correctly (the docs' version broke on commas, quotes and line breaks).
    /// For large exports stream [`Client::export_users_csv`] instead.
    pub async fn export_to_csv(&self) -> Result<String> {
        let chunks: Vec<_> = self
            .export_users_csv(&UserFilter::new())
            .await?
            .try_collect()
            .await?;
        String::from_utf8(chunks.concat()).map_err(|e| Error::UnexpectedResponse {
            status: 200,
            detail: format!("CSV export is not UTF-8: {e}"),
        })
    }

    /// The docs' `getUserActivityStats`: counted by the server in one call,
    /// instead of downloading every user.
    pub async fn activity_stats(&self) -> Result<UserStats> {
        self.user_stats().await
    }

    /// The docs' `bulkUpdatePlan`, generalised: merges `merge` into the
    /// metadata of each user, one call per [`BULK_MAX`] users (the docs' used
    /// two per user, and could lose concurrent writes to other keys).
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// let plan = serde_json::json!({ "plan": "enterprise" });
    /// let results = client
    ///     .bulk_merge_metadata(&["user_1", "user_2", "user_3"], plan.as_object().unwrap())
    ///     .await?;
    /// for r in results.iter().filter(|r| !r.success) {
    ///     eprintln!("{}: {}", r.external_id, r.error.as_deref().unwrap_or("failed"));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn bulk_merge_metadata<S: AsRef<str>>(
        &self,
        external_ids: &[S],
        merge: &Metadata,
    ) -> Result<Vec<BulkResult>> {
        let mut results = Vec::with_capacity(external_ids.len());
        for (n, batch) in external_ids.chunks(BULK_MAX).enumerate() {
            let updates: Vec<BulkUpdate> = batch
                .iter()
                .map(|id| BulkUpdate::new(id.as_ref()).metadata_merge(merge.clone()))
                .collect();
            results.extend(self.part(n + 1).bulk_update(&updates).await?);
        }
        Ok(results)
    }

    /// The docs' `bulkUpdatePlan` itself: sets `metadata.plan` for each user.
    pub async fn bulk_update_plan<S: AsRef<str>>(
        &self,
        external_ids: &[S],
        plan: &str,
    ) -> Result<Vec<BulkResult>> {
        let mut merge = Metadata::new();
        merge.insert("plan".into(), Value::String(plan.into()));
        self.bulk_merge_metadata(external_ids, &merge).await
    }
}
