//! What the document says about every route at once, added to what the
//! handlers' own annotations say: how callers authenticate, the credential
//! fields every API-key body may carry, and the error statuses any route can
//! answer whatever it does (a malformed body, a rejected key, a rate limit, a
//! busy database), and `Idempotency-Key` on every API-key write. Applied by
//! path, so a handler moved to another file keeps them.

mod idempotency;
mod text;

use idempotency::document_idempotency;

use std::collections::{BTreeMap, BTreeSet};

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

pub const BASIC: &str = "basic";
pub const KEY_ID_HEADER: &str = "api_key_id";
pub const KEY_SECRET_HEADER: &str = "api_key_secret";
pub const CHAT_TOKEN: &str = "chat_token";

/// Which credential a path takes.
#[derive(Clone, Copy, PartialEq)]
enum Caller {
    /// `/health`, the document itself, the widget: anyone.
    Anyone,
    /// The company's back end, with an API key.
    ApiKey,
    /// The end user's browser, with a chat token.
    EndUser,
}

fn caller(path: &str) -> Caller {
    if path.starts_with("/rest/v1/chat/") {
        Caller::EndUser
    } else if path.starts_with("/rest/v1/") && path != "/rest/v1/openapi.json" {
        Caller::ApiKey
    } else {
        Caller::Anyone
    }
}

pub struct Contract;

impl utoipa::Modify for Contract {
    fn modify(&self, doc: &mut OpenApi) {
        add_security_schemes(doc);
        let mut credential_bodies = BTreeSet::new();
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for item in doc.paths.paths.values() {
            let operations = [&item.get, &item.put, &item.post, &item.patch, &item.delete];
            for op in operations.into_iter().flatten() {
                *ids.entry(op.operation_id.clone().unwrap_or_default())
                    .or_default() += 1;
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let caller = caller(path);
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                unique_operation_id(op, &ids);
                body_may_be_left_out(op);
                match caller {
                    Caller::Anyone => {}
                    Caller::ApiKey => {
                        // Either scheme will do (first found wins, Basic first);
                        // the body's keyId/keySecret are the third way.
                        op.security = Some(vec![
                            SecurityRequirement::new(BASIC, Vec::<String>::new()),
                            SecurityRequirement::new(KEY_ID_HEADER, Vec::<String>::new())
                                .add(KEY_SECRET_HEADER, Vec::<String>::new()),
                        ]);
                        credential_bodies.extend(body_schema_name(op));
                        add_common_errors(op, true);
                    }
                    Caller::EndUser => {
                        op.security = Some(vec![SecurityRequirement::new(
                            CHAT_TOKEN,
                            Vec::<String>::new(),
                        )]);
                        add_common_errors(op, false);
                    }
                }
            }
        }
        add_credential_fields(doc, &credential_bodies);
        for (path, item) in doc.paths.paths.iter_mut() {
            if caller(path) == Caller::ApiKey {
                let writes = [
                    &mut item.put,
                    &mut item.post,
                    &mut item.patch,
                    &mut item.delete,
                ];
                writes.into_iter().flatten().for_each(document_idempotency);
            }
        }
        text::stamp_text_patterns(doc);
    }
}

/// Handlers in different modules share names (`list`, `get`); the tag
/// (the module's resource) tells them apart.
fn unique_operation_id(op: &mut Operation, ids: &BTreeMap<String, usize>) {
    let Some(id) = op.operation_id.as_deref() else {
        return;
    };
    if ids.get(id).copied().unwrap_or(0) < 2 {
        return;
    }
    let tag = op
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .map(|t| t.replace('-', "_"))
        .unwrap_or_default();
    op.operation_id = Some(format!("{id}_{tag}"));
}

/// An optional body (`Option<T>` in an annotation) may be left out, but
/// when sent it must be the object: a JSON `null` body is rejected like any
/// other non-object. utoipa writes it as "null or T"; the document says
/// "T, not required".
fn body_may_be_left_out(op: &mut Operation) {
    let Some(body) = op.request_body.as_mut() else {
        return;
    };
    for content in body.content.values_mut() {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
            let reference = one_of.items.iter().find(|s| matches!(s, RefOr::Ref(_)));
            if one_of.items.len() == 2 {
                if let Some(reference) = reference.cloned() {
                    content.schema = Some(reference);
                }
            }
        }
    }
}

fn add_security_schemes(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BASIC,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("keyId as the user name, keySecret as the password"))
                .build(),
        ),
    );
    components.add_security_scheme(
        KEY_ID_HEADER,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Api-Key-Id",
            "The key's id (pk_…); goes with X-Api-Key-Secret",
        ))),
    );
    components.add_security_scheme(
        KEY_SECRET_HEADER,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Api-Key-Secret",
            "The key's secret (sk_…); goes with X-Api-Key-Id",
        ))),
    );
    components.add_security_scheme(
        CHAT_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A chat token from POST /rest/v1/auth/token; the only credential the chat routes take",
                ))
                .build(),
        ),
    );
}

/// The component a JSON request body refers to, if it is one.
fn body_schema_name(op: &Operation) -> Option<String> {
    let content = op.request_body.as_ref()?.content.get("application/json")?;
    match content.schema.as_ref()? {
        RefOr::Ref(r) => r
            .ref_location
            .strip_prefix("#/components/schemas/")
            .map(str::to_owned),
        RefOr::T(_) => None,
    }
}

