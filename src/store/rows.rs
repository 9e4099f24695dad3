//! Row shapes as the SQL returns them, and their conversion to domain records.

use crate::domain::{
    Agent, ApiKeyRecord, Company, Conversation, CustomerUser, Environment, Message, Metadata,
    Permissions, Role, ToolPart,
};

pub(super) const USER_COLUMNS: &str =
    "company_id, id, external_id, name, email, metadata, active, \
     token_version, created_at, updated_at, last_seen_at";
pub(super) const AGENT_COLUMNS: &str =
    "company_id, id, name, prompt_template, llm_url, llm_model, active, created_at, updated_at";
pub(super) const COMPANY_COLUMNS: &str = "id, name, active, created_at";
pub(super) const CONVERSATION_COLUMNS: &str =
    "company_id, id, customer_user_id, agent_id, title, message_count, created_at, updated_at";
pub(super) const MESSAGE_COLUMNS: &str =
    "id, conversation_id, role, content, created_at, sources, tool";

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) company_id: String,
    pub(super) id: String,
    pub(super) external_id: String,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) metadata: String,
    pub(super) active: bool,
    pub(super) token_version: i64,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) last_seen_at: Option<i64>,
}

impl From<UserRow> for CustomerUser {
    fn from(r: UserRow) -> Self {
        CustomerUser {
            metadata: Metadata::from_stored(&r.metadata),
            id: r.id,
            company_id: r.company_id,
            external_id: r.external_id,
            name: r.name,
            email: r.email,
            active: r.active,
            token_version: r.token_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_seen_at: r.last_seen_at,
        }
    }
}

/// A user row as token generation returns it, with its agent's name.
#[derive(sqlx::FromRow)]
pub(super) struct IssuedRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub agent_name: String,
    /// The `last_seen_at` this token replaced (none for a new user).
    pub previous_seen_at: Option<i64>,
}

impl IssuedRow {
    /// The UTC day (`YYYY-MM-DD`) this token moved the user's latest
    /// activity away from, which `user_activity` must now keep (docs/API.md,
    /// "Daily stats"); none when the token is of the same day or the user's
    /// first. Either way round: a node whose clock is behind still leaves a
    /// day the user was active on.
    pub fn left_day(&self) -> Option<String> {
        let (previous, seen) = (self.previous_seen_at?, self.user.last_seen_at?);
        if previous.div_euclid(crate::domain::DAY_MS) == seen.div_euclid(crate::domain::DAY_MS) {
            return None;
        }
        let day = chrono::DateTime::from_timestamp_millis(previous)?.date_naive();
        Some(day.to_string())
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AgentRow {
    company_id: String,
    id: String,
    name: String,
    prompt_template: Option<String>,
    llm_url: Option<String>,
    llm_model: Option<String>,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<AgentRow> for Agent {
    fn from(r: AgentRow) -> Self {
        Agent {
            id: r.id,
            company_id: r.company_id,
            name: r.name,
            prompt_template: r.prompt_template,
            llm_url: r.llm_url,
            llm_model: r.llm_model,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CompanyRow {
    id: String,
    name: String,
    active: bool,
    created_at: i64,
}

impl From<CompanyRow> for Company {
    fn from(r: CompanyRow) -> Self {
        Company {
            id: r.id,
            name: r.name,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

pub(super) const KEY_COLUMNS: &str = "k.id, k.company_id, k.name, k.environment, k.permissions, \
     k.secret_hash, k.expires_at, k.revoked_at, k.created_at, k.last_used_at, c.active AS company_active";

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    pub(super) id: String,
    pub(super) company_id: String,
    pub(super) name: String,
    pub(super) environment: String,
    pub(super) permissions: String,
    pub(super) secret_hash: Vec<u8>,
    pub(super) expires_at: Option<i64>,
    pub(super) revoked_at: Option<i64>,
    pub(super) created_at: i64,
    pub(super) last_used_at: Option<i64>,
    pub(super) company_active: bool,
}

impl From<KeyRow> for ApiKeyRecord {
    fn from(r: KeyRow) -> Self {
        ApiKeyRecord {
            // Written by this service from validated values; an unreadable
            // value can only come from outside edits and grants nothing.
            environment: Environment::parse(&r.environment).unwrap_or(Environment::Production),
            permissions: Permissions::parse_list(&r.permissions)
                .unwrap_or_else(|_| std::iter::empty().collect()),
            id: r.id,
            company_id: r.company_id,
            name: r.name,
            secret_hash: r.secret_hash,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            company_active: r.company_active,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    pub(super) company_id: String,
    pub(super) id: String,
    pub(super) customer_user_id: String,
    pub(super) agent_id: String,
    pub(super) title: Option<String>,
    pub(super) message_count: i64,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Conversation {
            id: r.id,
            company_id: r.company_id,
            customer_user_id: r.customer_user_id,
            agent_id: r.agent_id,
            title: r.title,
            message_count: r.message_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub(super) id: String,
    pub(super) conversation_id: String,
    pub(super) role: String,
    pub(super) content: String,
    pub(super) created_at: i64,
    pub(super) sources: Option<String>,
    /// A tool message's call or result, as JSON (`ToolPart::to_stored`).
    pub(super) tool: Option<String>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let role = Role::from_stored(&r.role);
        // Replies stored before sources existed cite nothing: `[]`.
        let sources = (role == Role::Assistant).then(|| {
            r.sources
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default()
        });
        Message {
            role,
            id: r.id,
            conversation_id: r.conversation_id,
            content: r.content,
            created_at: r.created_at,
            sources,
            tool: (role == Role::Tool)
                .then(|| r.tool.as_deref().and_then(ToolPart::from_stored))
                .flatten(),
        }
    }
}
