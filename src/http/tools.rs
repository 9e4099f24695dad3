//! Agent tools (docs/API.md §10): create (the secret shown once), list an
//! agent's, get, change, delete, rotate the secret. Every route needs
//! `agents:write` (docs/API.md §0.1: a tool's URL and secret are the
//! company's integration, not something a read-only key may see). Calls of
//! the tools are the chat's (`tools::call`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Call, Endpoint, PathId};
use super::views::ErrorBody;
use crate::app::SharedState;
use crate::domain::{
    check_tool_description, check_tool_name, check_tool_parameters_shape, check_tool_timeout,
    check_tool_url_length, format_ms, new_id, now_ms, IdKind, Permission, Tool,
    DEFAULT_TOOL_TIMEOUT_MS, TOOL_ROTATION_OVERLAP_MS, TOOL_SECRET_PREFIX,
};
use crate::error::{ApiError, ApiResult};
use crate::signing::new_secret;
use crate::store::ToolChanges;
use crate::tools::check_parameters;

const NOT_FOUND: &str = "Tool not found";

#[derive(Serialize, ToSchema)]
pub struct ToolView {
    #[schema(example = "tool_01JH0000000000000000000000")]
    pub id: String,
    pub agent_id: String,
    #[schema(example = "lookup_order")]
    pub name: String,
    pub description: String,
    /// A JSON Schema object (OpenAI's `function.parameters`).
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub url: String,
    pub timeout_ms: i64,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Tool> for ToolView {
    fn from(t: Tool) -> Self {
        ToolView {
            id: t.id,
            agent_id: t.agent_id,
            name: t.name,
            description: t.description,
            parameters: t.parameters,
            url: t.url,
            timeout_ms: t.timeout_ms,
            active: t.active,
            created_at: format_ms(t.created_at),
            updated_at: format_ms(t.updated_at),
        }
    }
}

/// A tool with its signing secret: only when made and when rotated.
#[derive(Serialize, ToSchema)]
pub struct ToolWithSecret {
    #[serde(flatten)]
    pub tool: ToolView,
    #[schema(example = "tsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=")]
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct ToolList {
    pub data: Vec<ToolView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToolBody {
    /// The function name the model calls.
    #[schema(pattern = "^[a-zA-Z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
    name: String,
    #[schema(min_length = 1, max_length = 1024)]
    description: String,
    /// A JSON Schema object, at most 16 KiB as JSON.
    #[schema(value_type = Object)]
    parameters: Value,
    /// https, or http to a network the operator allows; public addresses only otherwise.
    #[schema(max_length = 2048)]
    url: String,
    #[serde(default)]
    #[schema(minimum = 100, maximum = 30000, default = 10000)]
    timeout_ms: Option<i64>,
    #[serde(default)]
    #[schema(default = true)]
    active: Option<bool>,
}

impl Endpoint for CreateToolBody {
    const PERMISSION: Permission = Permission::AgentsWrite;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateToolBody {
    #[serde(default)]
    #[schema(pattern = "^[a-zA-Z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
    name: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1024)]
    description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    parameters: Option<Value>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    url: Option<String>,
    #[serde(default)]
    #[schema(minimum = 100, maximum = 30000)]
    timeout_ms: Option<i64>,
    #[serde(default)]
    active: Option<bool>,
}

impl Endpoint for UpdateToolBody {
    const PERMISSION: Permission = Permission::AgentsWrite;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolsWrite {}

impl Endpoint for ToolsWrite {
    const PERMISSION: Permission = Permission::AgentsWrite;
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

async fn check_url(state: &SharedState, url: &str) -> ApiResult<()> {
    check_tool_url_length(url).map_err(bad)?;
    state
        .config
        .outbound
        .check(url)
        .await
        .map(|_| ())
        .map_err(|e| bad(e.to_string()))
}

fn check_schema(parameters: &Value) -> ApiResult<()> {
    check_tool_parameters_shape(parameters).map_err(bad)?;
    check_parameters(parameters).map_err(bad)
}

async fn agent_exists(state: &SharedState, company: &str, agent: &str) -> ApiResult<()> {
    state
        .store
        .get_agent(company, agent)
        .await?
        .ok_or(ApiError::NotFound("Agent not found"))?;
    Ok(())
}

/// Secrets must not linger in caches between the server and the company.
fn with_secret(status: StatusCode, t: Tool) -> impl IntoResponse {
    let secret = t.secret.clone();
    let body = ToolWithSecret {
        tool: t.into(),
        secret,
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body))
}

#[utoipa::path(post, path = "/agents/{id}/tools", tag = "tools", request_body = CreateToolBody,
    params(("id" = String, Path, description = "Agent id (agent_…)")),
    responses((status = 201, body = ToolWithSecret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<SharedState>,
    PathId(agent_id): PathId,
    call: Call<CreateToolBody>,
) -> ApiResult<impl IntoResponse> {
    let company = call.key.company_id.clone();
    agent_exists(&state, &company, &agent_id).await?;
    let body = call.body;
    check_tool_name(&body.name).map_err(bad)?;
    check_tool_description(&body.description).map_err(bad)?;
    check_schema(&body.parameters)?;
    let timeout_ms = body.timeout_ms.unwrap_or(DEFAULT_TOOL_TIMEOUT_MS);
    check_tool_timeout(timeout_ms).map_err(bad)?;
    check_url(&state, &body.url).await?;
    let now = now_ms();
    let tool = Tool {
        company_id: company,
        id: new_id(IdKind::Tool),
        agent_id,
        name: body.name,
        description: body.description,
        parameters: body.parameters,
        url: body.url,
        timeout_ms,
        active: body.active.unwrap_or(true),
        secret: new_secret(TOOL_SECRET_PREFIX),
        previous_secret: None,
        previous_until: None,
        created_at: now,
        updated_at: now,
    };
    state.store.create_tool(&tool).await?;
    Ok(with_secret(StatusCode::CREATED, tool))
}

#[utoipa::path(get, path = "/agents/{id}/tools", tag = "tools",
    params(("id" = String, Path, description = "Agent id (agent_…)")),
    responses((status = 200, body = ToolList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    PathId(agent_id): PathId,
    call: Call<ToolsWrite>,
) -> ApiResult<Json<ToolList>> {
    let company = &call.key.company_id;
    agent_exists(&state, company, &agent_id).await?;
    let rows = state.store.list_tools(company, &agent_id).await?;
    Ok(Json(ToolList {
        data: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/tools/{id}", tag = "tools",
    params(("id" = String, Path, description = "Tool id (tool_…)")),
    responses((status = 200, body = ToolView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<ToolsWrite>,
) -> ApiResult<Json<ToolView>> {
    let tool = state
        .store
        .get_tool(&call.key.company_id, &id)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(Json(tool.into()))
}

#[utoipa::path(patch, path = "/tools/{id}", tag = "tools", request_body = UpdateToolBody,
    params(("id" = String, Path, description = "Tool id (tool_…)")),
    responses((status = 200, body = ToolView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UpdateToolBody>,
) -> ApiResult<Json<ToolView>> {
    let body = call.body;
    if let Some(name) = &body.name {
        check_tool_name(name).map_err(bad)?;
    }
    if let Some(description) = &body.description {
        check_tool_description(description).map_err(bad)?;
    }
    if let Some(parameters) = &body.parameters {
        check_schema(parameters)?;
    }
    if let Some(timeout_ms) = body.timeout_ms {
        check_tool_timeout(timeout_ms).map_err(bad)?;
    }
    if let Some(url) = &body.url {
        check_url(&state, url).await?;
    }
    let changes = ToolChanges {
        name: body.name,
        description: body.description,
        parameters: body.parameters,
        url: body.url,
        timeout_ms: body.timeout_ms,
        active: body.active,
    };
    let updated = state
        .store
        .update_tool(&call.key.company_id, &id, &changes, now_ms())
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(Json(updated.into()))
}

#[utoipa::path(delete, path = "/tools/{id}", tag = "tools",
    params(("id" = String, Path, description = "Tool id (tool_…)")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<ToolsWrite>,
) -> ApiResult<StatusCode> {
    if !state.store.delete_tool(&call.key.company_id, &id).await? {
        return Err(ApiError::NotFound(NOT_FOUND));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/tools/{id}/rotate-secret", tag = "tools",
    params(("id" = String, Path, description = "Tool id (tool_…)")),
    responses((status = 200, body = ToolWithSecret), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<ToolsWrite>,
) -> ApiResult<impl IntoResponse> {
    let now = now_ms();
    let secret = new_secret(TOOL_SECRET_PREFIX);
    let rotated = state
        .store
        .rotate_tool_secret(
            &call.key.company_id,
            &id,
            &secret,
            now + TOOL_ROTATION_OVERLAP_MS,
            now,
        )
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(with_secret(StatusCode::OK, rotated))
}
