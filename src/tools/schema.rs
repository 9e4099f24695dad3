//! `parameters` as a JSON Schema, with the `jsonschema` crate: whether a
//! company's schema is one (checked against its draft's meta-schema, then
//! compiled, so a `$ref` that cannot be resolved is refused when the tool
//! is saved rather than when the model calls it), and whether the model's
//! arguments satisfy it. Remote `$ref`s are never fetched (the crate is
//! built without its HTTP and file resolvers).

use serde_json::Value;

/// The most schema violations named in one error text.
const MAX_REPORTED: usize = 5;

/// Ok when `schema` is a valid JSON Schema that compiles; the error names
/// what is wrong, for the company.
pub fn check_parameters(schema: &Value) -> Result<(), String> {
    if let Err(e) = jsonschema::meta::validate(schema) {
        return Err(format!(
            "parameters must be a valid JSON Schema: {} (at {})",
            e,
            pointer(&e.instance_path().to_string())
        ));
    }
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| format!("parameters must be a valid JSON Schema: {e}"))
}

/// Ok when `arguments` satisfy `schema`; otherwise a text for the model
/// saying what is wrong (at most five violations, each with where).
pub fn check_arguments(schema: &Value, arguments: &Value) -> Result<(), String> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| format!("the tool's parameters schema cannot be used: {e}"))?;
    let problems: Vec<String> = validator
        .iter_errors(arguments)
        .take(MAX_REPORTED)
        .map(|e| format!("at {}: {}", pointer(&e.instance_path().to_string()), e))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the arguments do not match the tool's parameters: {}",
            problems.join("; ")
        ))
    }
}

/// A JSON pointer, with the root spelled out (an empty pointer reads as nothing).
fn pointer(p: &str) -> String {
    if p.is_empty() {
        "the top level".into()
    } else {
        p.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_are_checked_against_their_meta_schema() {
        assert!(check_parameters(&json!({"type": "object"})).is_ok());
        assert!(check_parameters(&json!({
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"]
        }))
        .is_ok());
        let bad = check_parameters(&json!({"type": "invalid_type"})).unwrap_err();
        assert!(
            bad.starts_with("parameters must be a valid JSON Schema"),
            "{bad}"
        );
        assert!(check_parameters(&json!({"required": "query"})).is_err());
        assert!(check_parameters(&json!({"$ref": "https://example.com/s.json"})).is_err());
    }

    #[test]
    fn arguments_are_checked_and_the_error_says_where() {
        let schema = json!({
            "type": "object",
            "properties": {"order_id": {"type": "integer"}},
            "required": ["order_id"],
            "additionalProperties": false
        });
        assert!(check_arguments(&schema, &json!({"order_id": 7})).is_ok());
        let wrong = check_arguments(&schema, &json!({"order_id": "F-1"})).unwrap_err();
        assert!(
            wrong.contains("/order_id") && wrong.contains("integer"),
            "{wrong}"
        );
        let missing = check_arguments(&schema, &json!({})).unwrap_err();
        assert!(missing.contains("order_id"), "{missing}");
    }
}
