//! Agent tools in SQL, shared by SQLite and PostgreSQL (docs/API.md §10).
//! `parameters` is stored as JSON text; secrets as the webhook endpoints
//! keep theirs (webhooks.rs).

use async_trait::async_trait;

use super::{on_pool, storable, SqlStore};
use crate::domain::{now_ms, ActiveTool, Tool};
use crate::store::tools::{ToolChanges, ToolStore};
use crate::store::StoreResult;

const TOOL_COLUMNS: &str = "company_id, id, agent_id, name, description, parameters, url, \
     timeout_ms, active, secret, previous_secret, previous_until, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ToolRow {
    company_id: String,
    id: String,
    agent_id: String,
    name: String,
    description: String,
    parameters: String,
    url: String,
    timeout_ms: i64,
    active: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<ToolRow> for Tool {
    fn from(r: ToolRow) -> Self {
        Tool {
            company_id: r.company_id,
            id: r.id,
            agent_id: r.agent_id,
            name: r.name,
            description: r.description,
            // Written by this module from a serde_json::Value: always JSON.
            parameters: serde_json::from_str(&r.parameters).unwrap_or_default(),
            url: r.url,
            timeout_ms: r.timeout_ms,
            active: r.active,
            secret: r.secret,
            previous_secret: r.previous_secret,
            previous_until: r.previous_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[async_trait]
impl ToolStore for SqlStore {
    async fn create_tool(&self, t: &Tool) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO tools ({TOOL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        on_pool!(&self.pools, write, |p| sqlx::query(&sql)
            .bind(&t.company_id)
            .bind(&t.id)
            .bind(&t.agent_id)
            .bind(&t.name)
            .bind(&t.description)
            .bind(t.parameters.to_string())
            .bind(&t.url)
            .bind(t.timeout_ms)
            .bind(t.active)
            .bind(&t.secret)
            .bind(&t.previous_secret)
            .bind(t.previous_until)
            .bind(t.created_at)
            .bind(t.updated_at)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn list_tools(&self, company_id: &str, agent_id: &str) -> StoreResult<Vec<Tool>> {
        if !storable(agent_id) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {TOOL_COLUMNS} FROM tools WHERE company_id = $1 AND agent_id = $2 \
             ORDER BY created_at, id"
        );
        let rows: Vec<ToolRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(agent_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_tool(&self, company_id: &str, id: &str) -> StoreResult<Option<Tool>> {
        if !storable(id) {
            return Ok(None);
        }
        let sql = format!("SELECT {TOOL_COLUMNS} FROM tools WHERE company_id = $1 AND id = $2");
        let row: Option<ToolRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn update_tool(
        &self,
        company_id: &str,
        id: &str,
        c: &ToolChanges,
        now: i64,
    ) -> StoreResult<Option<Tool>> {
        if !storable(id) {
            return Ok(None);
        }
        let parameters = c.parameters.as_ref().map(|v| v.to_string());
        let sql = format!(
            "UPDATE tools SET name = COALESCE($3, name), description = COALESCE($4, description), \
             parameters = COALESCE($5, parameters), url = COALESCE($6, url), \
             timeout_ms = COALESCE($7, timeout_ms), active = COALESCE($8, active), \
             updated_at = $9 WHERE company_id = $1 AND id = $2 RETURNING {TOOL_COLUMNS}"
        );
        let row: Option<ToolRow> = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .bind(&c.name)
            .bind(&c.description)
            .bind(&parameters)
            .bind(&c.url)
            .bind(c.timeout_ms)
            .bind(c.active)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn delete_tool(&self, company_id: &str, id: &str) -> StoreResult<bool> {
        if !storable(id) {
            return Ok(false);
        }
        let gone: u64 = on_pool!(&self.pools, write, |p| sqlx::query(
            "DELETE FROM tools WHERE company_id = $1 AND id = $2"
        )
        .bind(company_id)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(gone > 0)
    }

    async fn rotate_tool_secret(
        &self,
        company_id: &str,
        id: &str,
        secret: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<Option<Tool>> {
        if !storable(id) {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE tools SET previous_secret = secret, previous_until = $4, secret = $3, \
             updated_at = $5 WHERE company_id = $1 AND id = $2 RETURNING {TOOL_COLUMNS}"
        );
        let row: Option<ToolRow> = on_pool!(&self.pools, write, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(id)
            .bind(secret)
            .bind(previous_until)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn active_tools(&self, company_id: &str, agent_id: &str) -> StoreResult<Vec<ActiveTool>> {
        if !storable(agent_id) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {TOOL_COLUMNS} FROM tools WHERE company_id = $1 AND agent_id = $2 \
             AND active ORDER BY name"
        );
        let rows: Vec<ToolRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(agent_id)
            .fetch_all(p)
            .await)?;
        let now = now_ms();
        Ok(rows
            .into_iter()
            .map(|r| ActiveTool::of(r.into(), now))
            .collect())
    }
}
