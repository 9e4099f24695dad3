//! The records the store hands back, already in domain form.

use super::{Email, Field, Metadata, Name, Permissions};

#[derive(Debug, Clone)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub prompt_template: Option<String>,
    /// The agent's own model endpoint and name; `None` means the server's.
    pub llm_url: Option<String>,
    pub llm_model: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Staging,
    Development,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "production" => Ok(Environment::Production),
            "staging" => Ok(Environment::Staging),
            "development" => Ok(Environment::Development),
            _ => Err(format!(
                "environment must be production, staging or development, got {text:?}"
            )),
        }
    }
}

/// An API key as stored: the secret itself is never kept, only its hash.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub environment: Environment,
    pub permissions: Permissions,
    pub secret_hash: Vec<u8>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// False when the owning company has been deactivated.
    pub company_active: bool,
}

#[derive(Debug, Clone)]
pub struct CustomerUser {
    pub id: String,
    pub company_id: String,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub metadata: Metadata,
    pub active: bool,
    pub token_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
}

/// A validated set of changes to a customer user; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Field<Name>,
    pub email: Field<Email>,
    pub metadata: Option<Metadata>,
    pub active: Option<bool>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_absent()
            && self.email.is_absent()
            && self.metadata.is_none()
            && self.active.is_none()
    }
}
