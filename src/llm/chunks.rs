//! What an OpenAI-compatible model server writes: the `data:` payload of
//! each event of a streamed reply, and a whole (non-streamed) completion.
//! Lenient where servers differ: a first delta whose content is `null`, a
//! usage-only last chunk with no choices, an `error` object in place of a
//! chunk.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::sse::SseEvent;
use super::ModelError;

/// What one `data:` payload of the stream says.
#[derive(Debug, PartialEq)]
pub enum Chunk {
    /// Text (possibly none), and whether the model said it was finished.
    Delta { text: String, finished: bool },
    /// `[DONE]`.
    Done,
}

/// One chunk of the stream as model servers write it, read without building
/// a JSON tree: the piece's text is the only allocation when it holds no
/// escapes. Anything of another shape goes to [`parse_value`], which reads
/// it as the lenient tree it always was.
#[derive(Deserialize)]
struct StreamChunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<StreamChoice<'a>>>,
    /// Present, whatever its value (even `null`), means the model reported an error.
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct StreamChoice<'a> {
    #[serde(default, borrow)]
    delta: Option<StreamDelta<'a>>,
    #[serde(default)]
    finish_reason: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct StreamDelta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Reads one event of the stream.
pub fn parse_event(event: &SseEvent) -> Result<Chunk, ModelError> {
    let data = event.data.trim();
    if data == "[DONE]" {
        return Ok(Chunk::Done);
    }
    let Ok(chunk) = serde_json::from_str::<StreamChunk>(data) else {
        return parse_value(data);
    };
    if let Some(error) = chunk.error {
        return Err(ModelError::Reported(error_text(&error)));
    }
    let choice = chunk.choices.as_ref().and_then(|c| c.first());
    let text = choice
        .and_then(|c| c.delta.as_ref())
        .and_then(|d| d.content.as_deref())
        .unwrap_or_default()
        .to_owned();
    let finished = choice.is_some_and(|c| c.finish_reason.is_some());
    Ok(Chunk::Delta { text, finished })
}

/// [`parse_event`] for chunks of an unexpected shape: any JSON is read, and
/// what is not where a reply's text would be counts as no text.
fn parse_value(data: &str) -> Result<Chunk, ModelError> {
    let value: Value = serde_json::from_str(data)
        .map_err(|e| ModelError::Malformed(format!("{e}: {data:.200}")))?;
    if let Some(error) = value.get("error") {
        return Err(ModelError::Reported(error_text(error)));
    }
    let choice = value.get("choices").and_then(|c| c.get(0));
    let text = choice
        .and_then(|c| c.get("delta"))
        .and_then(|d| d.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let finished = choice
        .and_then(|c| c.get("finish_reason"))
        .is_some_and(|f| !f.is_null());
    Ok(Chunk::Delta { text, finished })
}

fn error_text(error: &Value) -> String {
    error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_owned)
}

/// The body of a non-streamed completion: the message's text.
pub(super) fn whole_completion(body: &[u8]) -> Result<String, ModelError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ModelError::Malformed(e.to_string()))?;
    if let Some(error) = value.get("error") {
        return Err(ModelError::Reported(error_text(error)));
    }
    value
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ModelError::Malformed("no choices[0].message.content".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }

    #[test]
    fn reads_the_known_quirks() {
        let null_first = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}]}"#;
        assert_eq!(
            parse_event(&event(null_first)).unwrap(),
            Chunk::Delta {
                text: String::new(),
                finished: false
            }
        );
        let usage_only = r#"{"choices":[],"usage":{"prompt_tokens":1}}"#;
        assert_eq!(
            parse_event(&event(usage_only)).unwrap(),
            Chunk::Delta {
                text: String::new(),
                finished: false
            }
        );
        let last = r#"{"choices":[{"delta":{"content":"!"},"finish_reason":"stop"}]}"#;
        assert_eq!(
            parse_event(&event(last)).unwrap(),
            Chunk::Delta {
                text: "!".into(),
                finished: true
            }
        );
        assert_eq!(parse_event(&event("[DONE]")).unwrap(), Chunk::Done);
        assert!(matches!(
            parse_event(&event(r#"{"error":{"message":"overloaded"}}"#)),
            Err(ModelError::Reported(m)) if m == "overloaded"
        ));
        assert!(parse_event(&event("not json")).is_err());
    }

    #[test]
    fn odd_shapes_read_as_the_lenient_tree_does() {
        let cases = [
            (r#"{"choices":null}"#, "", false),
            (r#"{"choices":{"0":1}}"#, "", false),
            (r#"{"choices":[1,2]}"#, "", false),
            (
                r#"{"choices":[{"delta":{"content":7},"finish_reason":"stop"}]}"#,
                "",
                true,
            ),
            (
                r#"{"choices":[{"delta":null,"finish_reason":null}]}"#,
                "",
                false,
            ),
            (
                r#"{"choices":[{"delta":{"content":"a\nb \u00e9"}}]}"#,
                "a\nb é",
                false,
            ),
            (
                r#"{"choices":[{"delta":{"content":"x"},"finish_reason":0}],"usage":{}}"#,
                "x",
                true,
            ),
        ];
        for (data, text, finished) in cases {
            let want = Chunk::Delta {
                text: text.into(),
                finished,
            };
            assert_eq!(parse_event(&event(data)).unwrap(), want, "{data}");
            assert_eq!(parse_value(data).unwrap(), want, "{data}");
        }
        assert!(matches!(
            parse_event(&event(r#"{"error":null,"choices":[]}"#)),
            Err(ModelError::Reported(m)) if m == "null"
        ));
    }
}
