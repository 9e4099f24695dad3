//! Agents, read-only over the API (operators manage them with the CLI).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Call, Endpoint, Paged, PathId};
use super::views::{AgentList, AgentView, ErrorBody, Pagination};
use crate::app::SharedState;
use crate::domain::Permission;
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsRead {}

impl Endpoint for AgentsRead {
    const PERMISSION: Permission = Permission::AgentsRead;
}

#[utoipa::path(get, path = "/agents", tag = "agents",
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
    ),
    responses((status = 200, body = AgentList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    call: Call<AgentsRead, Paged>,
) -> ApiResult<Json<AgentList>> {
    let page = call.query.page(20)?;
    let (agents, total) = state.store.list_agents(&call.key.company_id, page).await?;
    Ok(Json(AgentList {
        data: agents.into_iter().map(AgentView::summary).collect(),
        pagination: Pagination::new(page, total),
    }))
}

#[utoipa::path(get, path = "/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "Agent id (agent_…)")),
    responses((status = 200, body = AgentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<AgentsRead>,
) -> ApiResult<Json<AgentView>> {
    let agent = state
        .store
        .get_agent(&call.key.company_id, &id)
        .await?
        .ok_or(ApiError::NotFound("Agent not found"))?;
    Ok(Json(AgentView::full(agent)))
}
