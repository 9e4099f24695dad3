//! Bodies of the `auth/*` endpoints (camelCase, as docs/API.md §0 has them).

use serde::{Deserialize, Serialize};

use super::CustomerUser;

/// Body of `POST /auth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    /// Your own id for the user; becomes its `external_id`.
    pub user_id: String,
    pub agent_id: String,
    /// `<n>s|m|h|d`, e.g. `"30m"`; the server's default (`24h`) when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
}

impl TokenRequest {
    pub fn new(user_id: impl Into<String>, agent_id: impl Into<String>) -> Self {
        TokenRequest {
            user_id: user_id.into(),
            agent_id: agent_id.into(),
            expires_in: None,
        }
    }

    pub fn expires_in(mut self, expires_in: impl Into<String>) -> Self {
        self.expires_in = Some(expires_in.into());
        self
    }
}

/// The user a token was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenUser {
    pub id: String,
    pub external_id: String,
    pub company_id: String,
    pub agent_id: String,
}

/// An agent as the `auth/*` answers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentBrief {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// The key that made a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub environment: String,
}

/// Answer of `POST /auth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IssuedToken {
    /// The signed chat token (a JWT) to hand to the chat front end.
    pub token: String,
    pub customer_user: TokenUser,
    pub agent: AgentBrief,
    pub api_key: ApiKeyInfo,
    pub expires_at: String,
}

/// Answer of `POST /auth/invalidate-token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Invalidated {
    pub message: String,
    pub customer_user_id: String,
    pub new_token_version: i64,
}

/// Answer of `POST /auth/verify-token` for a valid token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerifiedToken {
    pub valid: bool,
    pub customer_user: CustomerUser,
    pub agent: AgentBrief,
    pub expires_at: String,
}
