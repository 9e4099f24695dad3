//! Response bodies, in the casing docs/API.md §0 fixes for each endpoint family:
//! camelCase for `auth/*`, snake_case for resources.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{
    format_ms, format_secs, Agent, ApiKeyRecord, Conversation, CustomerUser, Message, ToolCall,
    ToolPart,
};
use crate::store::PageRequest;

/// A customer user, the full shape every users endpoint returns.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(example = "cu_01JH0000000000000000000000")]
    pub id: String,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub active: bool,
    #[schema(example = "2025-01-15T14:30:00.123Z")]
    pub created_at: String,
    pub updated_at: String,
    pub last_seen_at: Option<String>,
}

impl From<CustomerUser> for UserView {
    fn from(u: CustomerUser) -> Self {
        UserView {
            id: u.id,
            external_id: u.external_id,
            name: u.name,
            email: u.email,
            metadata: u.metadata.into_value(),
            active: u.active,
            created_at: format_ms(u.created_at),
            updated_at: format_ms(u.updated_at),
            last_seen_at: u.last_seen_at.map(format_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total: i64,
    pub total_pages: i64,
}

impl Pagination {
    pub fn new(page: PageRequest, total: i64) -> Self {
        let limit = i64::from(page.limit);
        Pagination {
            page: page.page,
            limit: page.limit,
            total,
            total_pages: (total + limit - 1) / limit,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub data: Vec<UserView>,
    pub pagination: Pagination,
}

/// An agent; `prompt_template` appears only on the get-one endpoint.
#[derive(Serialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<Option<String>>,
}

impl AgentView {
    pub fn summary(a: Agent) -> Self {
        Self::build(a, false)
    }

    pub fn full(a: Agent) -> Self {
        Self::build(a, true)
    }

    fn build(a: Agent, with_template: bool) -> Self {
        AgentView {
            id: a.id,
            name: a.name,
            active: a.active,
            created_at: format_ms(a.created_at),
            updated_at: format_ms(a.updated_at),
            prompt_template: with_template.then_some(a.prompt_template),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub data: Vec<AgentView>,
    pub pagination: Pagination,
}

#[derive(Serialize, ToSchema, Clone)]
pub struct AgentBrief {
    pub id: String,
    pub name: String,
    pub active: bool,
}

impl From<&Agent> for AgentBrief {
    fn from(a: &Agent) -> Self {
        AgentBrief {
            id: a.id.clone(),
            name: a.name.clone(),
            active: a.active,
        }
    }
}

#[derive(Serialize, ToSchema, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenUserView {
    pub id: String,
    pub external_id: String,
    pub company_id: String,
    pub agent_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyBrief {
    pub id: String,
    pub name: String,
    pub environment: String,
}

impl From<&ApiKeyRecord> for ApiKeyBrief {
    fn from(k: &ApiKeyRecord) -> Self {
        ApiKeyBrief {
            id: k.id.clone(),
            name: k.name.clone(),
            environment: k.environment.as_str().into(),
        }
    }
}

/// `customerUser` and `user` are the same object: the docs use both names.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub token: String,
    pub customer_user: TokenUserView,
    pub user: TokenUserView,
    pub agent: AgentBrief,
    pub api_key: ApiKeyBrief,
    #[schema(example = "2025-01-16T14:30:00Z")]
    pub expires_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvalidateResponse {
    pub message: &'static str,
    pub customer_user_id: String,
    pub new_token_version: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    pub valid: bool,
    pub customer_user: UserView,
    pub agent: AgentBrief,
    pub expires_at: String,
}

impl VerifyResponse {
    pub fn new(user: CustomerUser, agent: &Agent, exp_secs: i64) -> Self {
        VerifyResponse {
            valid: true,
            customer_user: user.into(),
            agent: agent.into(),
            expires_at: format_secs(exp_secs),
        }
    }
}

/// The error body of every failed request (defined with the error type).
pub use crate::error::ErrorBody;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub rate_limits: RateLimitHealth,
}

/// Where this node keeps its rate-limit buckets right now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitHealth {
    pub enabled: bool,
    /// `memory` or `redis`; null when limits are off.
    #[schema(example = "redis")]
    pub store: Option<&'static str>,
    /// `off`, `local` (this node alone, as configured), `shared` (through
    /// Redis) or `fallback` (Redis unreachable: this node alone until it returns).
    #[schema(example = "shared")]
    pub state: &'static str,
    /// When the current Redis outage began; null when there is none.
    pub outage_since: Option<String>,
}

impl RateLimitHealth {
    pub fn new(status: Option<crate::limits::StoreStatus>) -> Self {
        let Some(status) = status else {
            return RateLimitHealth {
                enabled: false,
                store: None,
                state: "off",
                outage_since: None,
            };
        };
        let state = match (status.store, status.shared) {
            ("memory", _) => "local",
            (_, true) => "shared",
            (_, false) => "fallback",
        };
        RateLimitHealth {
            enabled: true,
            store: Some(status.store),
            state,
            outage_since: status.outage_since_ms.map(format_ms),
        }
    }
}

/// A conversation (docs/API.md §6), the same on the company and the chat side.
#[derive(Serialize, ToSchema)]
pub struct ConversationView {
    #[schema(example = "conv_01JH0000000000000000000000")]
    pub id: String,
    pub title: Option<String>,
    pub customer_user_id: String,
    pub agent_id: String,
    pub message_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        ConversationView {
            id: c.id,
            title: c.title,
            customer_user_id: c.customer_user_id,
            agent_id: c.agent_id,
            message_count: c.message_count,
            created_at: format_ms(c.created_at),
            updated_at: format_ms(c.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageView {
    #[schema(example = "msg_01JH0000000000000000000000")]
    pub id: String,
    pub content: String,
    /// `user`, `assistant` or `tool` (a tool call or its result, docs/API.md §10).
    #[schema(example = "user")]
    pub role: &'static str,
    pub conversation_id: String,
    pub created_at: String,
    /// Assistant messages only: the documents whose excerpts the model was
    /// given, in rank order, one per document (`[]` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<SourceView>>,
    /// Tool messages that call: the calls the model made (`content` is any
    /// text it wrote with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallView>>,
    /// Tool messages that answer: the call answered (`content` is what the
    /// model was given: the tool's answer or an error text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Tool results: the tool's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool results: `ok` (the tool answered 2xx) or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ok")]
    pub status: Option<&'static str>,
}

/// One tool call a model made.
#[derive(Serialize, ToSchema)]
pub struct ToolCallView {
    #[schema(example = "call_a1b2c3")]
    pub id: String,
    #[schema(example = "lookup_order")]
    pub name: String,
    /// The JSON object the model wrote (its text as a string when it is not JSON).
    #[schema(value_type = Value)]
    pub arguments: serde_json::Value,
}

impl From<ToolCall> for ToolCallView {
    fn from(c: ToolCall) -> Self {
        ToolCallView {
            arguments: c.arguments_value(),
            id: c.id,
            name: c.name,
        }
    }
}

/// A document an assistant message cites.
#[derive(Serialize, ToSchema)]
pub struct SourceView {
    #[schema(example = "doc_01JH0000000000000000000000")]
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    /// The cited chunk's heading path, `Title › Heading › Subheading`.
    pub heading: String,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        let (tool_calls, tool_call_id, name, status) = match m.tool {
            Some(ToolPart::Calls(calls)) => (
                Some(calls.into_iter().map(Into::into).collect()),
                None,
                None,
                None,
            ),
            Some(ToolPart::Result {
                call_id,
                name,
                status,
            }) => (None, Some(call_id), Some(name), Some(status.as_str())),
            None => (None, None, None, None),
        };
        MessageView {
            tool_calls,
            tool_call_id,
            name,
            status,
            id: m.id,
            content: m.content,
            role: m.role.as_str(),
            conversation_id: m.conversation_id,
            created_at: format_ms(m.created_at),
            sources: m.sources.map(|list| {
                list.into_iter()
                    .map(|s| SourceView {
                        document_id: s.document_id,
                        title: s.title,
                        url: s.url,
                        heading: s.heading,
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    pub data: Vec<ConversationView>,
    pub pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationBrief {
    pub id: String,
    pub title: Option<String>,
}

/// A page of a conversation's messages, from the oldest (company side).
#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageView>,
    pub pagination: Pagination,
    pub conversation: ConversationBrief,
}
