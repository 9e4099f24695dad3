//! Tool calls out of an OpenAI-compatible answer. A streamed answer sends
//! each call in fragments (`choices[0].delta.tool_calls`): the id, type and
//! name usually in the first, the arguments' JSON text in pieces after it,
//! and several calls interleaved, told apart by `index`. [`CallAssembler`]
//! puts them back together; a non-streamed answer's `message.tool_calls`
//! goes through the same assembler, so both are held to the same rules.
//!
//! Servers differ, so the rules are lenient where that costs nothing: `null`
//! fields are absent ones; an id or name sent again replaces the earlier one
//! (as OpenAI's own client does), which makes servers that repeat them in
//! every fragment read right; a fragment without `index` (some servers send
//! whole calls that way) continues the last call unless it carries a new id.
//! They are strict where a guess would be wrong: a call that ends without an
//! id or a name is malformed, as is a fragment of the wrong shape. And what
//! the model sends is bounded: at most [`MAX_CALLS`] calls, ids and names of
//! at most [`MAX_NAME_BYTES`], arguments of at most [`MAX_ARGUMENT_BYTES`].

use serde_json::Value;

use super::{ModelError, ToolCall};

/// The most calls one answer may make.
pub const MAX_CALLS: usize = 16;
/// The longest id or name of a call, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// The longest arguments of one call, in bytes.
pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;

/// One piece of one call, as a stream chunk carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFragment {
    pub index: Option<u64>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<String>,
}

fn malformed(what: impl Into<String>) -> ModelError {
    ModelError::Malformed(what.into())
}

/// A string field that may be absent or `null`; anything else is malformed.
fn text_field(obj: &Value, key: &str) -> Result<Option<String>, ModelError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(malformed(format!(
            "a tool call's {key} is not a string: {:.100}",
            other.to_string()
        ))),
    }
}

/// The fragments of `tool_calls` (a chunk's delta or a whole message's).
/// `arguments` may also be a JSON object (some servers send it parsed): it
/// is taken as its JSON text.
pub fn fragments(tool_calls: Option<&Value>) -> Result<Vec<CallFragment>, ModelError> {
    let list = match tool_calls {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(malformed("tool_calls is not a list")),
    };
    list.iter()
        .map(|call| {
            if !call.is_object() {
                return Err(malformed("a tool call is not an object"));
            }
            let index = match call.get("index") {
                None | Some(Value::Null) => None,
                Some(i) => Some(
                    i.as_u64()
                        .ok_or_else(|| malformed("a tool call's index is not a whole number"))?,
                ),
            };
            let function = match call.get("function") {
                None | Some(Value::Null) => Value::Null,
                Some(f) if f.is_object() => f.clone(),
                Some(_) => return Err(malformed("a tool call's function is not an object")),
            };
            let arguments = match function.get("arguments") {
                Some(args @ Value::Object(_)) => Some(args.to_string()),
                _ => text_field(&function, "arguments")?,
            };
            Ok(CallFragment {
                index,
                id: text_field(call, "id")?,
                name: text_field(&function, "name")?,
                arguments,
            })
        })
        .collect()
}

