//! Types that validate on construction. No I/O happens here: a value of one of
//! these types is already known to satisfy the API's rules (docs/API.md), so the store and
//! the handlers never re-check them.

mod chat;
mod error_chain;
mod events;
mod expires_in;
mod fields;
mod filter;
pub mod idempotency;
mod ids;
mod knowledge;
mod metadata;
mod models;
mod permissions;
mod secret;
mod time;
mod tool_calls;
mod tools;

pub use chat::{
    title_from_message, Conversation, Message, MessageContent, Role, Title, MAX_MESSAGE_CHARS,
};
pub use error_chain::error_chain;
pub use events::{
    delivery_body, new_event_id, render_data, secrets_in_force, EventRecord, WebhookAttempt,
    WebhookEndpoint, EVENT_TYPES, TEST_EVENT,
};
pub use expires_in::{ExpiresIn, DEFAULT_EXPIRES_IN};
pub use fields::{fold, Email, ExternalId, Name, NameQuery};
pub use filter::{EmailQuery, ExternalIdQuery, FilterValue, UserFilter, UserFilterBody};
pub use idempotency::KeptAnswer;
pub use ids::{new_id, IdKind};
pub use knowledge::{
    agent_ids_from_stored, agent_ids_to_stored, agent_like_pattern, ContentType, Document, Source,
};
pub(crate) use metadata::json_type;
pub use metadata::{merge_patch, Metadata};
pub use models::{Agent, ApiKeyRecord, Company, CustomerUser, Environment, UserChanges};
pub use permissions::{Permission, Permissions};
pub use secret::{redact_url, DatabaseUrl, Secret};
pub use time::{format_ms, format_secs, now_ms, parse_rfc3339_ms, write_ms, DAY_MS};
pub use tool_calls::{ToolCall, ToolPart, ToolStatus};
pub use tools::{
    check_tool_description, check_tool_name, check_tool_parameters_shape, check_tool_timeout,
    check_tool_url_length, ActiveTool, Tool, DEFAULT_TOOL_TIMEOUT_MS, MAX_TOOL_DESCRIPTION,
    MAX_TOOL_NAME, MAX_TOOL_PARAMETERS, MAX_TOOL_TIMEOUT_MS, MAX_TOOL_URL, MIN_TOOL_TIMEOUT_MS,
    TOOL_ROTATION_OVERLAP_MS, TOOL_SECRET_PREFIX,
};

/// A field of a partial update: left out, set to null, or given a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Set(T),
}

impl<T> Field<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Field<U>, E> {
        Ok(match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(v) => Field::Set(f(v)?),
        })
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Field<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Field::Null, Field::Set))
    }
}

/// Rejects NUL, which PostgreSQL cannot store in text and no caller means.
pub(crate) fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{field} must not contain NUL characters"));
    }
    Ok(())
}
