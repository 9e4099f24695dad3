//! SQL for companies, agents and API keys, shared by SQLite and PostgreSQL.

use async_trait::async_trait;

use super::{on_pool, storable, Params, SqlStore, SqlValue};
use crate::domain::{new_id, Agent, ApiKeyRecord, Company, Field, IdKind};
use crate::store::rows::{
    AgentRow, CompanyRow, KeyRow, AGENT_COLUMNS, COMPANY_COLUMNS, KEY_COLUMNS,
};
use crate::store::{AgentChanges, PageRequest, StoreResult, TenantStore};

#[async_trait]
impl TenantStore for SqlStore {
    async fn create_company(&self, name: &str, now: i64) -> StoreResult<Company> {
        let id = new_id(IdKind::Company);
        let sql = format!(
            "INSERT INTO companies (id, name, active, created_at, updated_at) VALUES ($1, $2, TRUE, $3, $3) RETURNING {COMPANY_COLUMNS}"
        );
        let row: CompanyRow = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(&id)
            .bind(name)
            .bind(now)
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    async fn list_companies(&self) -> StoreResult<Vec<Company>> {
        let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies ORDER BY created_at, id");
        let rows: Vec<CompanyRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn companies_named(&self, name: &str) -> StoreResult<Vec<Company>> {
        if !storable(name) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COMPANY_COLUMNS} FROM companies WHERE name = $1 ORDER BY created_at, id"
        );
        let rows: Vec<CompanyRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(name)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_company_active(&self, company_id: &str, active: bool) -> StoreResult<bool> {
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE companies SET active = $2 WHERE id = $1"
        )
        .bind(company_id)
        .bind(active)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    async fn create_agent(
        &self,
        company_id: &str,
        name: &str,
        prompt_template: Option<&str>,
        active: bool,
        now: i64,
    ) -> StoreResult<Agent> {
        let id = new_id(IdKind::Agent);
        let sql = format!(
            "INSERT INTO agents (company_id, id, name, prompt_template, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {AGENT_COLUMNS}"
        );
        let row: AgentRow = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(&id)
            .bind(name)
            .bind(prompt_template)
            .bind(active)
            .bind(now)
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    async fn list_agents(
        &self,
        company_id: &str,
        page: PageRequest,
    ) -> StoreResult<(Vec<Agent>, i64)> {
        let sql = format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE company_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
        );
        on_pool!(&self.pools, read, |p| {
            let rows: Vec<AgentRow> = sqlx::query_as(&sql)
                .bind(company_id)
                .bind(i64::from(page.limit))
                .bind(page.offset())
                .fetch_all(p)
                .await?;
            let total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE company_id = $1")
                    .bind(company_id)
                    .fetch_one(p)
                    .await?;
            Ok((rows.into_iter().map(Into::into).collect(), total))
        })
    }

    async fn get_agent(&self, company_id: &str, agent_id: &str) -> StoreResult<Option<Agent>> {
        if !storable(agent_id) {
            return Ok(None);
        }
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE company_id = $1 AND id = $2");
        let row: Option<AgentRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(agent_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn set_agent_active(
        &self,
        company_id: &str,
        agent_id: &str,
        active: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE agents SET active = $3, updated_at = $4 WHERE company_id = $1 AND id = $2"
        )
        .bind(company_id)
        .bind(agent_id)
        .bind(active)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    async fn update_agent(
        &self,
        company_id: &str,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> StoreResult<Option<Agent>> {
        if !storable(agent_id) {
            return Ok(None);
        }
        let mut params = Params::default();
        let mut sets = vec![format!("updated_at = {}", params.push(SqlValue::Int(now)))];
        if let Some(name) = &changes.name {
            sets.push(format!(
                "name = {}",
                params.push(SqlValue::Text(name.clone()))
            ));
        }
        for (column, field) in [
            ("prompt_template", &changes.prompt_template),
            ("llm_url", &changes.llm_url),
            ("llm_model", &changes.llm_model),
        ] {
            match field {
                Field::Absent => {}
                Field::Null => sets.push(format!("{column} = NULL")),
                Field::Set(v) => sets.push(format!(
                    "{column} = {}",
                    params.push(SqlValue::Text(v.clone()))
                )),
            }
        }
        if let Some(active) = changes.active {
            sets.push(format!("active = {}", params.push(SqlValue::Bool(active))));
        }
        let company = params.push(SqlValue::Text(company_id.into()));
        let id = params.push(SqlValue::Text(agent_id.into()));
        let sql = format!(
            "UPDATE agents SET {} WHERE company_id = {company} AND id = {id} RETURNING {AGENT_COLUMNS}",
            sets.join(", ")
        );
        let row: Option<AgentRow> = on_pool!(&self.pools, write, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_optional(p)
        .await)?;
        Ok(row.map(Into::into))
    }

    async fn get_company(&self, company_id: &str) -> StoreResult<Option<Company>> {
        if !storable(company_id) {
            return Ok(None);
        }
        let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = $1");
        let row: Option<CompanyRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        on_pool!(&self.pools, write, |p| {
            sqlx::query(
            "INSERT INTO api_keys (id, company_id, name, environment, permissions, secret_hash, \
             expires_at, revoked_at, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(&key.id)
        .bind(&key.company_id)
        .bind(&key.name)
        .bind(key.environment.as_str())
        .bind(key.permissions.to_list())
        .bind(&key.secret_hash)
        .bind(key.expires_at)
        .bind(key.revoked_at)
        .bind(key.created_at)
        .bind(key.last_used_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    async fn list_api_keys(&self, company_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k JOIN companies c ON c.id = k.company_id \
             WHERE k.company_id = $1 ORDER BY k.created_at, k.id"
        );
        let rows: Vec<KeyRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn find_api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        if !storable(key_id) {
            return Ok(None);
        }
        if let Some(found) = self.fast.as_ref().and_then(|f| f.api_key(key_id)) {
            return Ok(found.map(Into::into));
        }
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k JOIN companies c ON c.id = k.company_id WHERE k.id = $1"
        );
        let row: Option<KeyRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(key_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn revoke_api_key(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        if !storable(key_id) {
            return Ok(false);
        }
        // COALESCE keeps the first revocation time when revoked twice.
        let done = on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1"
        )
        .bind(key_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    async fn touch_api_key(&self, company_id: &str, key_id: &str, now: i64) -> StoreResult<()> {
        on_pool!(&self.pools, write, |p| sqlx::query(
            "UPDATE api_keys SET last_used_at = $3 WHERE company_id = $1 AND id = $2"
        )
        .bind(company_id)
        .bind(key_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
