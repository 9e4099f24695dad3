//! What a conversation keeps of an agent's tool use (docs/API.md §10): the
//! calls a model asked for and the result of each, stored as messages with
//! role `tool`.

use serde::{Deserialize, Serialize};

/// One call a model asked for, as the model wrote it: `arguments` is the
/// model's JSON text, kept verbatim (it may not even be JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    /// The arguments as a JSON value: the object the model wrote, or its
    /// text as a string when that is not JSON (shown, never rejected here).
    pub fn arguments_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.arguments)
            .unwrap_or_else(|_| serde_json::Value::String(self.arguments.clone()))
    }
}

/// How a call ended: `ok` (the tool answered 2xx) or `error` (anything else,
/// told to the model as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolStatus {
    Ok,
    Error,
}

impl ToolStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolStatus::Ok => "ok",
            ToolStatus::Error => "error",
        }
    }
}

/// What a `tool` message is: the model's calls, or one call's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolPart {
    /// The calls of one model answer; the message's content is any text the
    /// model wrote with them.
    Calls(Vec<ToolCall>),
    /// The result of the call `call_id` to the tool `name`; the message's
    /// content is what the model was given.
    Result {
        call_id: String,
        name: String,
        status: ToolStatus,
    },
}

/// The stored form: one JSON text in the message row.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<ToolStatus>,
}

impl ToolPart {
    pub fn to_stored(&self) -> String {
        let stored = match self {
            ToolPart::Calls(calls) => Stored {
                tool_calls: Some(calls.clone()),
                tool_call_id: None,
                name: None,
                status: None,
            },
            ToolPart::Result {
                call_id,
                name,
                status,
            } => Stored {
                tool_calls: None,
                tool_call_id: Some(call_id.clone()),
                name: Some(name.clone()),
                status: Some(*status),
            },
        };
        serde_json::to_string(&stored).unwrap_or_else(|_| "{}".into())
    }

    /// Rows hold only what this service wrote; anything unreadable is `None`.
    pub fn from_stored(text: &str) -> Option<ToolPart> {
        let stored: Stored = serde_json::from_str(text).ok()?;
        match stored {
            Stored {
                tool_calls: Some(calls),
                ..
            } => Some(ToolPart::Calls(calls)),
            Stored {
                tool_call_id: Some(call_id),
                name,
                status,
                ..
            } => Some(ToolPart::Result {
                call_id,
                name: name.unwrap_or_default(),
                status: status.unwrap_or(ToolStatus::Error),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_survive_their_stored_form() {
        let calls = ToolPart::Calls(vec![ToolCall {
            id: "call_1".into(),
            name: "lookup_order".into(),
            arguments: r#"{"query":"A-1"}"#.into(),
        }]);
        let result = ToolPart::Result {
            call_id: "call_1".into(),
            name: "lookup_order".into(),
            status: ToolStatus::Error,
        };
        for part in [calls, result] {
            assert_eq!(ToolPart::from_stored(&part.to_stored()), Some(part));
        }
        assert_eq!(
            ToolPart::from_stored(r#"{"tool_call_id":"c","name":"n","status":"ok"}"#),
            Some(ToolPart::Result {
                call_id: "c".into(),
                name: "n".into(),
                status: ToolStatus::Ok
            })
        );
        assert_eq!(ToolPart::from_stored("{}"), None);
        assert_eq!(ToolPart::from_stored("not json"), None);
    }

    #[test]
    fn arguments_show_as_json_when_they_are() {
        let call = |a: &str| ToolCall {
            id: "c".into(),
            name: "n".into(),
            arguments: a.into(),
        };
        assert_eq!(
            call(r#"{"q":1}"#).arguments_value(),
            serde_json::json!({"q": 1})
        );
        assert_eq!(call("{oops").arguments_value(), serde_json::json!("{oops"));
    }
}
