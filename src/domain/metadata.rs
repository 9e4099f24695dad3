use serde_json::{Map, Value};

/// A customer user's metadata: a JSON object of at most 16 KiB as compact JSON
/// and at most 8 levels deep (the object itself is level 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    pub const MAX_BYTES: usize = 16 * 1024;
    pub const MAX_DEPTH: usize = 8;

    pub fn parse(value: Value) -> Result<Self, String> {
        match value {
            Value::Object(map) => Self::check(map),
            other => Err(format!(
                "metadata must be a JSON object, got {}",
                json_type(&other)
            )),
        }
    }

    fn check(map: Map<String, Value>) -> Result<Self, String> {
        let object = Value::Object(map);
        if depth(&object) > Self::MAX_DEPTH {
            return Err(format!(
                "metadata must be nested at most {} levels deep",
                Self::MAX_DEPTH
            ));
        }
        let size = object.to_string().len();
        if size > Self::MAX_BYTES {
            return Err(format!(
                "metadata must be at most {} bytes as compact JSON, got {size}",
                Self::MAX_BYTES
            ));
        }
        match object {
            Value::Object(map) => Ok(Metadata(map)),
            _ => unreachable!("built from a map"),
        }
    }

    /// Reads what the store wrote; it was checked on the way in.
    pub fn from_stored(text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Metadata(map),
            _ => Metadata(Map::new()),
        }
    }

    pub fn to_json_text(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata(Map::new())
    }
}

/// RFC 7396 JSON Merge Patch of `patch` onto `target`; the result is checked
/// against the same limits as a stored object.
pub fn merge_patch(target: &Metadata, patch: &Map<String, Value>) -> Result<Metadata, String> {
    let mut merged = Value::Object(target.0.clone());
    apply(&mut merged, &Value::Object(patch.clone()));
    Metadata::parse(merged)
}

fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            apply(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn depth(value: &Value) -> usize {
    // Iterative so a hostile document cannot overflow the stack here.
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, level)) = stack.pop() {
        match v {
            Value::Object(m) => {
                deepest = deepest.max(level);
                stack.extend(m.values().map(|c| (c, level + 1)));
            }
            Value::Array(a) => {
                deepest = deepest.max(level);
                stack.extend(a.iter().map(|c| (c, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!({});
        for _ in 1..levels {
            v = json!({ "d": v });
        }
        v
    }

    #[test]
    fn limits_depth_and_size() {
        assert!(Metadata::parse(nested(8)).is_ok());
        assert!(Metadata::parse(nested(9)).is_err());
        assert!(Metadata::parse(json!({ "blob": "x".repeat(16 * 1024 - 20) })).is_ok());
        assert!(Metadata::parse(json!({ "blob": "x".repeat(16 * 1024) })).is_err());
        assert!(Metadata::parse(json!(["a"])).is_err());
        assert!(Metadata::parse(Value::Null).is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let base = Metadata::parse(json!({"a": "b", "c": {"d": "e", "f": "g"}})).unwrap();
        let patch = json!({"a": "z", "c": {"f": null}, "n": [1]});
        let merged = merge_patch(&base, patch.as_object().unwrap()).unwrap();
        assert_eq!(
            merged.into_value(),
            json!({"a": "z", "c": {"d": "e"}, "n": [1]})
        );
    }

    #[test]
    fn merge_result_is_limited_too() {
        let base = Metadata::parse(json!({ "a": "x".repeat(10_000) })).unwrap();
        let patch = json!({ "b": "y".repeat(10_000) });
        assert!(merge_patch(&base, patch.as_object().unwrap()).is_err());
    }
}