/// Every API-key body may carry the credentials, so a body schema that
/// rejects unknown fields must list them.
fn add_credential_fields(doc: &mut OpenApi, names: &BTreeSet<String>) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in names {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            for (field, what) in [
                ("keyId", "The key's id, when neither Basic auth nor the X-Api-Key headers carry it (Basic wins, then the body)"),
                ("keySecret", "The key's secret, sent with keyId"),
            ] {
                object
                    .properties
                    .insert(field.into(), RefOr::T(Schema::Object(credential(what))));
            }
        }
    }
}

fn credential(description: &str) -> Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .build()
}

/// Statuses any route of the kind can answer before its handler decides
/// anything; the handlers' annotations keep their own wording where they
/// give one.
fn add_common_errors(op: &mut Operation, api_key: bool) {
    let mut common = vec![
        ("400", "Malformed JSON, a field of the wrong type or out of range, an unknown field or query parameter"),
        ("401", if api_key {
            "Missing API credentials, Invalid API credentials, Expired API key or Insufficient permissions"
        } else {
            "Missing chat token, or the token failed a check (signature, expiry, user, version, company, agent)"
        }),
        ("408", "The request body did not arrive within the time limit"),
        ("413", "Request body over 1 MiB"),
        ("429", "Rate limit exceeded, or (API keys) the address is locked out after failed authentications; Retry-After says when to retry"),
        ("503", "The database is busy or unreachable; retry"),
    ];
    common.retain(|(status, _)| !op.responses.responses.contains_key(*status));
    for (status, description) in common {
        op.responses
            .responses
            .insert(status.into(), RefOr::T(error_response(description)));
    }
}

/// An error answer: `description`, with the error body.
pub(crate) fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// `expiresIn` as a pattern that admits exactly the lifetimes the server
/// takes: a positive integer without leading zeros, one unit, at most
/// `max_secs` in all. The maximum is configurable, so this is applied to the
/// served document, not derived once.
pub fn set_expires_in_pattern(doc: &mut OpenApi, max_secs: i64) {
    let Some(RefOr::T(Schema::Object(request))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("TokenRequest"))
    else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(field))) = request.properties.get_mut("expiresIn") {
        field.pattern = Some(expires_in_pattern(max_secs));
    }
}

fn expires_in_pattern(max_secs: i64) -> String {
    let max = u64::try_from(max_secs).unwrap_or(0);
    let units = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)];
    let alternatives: Vec<String> = units
        .iter()
        .filter(|(_, secs)| max / secs >= 1)
        .map(|(unit, secs)| format!("(?:{}){unit}", at_most(max / secs)))
        .collect();
    if alternatives.is_empty() {
        // No lifetime fits: nothing matches.
        return "^[^\\s\\S]$".into();
    }
    format!("^(?:{})$", alternatives.join("|"))
}

/// A regular expression for the decimal integers 1..=n, without leading
/// zeros. `[0-9]` rather than `\d`, which matches other scripts' digits in
/// some engines.
fn at_most(n: u64) -> String {
    let digits: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
    let len = digits.len();
    let mut parts = Vec::new();
    // Every number with fewer digits.
    match len {
        1 => {}
        2 => parts.push("[1-9]".to_owned()),
        _ => parts.push(format!("[1-9][0-9]{{0,{}}}", len - 2)),
    }
    // Same length: n's first i digits, a smaller digit, then anything.
    for i in 0..len {
        let low = u8::from(i == 0);
        if digits[i] > low {
            let prefix: String = digits[..i].iter().map(|d| char::from(b'0' + d)).collect();
            let range = if digits[i] - 1 == low {
                low.to_string()
            } else {
                format!("[{low}-{}]", digits[i] - 1)
            };
            let rest = match len - i - 1 {
                0 => String::new(),
                1 => "[0-9]".to_owned(),
                k => format!("[0-9]{{{k}}}"),
            };
            parts.push(format!("{prefix}{range}{rest}"));
        }
    }
    parts.push(n.to_string());
    parts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ranges() {
        assert_eq!(at_most(1), "1");
        assert_eq!(at_most(9), "[1-8]|9");
        assert_eq!(at_most(30), "[1-9]|[1-2][0-9]|30");
        assert_eq!(
            at_most(720),
            "[1-9][0-9]{0,1}|[1-6][0-9]{2}|7[0-1][0-9]|720"
        );
        assert_eq!(
            at_most(2_592_000),
            "[1-9][0-9]{0,5}|1[0-9]{6}|2[0-4][0-9]{5}|25[0-8][0-9]{4}|259[0-1][0-9]{3}|2592000"
        );
    }

    #[test]
    fn thirty_days() {
        assert_eq!(
            expires_in_pattern(30 * 86_400),
            "^(?:(?:[1-9][0-9]{0,5}|1[0-9]{6}|2[0-4][0-9]{5}|25[0-8][0-9]{4}|259[0-1][0-9]{3}|2592000)s\
             |(?:[1-9][0-9]{0,3}|[1-3][0-9]{4}|4[0-2][0-9]{3}|43[0-1][0-9]{2}|43200)m\
             |(?:[1-9][0-9]{0,1}|[1-6][0-9]{2}|7[0-1][0-9]|720)h\
             |(?:[1-9]|[1-2][0-9]|30)d)$"
        );
    }
}
