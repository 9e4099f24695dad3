//! Agents (read-only) and the health check.

use reqwest::Method;

use crate::client::{call, Client};
use crate::error::Result;
use crate::types::{Agent, Health, Page};

impl Client {
    /// `GET /agents`: one page (`page` ≥ 1, `limit` 1–100), inactive agents included.
    pub async fn list_agents(&self, page: u32, limit: u32) -> Result<Page<Agent>> {
        let request = self
            .api(Method::GET, &["agents"])
            .query(&[("page", page), ("limit", limit)]);
        call(request).await
    }

    /// `GET /agents/:id`, with its prompt template.
    pub async fn get_agent(&self, id: &str) -> Result<Agent> {
        call(self.api(Method::GET, &["agents", id])).await
    }

    /// `GET /health`: no credentials needed. A server whose database does not
    /// answer gives [`Error::Api`](crate::Error::Api) with status 503.
    pub async fn health(&self) -> Result<Health> {
        call(self.plain("health")?).await
    }
}
