//! Companies, their agents and their API keys: the operator's objects.

use async_trait::async_trait;

use super::{AgentChanges, PageRequest, StoreResult};
use crate::domain::{Agent, ApiKeyRecord, Company};

#[async_trait]
pub trait TenantStore {
    async fn create_company(&self, name: &str, now: i64) -> StoreResult<Company>;
    async fn list_companies(&self) -> StoreResult<Vec<Company>>;
    /// The companies with exactly this name, oldest first.
    async fn companies_named(&self, name: &str) -> StoreResult<Vec<Company>>;
    async fn set_company_active(&self, company_id: &str, active: bool) -> StoreResult<bool>;

    async fn create_agent(
        &self,
        company_id: &str,
        name: &str,
        prompt_template: Option<&str>,
        active: bool,
        now: i64,
    ) -> StoreResult<Agent>;
    async fn list_agents(
        &self,
        company_id: &str,
        page: PageRequest,
    ) -> StoreResult<(Vec<Agent>, i64)>;
    async fn get_agent(&self, company_id: &str, agent_id: &str) -> StoreResult<Option<Agent>>;
    async fn set_agent_active(
        &self,
        company_id: &str,
        agent_id: &str,
        active: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// Applies the given changes; `None` when the agent is not this company's.
    async fn update_agent(
        &self,
        company_id: &str,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> StoreResult<Option<Agent>>;
    async fn get_company(&self, company_id: &str) -> StoreResult<Option<Company>>;

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn list_api_keys(&self, company_id: &str) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Global: the key id is all a request presents.
    async fn find_api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Global, for the operator's `api-key revoke KEY_ID`; false when unknown.
    async fn revoke_api_key(&self, key_id: &str, now: i64) -> StoreResult<bool>;
    async fn touch_api_key(&self, company_id: &str, key_id: &str, now: i64) -> StoreResult<()>;
}
