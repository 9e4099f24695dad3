//! The end user's session, conversations and message history (docs/API.md §8).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bearer::{ChatBody, ChatUser};
use crate::app::SharedState;
use crate::auth::CheckedToken;
use crate::domain::{format_secs, Conversation, Field, Title};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Paged, PathId, QueryNames};
use crate::http::query::MAX_LIMIT;
use crate::http::rate_limit::RateScope;
use crate::http::views::{ConversationList, ConversationView, ErrorBody, MessageView, Pagination};
use crate::limits::Policy;
use crate::store::ChatOwner;

/// No fields: GET bodies are read (and stray fields rejected) as everywhere.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

pub fn owner(t: &CheckedToken) -> ChatOwner<'_> {
    ChatOwner::new(&t.user, &t.agent.id)
}

/// The conversation, if it is this user's with this agent; else 404.
pub async fn own_conversation(
    state: &SharedState,
    t: &CheckedToken,
    id: &str,
) -> ApiResult<Conversation> {
    state
        .store
        .get_conversation(&t.user.company_id, id)
        .await?
        .filter(|c| c.customer_user_id == t.user.id && c.agent_id == t.agent.id)
        .ok_or(ApiError::NotFound("Conversation not found"))
}

#[derive(Serialize, ToSchema)]
pub struct SessionUser {
    id: String,
    external_id: String,
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionAgent {
    id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatSession {
    customer_user: SessionUser,
    agent: SessionAgent,
    expires_at: String,
}

#[utoipa::path(get, path = "/session", tag = "chat",
    security(("chat_token" = [])),
    responses((status = 200, body = ChatSession), (status = 401, body = ErrorBody)))]
pub async fn session(
    ChatUser(t): ChatUser,
    ChatBody(NoFields {}, ..): ChatBody<NoFields>,
) -> ApiResult<Json<ChatSession>> {
    Ok(Json(ChatSession {
        customer_user: SessionUser {
            id: t.user.id,
            external_id: t.user.external_id,
            name: t.user.name,
        },
        agent: SessionAgent {
            id: t.agent.id,
            name: t.agent.name,
        },
        expires_at: format_secs(t.claims.exp),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// 1–200 characters, not only whitespace, no NUL; when left out or
    /// `null`, the first message gives the title.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, format = "non-blank-text")]
    title: Field<String>,
}

#[utoipa::path(post, path = "/conversations", tag = "chat",
    security(("chat_token" = [])),
    request_body(content = Option<NewConversation>, description = "An empty body starts an untitled conversation"),
    responses((status = 201, body = ConversationView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, description = "Over the customer user's chat budget (Retry-After)", body = ErrorBody)))]
pub async fn create(
    State(state): State<SharedState>,
    ChatUser(t): ChatUser,
    limits: RateScope,
    ChatBody(body, ..): ChatBody<NewConversation>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    let title = match body.title {
        Field::Absent | Field::Null => None,
        Field::Set(text) => Some(Title::parse(text).map_err(ApiError::BadRequest)?),
    };
    // Creating a conversation is a chat write like posting a message: both
    // spend the customer user's one `chat` budget, so a token cannot fill the
    // database with empty conversations. A rejected one (429) creates nothing.
    limits.enforce(&state, Policy::Chat, &t.user.id).await?;
    let conversation = state
        .store
        .create_conversation(
            owner(&t),
            title.map(Title::into_inner).as_deref(),
            crate::domain::now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(conversation.into())))
}

#[utoipa::path(get, path = "/conversations", tag = "chat",
    security(("chat_token" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
    ),
    responses((status = 200, description = "The user's conversations with the token's agent, most recently updated first", body = ConversationList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    ChatUser(t): ChatUser,
    ChatBody(NoFields {}, query, _): ChatBody<NoFields, Paged>,
) -> ApiResult<Json<ConversationList>> {
    let page = query.page(20)?;
    let (rows, total) = state
        .store
        .list_recent_conversations(owner(&t), page)
        .await?;
    Ok(Json(ConversationList {
        data: rows.into_iter().map(Into::into).collect(),
        pagination: Pagination::new(page, total),
    }))
}

/// The history's query: a page size and where to stop.
pub struct HistoryQuery;

impl QueryNames for HistoryQuery {
    const NAMES: &'static [&'static [&'static str]] = &[&["limit", "before"]];
}

#[derive(Serialize, ToSchema)]
pub struct ChatMessages {
    /// Chronological.
    data: Vec<MessageView>,
    /// Whether older messages exist.
    has_more: bool,
}

#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "chat",
    security(("chat_token" = [])),
    params(
        ("id" = String, Path, description = "Conversation id (conv_…)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 50"),
        ("before" = Option<String>, Query, min_length = 1, description = "A message id of this conversation: the messages just before it"),
    ),
    responses((status = 200, description = "The latest messages, in chronological order", body = ChatMessages),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<SharedState>,
    ChatUser(t): ChatUser,
    PathId(id): PathId,
    ChatBody(NoFields {}, query, _): ChatBody<NoFields, HistoryQuery>,
) -> ApiResult<Json<ChatMessages>> {
    let limit = query.page(50)?.limit.min(MAX_LIMIT);
    let before = query.get("before");
    if before == Some("") {
        return Err(ApiError::bad_request("before must be a message id"));
    }
    let conversation = own_conversation(&state, &t, &id).await?;
    let (rows, has_more) = state
        .store
        .latest_messages(&t.user.company_id, &conversation.id, limit, before)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request("before must be the id of a message in this conversation")
        })?;
    Ok(Json(ChatMessages {
        data: rows.into_iter().map(MessageView::from).collect(),
        has_more,
    }))
}
