//! Agent tools (docs/API.md §10): the stored record and the bounds of its
//! fields. The URL's address rule needs DNS, so it is the outbound module's
//! (`outbound::OutboundRule::check`), and whether `parameters` is a valid JSON
//! Schema is `tools::check_parameters`'s; what can be decided from the value
//! alone is here.

use serde_json::Value;

/// The prefix of a tool's signing secret (`tsec_` + base64).
pub const TOOL_SECRET_PREFIX: &str = "tsec_";
pub const MAX_TOOL_NAME: usize = 64;
pub const MAX_TOOL_DESCRIPTION: usize = 1024;
/// The largest `parameters` schema, as compact JSON text.
pub const MAX_TOOL_PARAMETERS: usize = 16 * 1024;
pub const MIN_TOOL_TIMEOUT_MS: i64 = 100;
pub const MAX_TOOL_TIMEOUT_MS: i64 = 30_000;
pub const DEFAULT_TOOL_TIMEOUT_MS: i64 = 10_000;
pub const MAX_TOOL_URL: usize = 2048;
/// The old secret keeps signing this long after a rotation.
pub const TOOL_ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// A tool, secrets included (the store's view; the API shows the secret
/// only when it is made or rotated).
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub company_id: String,
    pub id: String,
    pub agent_id: String,
    pub name: String,
    pub description: String,
    /// A JSON Schema object (OpenAI's `function.parameters`).
    pub parameters: Value,
    pub url: String,
    pub timeout_ms: i64,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Until when (ms) `previous_secret` still signs.
    pub previous_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Tool {
    /// The secrets a call at `now` is signed with: the current one, and the
    /// previous one during the day after a rotation.
    pub fn signing_secrets(&self, now: i64) -> Vec<String> {
        super::events::secrets_in_force(
            &self.secret,
            self.previous_secret.as_deref(),
            self.previous_until,
            now,
        )
        .into_iter()
        .map(str::to_owned)
        .collect()
    }
}

/// What a chat needs of one of its agent's active tools: what to offer the
/// model, where to call and the secrets to sign the call with.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTool {
    pub id: String,
    pub agent_id: String,
    pub name: String,
    pub description: String,
    pub parameters: Value,
    pub url: String,
    pub timeout_ms: i64,
    /// The current secret first; the previous one too while it still signs.
    pub secrets: Vec<String>,
}

impl ActiveTool {
    /// The tool as of `now` (the previous secret only while it signs).
    pub fn of(tool: Tool, now: i64) -> Self {
        let secrets = tool.signing_secrets(now);
        ActiveTool {
            id: tool.id,
            agent_id: tool.agent_id,
            name: tool.name,
            description: tool.description,
            parameters: tool.parameters,
            url: tool.url,
            timeout_ms: tool.timeout_ms,
            secrets,
        }
    }
}

/// `^[a-zA-Z0-9_-]{1,64}$`: the names OpenAI's function calling accepts.
pub fn check_tool_name(name: &str) -> Result<(), String> {
    let ok = (1..=MAX_TOOL_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name must be 1 to {MAX_TOOL_NAME} characters of a-z, A-Z, 0-9, _ and -"
        ))
    }
}

/// 1 to 1 024 characters, without NUL (PostgreSQL text cannot hold one).
pub fn check_tool_description(description: &str) -> Result<(), String> {
    let n = description.chars().count();
    if (1..=MAX_TOOL_DESCRIPTION).contains(&n) && !description.contains('\0') {
        Ok(())
    } else {
        Err(format!(
            "description must be 1 to {MAX_TOOL_DESCRIPTION} characters, without NUL"
        ))
    }
}

pub fn check_tool_timeout(timeout_ms: i64) -> Result<(), String> {
    if (MIN_TOOL_TIMEOUT_MS..=MAX_TOOL_TIMEOUT_MS).contains(&timeout_ms) {
        Ok(())
    } else {
        Err(format!(
            "timeout_ms must be between {MIN_TOOL_TIMEOUT_MS} and {MAX_TOOL_TIMEOUT_MS}"
        ))
    }
}

/// The URL's length; its form and address are the outbound rule's.
pub fn check_tool_url_length(url: &str) -> Result<(), String> {
    if url.len() <= MAX_TOOL_URL {
        Ok(())
    } else {
        Err(format!("url must be at most {MAX_TOOL_URL} characters"))
    }
}

/// A JSON object of at most 16 KiB (compact JSON). Whether it is a valid
/// schema is `tools::check_parameters`'s.
pub fn check_tool_parameters_shape(parameters: &Value) -> Result<(), String> {
    if !parameters.is_object() {
        return Err("parameters must be a JSON Schema object".into());
    }
    let size = parameters.to_string().len();
    if size > MAX_TOOL_PARAMETERS {
        return Err(format!(
            "parameters must be at most {MAX_TOOL_PARAMETERS} bytes of JSON, got {size}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_function_calling_rule() {
        for good in ["a", "lookup_order", "a-Z_0-9", &"x".repeat(64)] {
            assert!(check_tool_name(good).is_ok(), "{good}");
        }
        for bad in ["", "bad name!", "é", &"x".repeat(65), "a.b"] {
            assert!(check_tool_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_of_description_timeout_and_parameters() {
        assert!(check_tool_description("").is_err());
        assert!(check_tool_description(&"é".repeat(1024)).is_ok());
        assert!(check_tool_description(&"d".repeat(1025)).is_err());
        assert!(check_tool_timeout(99).is_err());
        assert!(check_tool_timeout(100).is_ok());
        assert!(check_tool_timeout(30_000).is_ok());
        assert!(check_tool_timeout(30_001).is_err());
        assert!(check_tool_parameters_shape(&json!("query")).is_err());
        assert!(check_tool_parameters_shape(&json!({"type": "object"})).is_ok());
        let big = json!({"type": "object", "description": "p".repeat(17 * 1024)});
        assert!(check_tool_parameters_shape(&big).is_err());
    }

    #[test]
    fn the_previous_secret_signs_for_a_day() {
        let tool = Tool {
            company_id: "co_1".into(),
            id: "tool_1".into(),
            agent_id: "agent_1".into(),
            name: "n".into(),
            description: "d".into(),
            parameters: json!({}),
            url: "https://example.com".into(),
            timeout_ms: 1000,
            active: true,
            secret: "new".into(),
            previous_secret: Some("old".into()),
            previous_until: Some(1000),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(tool.signing_secrets(999), ["new", "old"]);
        assert_eq!(tool.signing_secrets(1000), ["new"]);
        assert_eq!(ActiveTool::of(tool, 0).secrets, ["new", "old"]);
    }
}
