//! Conversations and their messages, read-only for the company (docs/API.md §6).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Call, Endpoint, Paged, PathId, QueryNames};
use super::query::PAGE;
use super::views::{
    ConversationBrief, ConversationList, ConversationView, ErrorBody, MessageList, MessageView,
    Pagination,
};
use crate::app::SharedState;
use crate::domain::{Conversation, Field, Permission};
use crate::error::{ApiError, ApiResult};

/// The list's filter may come in the body, as the docs' clients send filters.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationFilterBody {
    /// Only this customer user's conversations (wins over the query's).
    #[serde(default)]
    #[schema(value_type = String, min_length = 1)]
    customer_user_id: Field<String>,
}

impl Endpoint for ConversationFilterBody {
    const PERMISSION: Permission = Permission::ConversationsRead;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationsRead {}

impl Endpoint for ConversationsRead {
    const PERMISSION: Permission = Permission::ConversationsRead;
}

/// The list's query: paging and the filter.
pub struct ListQuery;

impl QueryNames for ListQuery {
    const NAMES: &'static [&'static [&'static str]] = &[PAGE, &["customer_user_id"]];
}

#[utoipa::path(get, path = "/conversations", tag = "conversations",
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
        ("customer_user_id" = Option<String>, Query, min_length = 1, description = "Only this customer user's conversations (the body's value wins)"),
    ),
    request_body(content = Option<ConversationFilterBody>, description = "Optional filter (and credentials), as the docs' clients send filters"),
    responses((status = 200, body = ConversationList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    call: Call<ConversationFilterBody, ListQuery>,
) -> ApiResult<Json<ConversationList>> {
    let page = call.query.page(20)?;
    let from_query = call.query.get("customer_user_id");
    let user = match call.body.customer_user_id {
        Field::Null => {
            return Err(ApiError::bad_request(
                "customer_user_id filter must not be null",
            ))
        }
        Field::Set(v) => Some(v),
        Field::Absent => from_query.map(str::to_owned),
    };
    // The query's value is checked even when the body's wins.
    if user.as_deref() == Some("") || from_query == Some("") {
        return Err(ApiError::bad_request(
            "customer_user_id filter must not be empty",
        ));
    }
    let (rows, total) = state
        .store
        .list_conversations(&call.key.company_id, user.as_deref(), page)
        .await?;
    Ok(Json(ConversationList {
        data: rows.into_iter().map(Into::into).collect(),
        pagination: Pagination::new(page, total),
    }))
}

async fn find(state: &SharedState, company_id: &str, id: &str) -> ApiResult<Conversation> {
    state
        .store
        .get_conversation(company_id, id)
        .await?
        .ok_or(ApiError::NotFound("Conversation not found"))
}

#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (conv_…)")),
    responses((status = 200, body = ConversationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<ConversationsRead>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(find(&state, &call.key.company_id, &id).await?.into()))
}

#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "conversations",
    params(
        ("id" = String, Path, description = "Conversation id (conv_…)"),
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 50"),
    ),
    responses((status = 200, body = MessageList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<ConversationsRead, Paged>,
) -> ApiResult<Json<MessageList>> {
    let page = call.query.page(50)?;
    let company = &call.key.company_id;
    let conversation = find(&state, company, &id).await?;
    let (rows, total) = state.store.list_messages(company, &id, page).await?;
    Ok(Json(MessageList {
        data: rows.into_iter().map(MessageView::from).collect(),
        pagination: Pagination::new(page, total),
        conversation: ConversationBrief {
            id: conversation.id,
            title: conversation.title,
        },
    }))
}
