//! Store operations for agent tools (docs/API.md §10): the company's
//! declarations, and the read a chat makes of its agent's active tools.

use async_trait::async_trait;
use serde_json::Value;

use crate::domain::{ActiveTool, Tool};
use crate::store::StoreResult;

/// Changes to a tool; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct ToolChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub url: Option<String>,
    pub timeout_ms: Option<i64>,
    pub active: Option<bool>,
}

impl ToolChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.parameters.is_none()
            && self.url.is_none()
            && self.timeout_ms.is_none()
            && self.active.is_none()
    }
}

#[async_trait]
pub trait ToolStore {
    /// Stores a new tool; a name the agent already has is
    /// `StoreError::Duplicate` with `UniqueKey::ToolName`.
    async fn create_tool(&self, tool: &Tool) -> StoreResult<()>;
    /// The agent's tools, oldest first.
    async fn list_tools(&self, company_id: &str, agent_id: &str) -> StoreResult<Vec<Tool>>;
    async fn get_tool(&self, company_id: &str, id: &str) -> StoreResult<Option<Tool>>;
    /// `None` when the tool is not this company's; a new name the agent
    /// already has is a duplicate as for `create_tool`.
    async fn update_tool(
        &self,
        company_id: &str,
        id: &str,
        changes: &ToolChanges,
        now: i64,
    ) -> StoreResult<Option<Tool>>;
    /// False when unknown.
    async fn delete_tool(&self, company_id: &str, id: &str) -> StoreResult<bool>;
    /// A new secret; the current one keeps signing until `previous_until`.
    async fn rotate_tool_secret(
        &self,
        company_id: &str,
        id: &str,
        secret: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<Option<Tool>>;
    /// The agent's active tools with the secrets that sign a call now, by
    /// name (what a chat offers the model).
    async fn active_tools(&self, company_id: &str, agent_id: &str) -> StoreResult<Vec<ActiveTool>>;
}
