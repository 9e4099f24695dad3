//! Customer users: the endpoints of docs/API.md §4, one method each.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::client::{call, decode, send, Client};
use crate::error::Result;
use crate::types::{
    BulkResult, BulkUpdate, CustomerUser, Page, Upserted, UserFilter, UserStats, UserUpdate,
};

/// Most items one bulk request may carry.
pub const BULK_MAX: usize = 1000;

impl Client {
    /// `GET /customer-users`: one page (`page` ≥ 1, `limit` 1–100) of the
    /// users matching `filter`, in creation order.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::UserFilter;
    /// let page = client.list_users(&UserFilter::new().active(true), 1, 100).await?;
    /// println!("{} active users", page.pagination.total);
    /// # Ok(()) }
    /// ```
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        page: u32,
        limit: u32,
    ) -> Result<Page<CustomerUser>> {
        let mut query = filter.query();
        query.push(("page", page.to_string()));
        query.push(("limit", limit.to_string()));
        call(self.api(Method::GET, &["customer-users"]).query(&query)).await
    }

    /// `GET /customer-users/:id` (internal id, `cu_…`).
    pub async fn get_user(&self, id: &str) -> Result<CustomerUser> {
        call(self.api(Method::GET, &["customer-users", id])).await
    }

    /// `PUT /customer-users/:id`: `metadata`, when given, replaces the stored object.
    pub async fn update_user(&self, id: &str, update: &UserUpdate) -> Result<CustomerUser> {
        call(self.api(Method::PUT, &["customer-users", id]).json(update)).await
    }

    /// `PATCH /customer-users/:id`: `metadata` is merged into the stored
    /// object on the server (JSON Merge Patch), so concurrent writers of
    /// different keys never lose each other's change.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::UserUpdate;
    /// let plan = serde_json::json!({ "plan": "premium" });
    /// let user = client
    ///     .patch_user("cu_…", &UserUpdate::new().metadata(plan.as_object().unwrap().clone()))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch_user(&self, id: &str, update: &UserUpdate) -> Result<CustomerUser> {
        call(
            self.api(Method::PATCH, &["customer-users", id])
                .json(update),
        )
        .await
    }

    /// `PUT /customer-users/by-external-id/:external_id`: creates the user
    /// (before its first token) or updates it, in one call.
    pub async fn upsert_user(&self, external_id: &str, update: &UserUpdate) -> Result<Upserted> {
        let request = self
            .api(
                Method::PUT,
                &["customer-users", "by-external-id", external_id],
            )
            .json(update);
        let response = send(request).await?;
        let created = response.status() == StatusCode::CREATED;
        Ok(Upserted {
            user: decode(response).await?,
            created,
        })
    }

    /// `GET /customer-users/stats`: totals and recent activity, counted on the server.
    pub async fn user_stats(&self) -> Result<UserStats> {
        call(self.api(Method::GET, &["customer-users", "stats"])).await
    }

    /// `POST /customer-users/bulk`: 1 to [`BULK_MAX`] updates in one call,
    /// one result per item in order; one bad item never fails the others.
    /// For longer lists see
    /// [`Client::bulk_merge_metadata`](crate::Client::bulk_merge_metadata) or
    /// send slices of [`BULK_MAX`].
    pub async fn bulk_update(&self, updates: &[BulkUpdate]) -> Result<Vec<BulkResult>> {
        #[derive(Deserialize)]
        struct Answer {
            results: Vec<BulkResult>,
        }
        let request = self
            .api(Method::POST, &["customer-users", "bulk"])
            .json(&json!({ "updates": updates }));
        let answer: Answer = call(request).await?;
        Ok(answer.results)
    }
}
