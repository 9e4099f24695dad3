//! What goes to an OpenAI-compatible server and what a whole (non-streamed)
//! completion says: the request body with the turns in OpenAI's form and the
//! tools on offer, and a JSON completion's text and tool calls.

use serde_json::{json, Value};

use super::tool_calls::whole_calls;
use super::{ModelError, ModelRequest, Piece};

/// The body of a non-streamed completion: the message's text, then its
/// tool calls if it made any. A message needs one or the other.
pub fn whole_completion(body: &[u8]) -> Result<Vec<Piece>, ModelError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ModelError::Malformed(e.to_string()))?;
    if let Some(error) = value.get("error") {
        return Err(ModelError::Reported(error_text(error)));
    }
    let message = value.pointer("/choices/0/message");
    let text = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str);
    let calls = whole_calls(message.and_then(|m| m.get("tool_calls")))?;
    if text.is_none() && calls.is_empty() {
        return Err(ModelError::Malformed(
            "no choices[0].message.content or tool_calls".into(),
        ));
    }
    let mut pieces: Vec<Piece> = text
        .map(|t| Piece::Text(t.to_owned()))
        .into_iter()
        .collect();
    if !calls.is_empty() {
        pieces.push(Piece::Calls(calls));
    }
    Ok(pieces)
}

/// The request body: the turns in OpenAI's form (an assistant turn with its
/// `tool_calls`, a tool turn with its `tool_call_id`), and `tools` only when
/// there are any (some servers refuse an empty list).
pub fn request_body(model: &str, request: &ModelRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|t| {
            let mut m = json!({ "role": t.role.as_str(), "content": t.content });
            if !t.tool_calls.is_empty() {
                let calls: Vec<Value> = t
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({ "id": c.id, "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments } })
                    })
                    .collect();
                m["tool_calls"] = Value::Array(calls);
                if t.content.is_empty() {
                    m["content"] = Value::Null;
                }
            }
            if let Some(id) = &t.tool_call_id {
                m["tool_call_id"] = json!(id);
            }
            m
        })
        .collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "max_tokens": request.max_tokens,
    });
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters } })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// An error object's message (its whole JSON when it has none).
pub fn error_text(error: &Value) -> String {
    error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_owned)
}
