//! Agent tools as a use case (docs/API.md §10): what the model is offered
//! ([`definitions`]) and one call of a company's tool endpoint ([`call`]).
//! A call never fails: whatever happens (arguments that are not JSON or
//! break the tool's `parameters`, a refused address, a timeout, a non-2xx
//! answer) becomes an error text the model reads as the tool's result, so a
//! tool can never break a reply. The request is the documented JSON body,
//! signed like a webhook (Standard Webhooks, `signing.rs`) with the tool's
//! secret(s), sent through the outbound address rule (`outbound.rs`: public
//! addresses only unless the operator allows more, no redirects).

mod answer;
mod schema;

use std::time::Duration;

use serde_json::{json, Value};

use crate::domain::{now_ms, ActiveTool, CustomerUser, TOOL_SECRET_PREFIX};
use crate::outbound::OutboundRule;
use crate::signing::signature_header;

pub use answer::MAX_ANSWER_BYTES;
pub use schema::{check_arguments, check_parameters};

/// The longest any tool may take (its `timeout_ms` is at most this); each
/// call sets its own, shorter deadline.
const CLIENT_CEILING: Duration = Duration::from_secs(30);

/// One call the model asked for.
pub struct ToolInvocation<'a> {
    /// The model's tool-call id; also the request's `webhook-id`.
    pub call_id: &'a str,
    /// The arguments as the model wrote them (JSON text).
    pub arguments: &'a str,
    pub customer_user: &'a CustomerUser,
    pub conversation_id: &'a str,
    pub agent_id: &'a str,
}

/// How a call ended; the same status a stored tool result carries.
pub use crate::domain::ToolStatus;

/// What goes back to the model as the `tool` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    pub status: ToolStatus,
    /// The endpoint's answer as text (at most 16 KiB, then a note), or the
    /// error text.
    pub content: String,
}

impl ToolOutcome {
    fn error(text: impl Into<String>) -> Self {
        ToolOutcome {
            status: ToolStatus::Error,
            content: format!("Error: {}", text.into()),
        }
    }
}

/// The HTTP client tool calls go through: it connects only where the
/// operator's outbound rule permits and follows no redirect.
#[derive(Clone)]
pub struct ToolClient {
    rule: OutboundRule,
    http: reqwest::Client,
}

impl ToolClient {
    pub fn new(rule: OutboundRule) -> reqwest::Result<Self> {
        let http = rule.client(CLIENT_CEILING)?;
        Ok(ToolClient { rule, http })
    }
}

/// OpenAI's `tools` array for the model: one `function` per tool, with its
/// name, description and parameters.
pub fn definitions(tools: &[ActiveTool]) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect(),
    )
}

/// The JSON body a tool receives (docs/API.md §10).
pub fn request_body(tool: &ActiveTool, inv: &ToolInvocation<'_>, arguments: &Value) -> Value {
    let u = inv.customer_user;
    json!({
        "tool": tool.name,
        "arguments": arguments,
        "call_id": inv.call_id,
        "customer_user": {
            "id": u.id,
            "external_id": u.external_id,
            "name": u.name,
            "email": u.email,
            "metadata": u.metadata.as_map(),
        },
        "conversation_id": inv.conversation_id,
        "agent_id": inv.agent_id,
    })
}

/// The model's arguments as a JSON object. An empty text is no arguments
/// (models send it for a function without parameters).
fn parse_arguments(raw: &str) -> Result<Value, String> {
    if raw.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("the arguments must be a JSON object".into()),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

/// Calls `tool` as the model asked; see the module's documentation.
pub async fn call(client: &ToolClient, tool: &ActiveTool, inv: ToolInvocation<'_>) -> ToolOutcome {
    let arguments = match parse_arguments(inv.arguments) {
        Ok(v) => v,
        Err(e) => return ToolOutcome::error(e),
    };
    if let Err(e) = check_arguments(&tool.parameters, &arguments) {
        return ToolOutcome::error(e);
    }
    // Checked now as well as when set: the name may resolve elsewhere today,
    // and this gives the model a plain reason; the client's resolver still
    // filters the address actually connected to.
    if let Err(e) = client.rule.check(&tool.url).await {
        return ToolOutcome::error(format!("the tool's address cannot be used: {e}"));
    }
    let body = request_body(tool, &inv, &arguments).to_string();
    let timestamp = now_ms() / 1000;
    let secrets: Vec<&str> = tool.secrets.iter().map(String::as_str).collect();
    let signature = signature_header(
        &secrets,
        TOOL_SECRET_PREFIX,
        inv.call_id,
        timestamp,
        body.as_bytes(),
    );
    let timeout = Duration::from_millis(tool.timeout_ms.clamp(1, 30_000) as u64);
    let sent = client
        .http
        .post(&tool.url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("user-agent", "performchat-tools")
        .header("webhook-id", inv.call_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return ToolOutcome::error(answer::describe(e, tool.timeout_ms)),
    };
    answer::read(response, tool.timeout_ms).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_must_be_a_json_object() {
        assert_eq!(parse_arguments("").unwrap(), json!({}));
        assert_eq!(parse_arguments(r#"{"q":1}"#).unwrap(), json!({"q": 1}));
        assert!(parse_arguments("[1]").unwrap_err().contains("JSON object"));
        assert!(parse_arguments("{q")
            .unwrap_err()
            .contains("not valid JSON"));
    }

    #[test]
    fn definitions_are_openai_functions() {
        let tool = ActiveTool {
            id: "tool_1".into(),
            agent_id: "agent_1".into(),
            name: "lookup_order".into(),
            description: "Looks orders up.".into(),
            parameters: json!({"type": "object"}),
            url: "https://example.com".into(),
            timeout_ms: 1000,
            secrets: vec![],
        };
        assert_eq!(
            definitions(&[tool]),
            json!([{"type": "function", "function": {
                "name": "lookup_order", "description": "Looks orders up.",
                "parameters": {"type": "object"}}}])
        );
    }
}