#[derive(Debug, Default)]
struct Partial {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

/// Puts streamed fragments back together into whole calls.
#[derive(Debug, Default)]
pub struct CallAssembler {
    calls: Vec<Partial>,
}

impl CallAssembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether any fragment has come.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds one fragment to the call it belongs to (a new one when none).
    pub fn feed(&mut self, fragment: CallFragment) -> Result<(), ModelError> {
        let id = fragment.id.filter(|s| !s.is_empty());
        let name = fragment.name.filter(|s| !s.is_empty());
        let at = match fragment.index {
            Some(index) => self.calls.iter().position(|c| c.index == Some(index)),
            // Without an index: the last call, unless this starts another.
            None => match (&id, self.calls.last()) {
                (Some(id), Some(last)) if !last.id.is_empty() && last.id != *id => None,
                (_, Some(_)) => Some(self.calls.len() - 1),
                (_, None) => None,
            },
        };
        let at = match at {
            Some(at) => at,
            None if self.calls.len() >= MAX_CALLS => {
                return Err(malformed(format!("more than {MAX_CALLS} tool calls")))
            }
            None => {
                self.calls.push(Partial {
                    index: fragment.index,
                    ..Partial::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        for (field, value) in [(&mut call.id, id), (&mut call.name, name)] {
            if let Some(value) = value {
                if value.len() > MAX_NAME_BYTES {
                    return Err(malformed(format!(
                        "a tool call's id or name longer than {MAX_NAME_BYTES} bytes"
                    )));
                }
                *field = value;
            }
        }
        if let Some(piece) = fragment.arguments {
            if call.arguments.len() + piece.len() > MAX_ARGUMENT_BYTES {
                return Err(malformed(format!(
                    "a tool call's arguments longer than {MAX_ARGUMENT_BYTES} bytes"
                )));
            }
            call.arguments.push_str(&piece);
        }
        Ok(())
    }

    /// The whole calls, in the order they began. Every call needs an id of
    /// its own (a result names its call by id) and a name; arguments left
    /// empty are `{}` (a call without parameters).
    pub fn finish(self) -> Result<Vec<ToolCall>, ModelError> {
        for (i, c) in self.calls.iter().enumerate() {
            if !c.id.is_empty() && self.calls[..i].iter().any(|d| d.id == c.id) {
                return Err(malformed(format!(
                    "two tool calls with the id {:.100}",
                    c.id
                )));
            }
        }
        self.calls
            .into_iter()
            .map(|c| {
                if c.id.is_empty() {
                    return Err(malformed("a tool call without an id"));
                }
                if c.name.is_empty() {
                    return Err(malformed(format!(
                        "the tool call {:.100} has no name",
                        c.id
                    )));
                }
                let arguments = if c.arguments.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    c.arguments
                };
                Ok(ToolCall {
                    id: c.id,
                    name: c.name,
                    arguments,
                })
            })
            .collect()
    }
}

/// The calls of a whole (non-streamed) message's `tool_calls`.
pub fn whole_calls(tool_calls: Option<&Value>) -> Result<Vec<ToolCall>, ModelError> {
    let mut calls = CallAssembler::new();
    for (i, mut fragment) in fragments(tool_calls)?.into_iter().enumerate() {
        // Each entry is a whole call: its place in the list is its index.
        fragment.index = Some(i as u64);
        calls.feed(fragment)?;
    }
    calls.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frag(
        index: Option<u64>,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<&str>,
    ) -> CallFragment {
        CallFragment {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: args.map(str::to_owned),
        }
    }

    fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn interleaved_indexes_make_separate_calls() {
        let mut a = CallAssembler::new();
        for f in [
            frag(Some(0), Some("c0"), Some("first"), Some("")),
            frag(Some(1), Some("c1"), Some("second"), Some("{\"b\"")),
            frag(Some(0), None, None, Some("{\"a\":")),
            frag(Some(1), None, None, Some(":2}")),
            frag(Some(0), None, None, Some("1}")),
        ] {
            a.feed(f).unwrap();
        }
        assert_eq!(
            a.finish().unwrap(),
            [
                call("c0", "first", "{\"a\":1}"),
                call("c1", "second", "{\"b\":2}")
            ]
        );
    }

    #[test]
    fn repeated_ids_and_names_and_missing_indexes_read_right() {
        let mut a = CallAssembler::new();
        for f in [
            frag(None, Some("c0"), Some("one"), Some("{\"x\":")),
            frag(None, Some("c0"), Some("one"), Some("1}")),
            frag(None, Some("c1"), Some("two"), Some("{}")),
            frag(None, Some(""), None, None),
        ] {
            a.feed(f).unwrap();
        }
        assert_eq!(
            a.finish().unwrap(),
            [call("c0", "one", "{\"x\":1}"), call("c1", "two", "{}")]
        );
    }

    #[test]
    fn calls_without_id_or_name_are_malformed() {
        for f in [
            frag(Some(0), None, Some("n"), Some("{}")),
            frag(Some(0), Some("c"), None, Some("{}")),
            frag(Some(0), Some(""), Some("n"), Some("{}")),
        ] {
            let mut a = CallAssembler::new();
            a.feed(f.clone()).unwrap();
            assert!(matches!(a.finish(), Err(ModelError::Malformed(_))), "{f:?}");
        }
    }

    #[test]
    fn two_calls_with_one_id_are_malformed() {
        let mut a = CallAssembler::new();
        a.feed(frag(Some(0), Some("c"), Some("n"), Some("{}")))
            .unwrap();
        a.feed(frag(Some(1), Some("c"), Some("m"), Some("{}")))
            .unwrap();
        assert!(matches!(a.finish(), Err(ModelError::Malformed(_))));
    }

    #[test]
    fn sizes_and_counts_are_bounded() {
        let mut a = CallAssembler::new();
        for i in 0..MAX_CALLS as u64 {
            a.feed(frag(Some(i), Some("c"), Some("n"), None)).unwrap();
        }
        assert!(a.feed(frag(Some(99), Some("c"), Some("n"), None)).is_err());
        let mut a = CallAssembler::new();
        let piece = "x".repeat(1024);
        let mut fed = Ok(());
        for _ in 0..=MAX_ARGUMENT_BYTES / 1024 {
            fed = fed.and(a.feed(frag(Some(0), None, None, Some(&piece))));
        }
        assert!(matches!(fed, Err(ModelError::Malformed(_))));
        let long = "n".repeat(MAX_NAME_BYTES + 1);
        assert!(CallAssembler::new()
            .feed(frag(Some(0), Some("c"), Some(&long), None))
            .is_err());
    }

    #[test]
    fn fragments_of_the_wrong_shape_are_malformed() {
        for bad in [
            json!("calls"),
            json!([1]),
            json!([{"index": -1}]),
            json!([{"index": 0, "id": 7}]),
            json!([{"index": 0, "function": "f"}]),
            json!([{"index": 0, "function": {"name": ["f"]}}]),
        ] {
            assert!(fragments(Some(&bad)).is_err(), "{bad}");
        }
        assert_eq!(fragments(Some(&Value::Null)).unwrap(), []);
        let nulls = json!([{"index": 0, "id": null, "type": "function",
                             "function": {"name": null, "arguments": null}}]);
        assert_eq!(
            fragments(Some(&nulls)).unwrap(),
            [frag(Some(0), None, None, None)]
        );
    }

    #[test]
    fn whole_messages_give_their_calls() {
        let list = json!([
            {"id": "c0", "type": "function", "function": {"name": "a", "arguments": "{\"q\":1}"}},
            {"id": "c1", "type": "function", "function": {"name": "b", "arguments": {"q": 2}}},
            {"id": "c2", "type": "function", "function": {"name": "c", "arguments": ""}}
        ]);
        assert_eq!(
            whole_calls(Some(&list)).unwrap(),
            [
                call("c0", "a", "{\"q\":1}"),
                call("c1", "b", "{\"q\":2}"),
                call("c2", "c", "{}")
            ]
        );
        let nameless = json!([{"id": "c0", "function": {"arguments": "{}"}}]);
        assert!(whole_calls(Some(&nameless)).is_err());
        assert_eq!(whole_calls(None).unwrap(), []);
    }
}
