//! Text rules stated once. A field or parameter that takes free text is
//! marked `format = "text"` in its annotation (any characters but NUL, which
//! no text column of either database can hold), or `format = "non-blank-text"`
//! (the same, and not only whitespace: a chat message). This pass turns each
//! mark into its pattern, so the patterns are written here and nowhere else,
//! and the document states a format every client understands (none).

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaFormat};
use utoipa::openapi::{OpenApi, RefOr};

/// Any characters but NUL.
const TEXT: &str = "^[^\\u0000]*$";
/// Any characters but NUL, at least one of them not whitespace (the
/// characters Rust's `char::is_whitespace` names, as the server checks).
const NON_BLANK_TEXT: &str = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$";

pub fn stamp_text_patterns(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            stamp(schema);
        }
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            stamp_operation(op);
        }
    }
}

fn stamp_operation(op: &mut Operation) {
    for parameter in op.parameters.iter_mut().flatten() {
        if let Some(schema) = parameter.schema.as_mut() {
            stamp(schema);
        }
    }
    if let Some(body) = op.request_body.as_mut() {
        for content in body.content.values_mut() {
            if let Some(schema) = content.schema.as_mut() {
                stamp(schema);
            }
        }
    }
}

fn stamp(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            if let Some(SchemaFormat::Custom(mark)) = &object.format {
                let pattern = match mark.as_str() {
                    "text" => Some(TEXT),
                    "non-blank-text" => Some(NON_BLANK_TEXT),
                    _ => None,
                };
                if let Some(pattern) = pattern {
                    object.pattern = Some(pattern.to_owned());
                    object.format = None;
                }
            }
            for property in object.properties.values_mut() {
                stamp(property);
            }
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                stamp(items);
            }
        }
        Schema::AllOf(all) => all.items.iter_mut().for_each(stamp),
        Schema::OneOf(one) => one.items.iter_mut().for_each(stamp),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(stamp),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::NON_BLANK_TEXT;

    /// The pattern's whitespace class is exactly Rust's, which the server
    /// uses to refuse a blank message.
    #[test]
    fn the_blank_class_is_rusts_whitespace() {
        let class: Vec<char> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        for c in &class {
            let escaped = format!("\\u{:04x}", *c as u32);
            let in_range = |lo: u32, hi: u32| (lo..=hi).contains(&(*c as u32));
            assert!(
                NON_BLANK_TEXT.contains(&escaped) || in_range(0x9, 0xd) || in_range(0x2000, 0x200a),
                "{escaped} missing"
            );
        }
        assert_eq!(class.len(), 25);
    }
}
