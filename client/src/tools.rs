//! Agent tools (docs/API.md §10, docs/TOOLS.md).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{call, send, Client};
use crate::error::Result;
use crate::events::List;

/// An agent's tool; `secret` only when made or rotated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub id: String,
    pub agent_id: String,
    pub name: String,
    pub description: String,
    /// A JSON Schema object.
    pub parameters: Value,
    pub url: String,
    pub timeout_ms: i64,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A new tool; `timeout_ms` defaults to 10 000 and `active` to true.
#[derive(Debug, Clone, Serialize)]
pub struct NewTool {
    pub name: String,
    pub description: String,
    pub parameters: Value,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl Client {
    /// `POST /agents/:id/tools`: the tool with its secret (shown only now).
    pub async fn create_tool(&self, agent_id: &str, tool: &NewTool) -> Result<Tool> {
        call(
            self.api(Method::POST, &["agents", agent_id, "tools"])
                .json(tool),
        )
        .await
    }

    /// `GET /agents/:id/tools`.
    pub async fn list_tools(&self, agent_id: &str) -> Result<List<Tool>> {
        call(self.api(Method::GET, &["agents", agent_id, "tools"])).await
    }

    /// `GET /tools/:id`.
    pub async fn get_tool(&self, id: &str) -> Result<Tool> {
        call(self.api(Method::GET, &["tools", id])).await
    }

    /// `DELETE /tools/:id`.
    pub async fn delete_tool(&self, id: &str) -> Result<()> {
        send(self.api(Method::DELETE, &["tools", id])).await?;
        Ok(())
    }

    /// `POST /tools/:id/rotate-secret`: the tool with its new secret; the
    /// old one keeps signing for 24 hours.
    pub async fn rotate_tool_secret(&self, id: &str) -> Result<Tool> {
        call(self.api(Method::POST, &["tools", id, "rotate-secret"])).await
    }
}
