//! The served OpenAPI document says what the server enforces, so a fuzzer
//! driven by it (.ci/fuzz) finds contradictions rather than noise: the
//! contradictions an earlier schemathesis run found stay fixed here.

use crate::harness;

use serde_json::{json, Value};

use harness::TestApp;
use performchat::store::Backend;

async fn document() -> Value {
    let app = TestApp::new(Backend::Sqlite).await;
    app.get("/rest/v1/openapi.json", json!({}))
        .await
        .assert_ok()
        .clone()
}

/// Every operation as (METHOD path, operation).
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    all
}

fn param<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
}

#[tokio::test]
async fn every_route_is_described_with_its_credentials() {
    let doc = document().await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["api_key_id"]["name"], "X-Api-Key-Id");
    assert_eq!(schemes["api_key_secret"]["name"], "X-Api-Key-Secret");
    assert_eq!(schemes["chat_token"]["scheme"], "bearer");

    let ops = operations(&doc);
    let names: Vec<&str> = ops.iter().map(|(name, _)| name.as_str()).collect();
    for route in [
        "GET /health",
        "GET /widget.js",
        "GET /chat-demo",
        "GET /chat-demo.js",
        "GET /rest/v1/openapi.json",
        "POST /rest/v1/auth/token",
        "POST /rest/v1/auth/invalidate-token",
        "POST /rest/v1/auth/verify-token",
        "GET /rest/v1/customer-users",
        "GET /rest/v1/customer-users/export",
        "GET /rest/v1/customer-users/stats",
        "POST /rest/v1/customer-users/bulk",
        "PUT /rest/v1/customer-users/by-external-id/{external_id}",
        "GET /rest/v1/customer-users/{id}",
        "PUT /rest/v1/customer-users/{id}",
        "PATCH /rest/v1/customer-users/{id}",
        "GET /rest/v1/agents",
        "GET /rest/v1/agents/{id}",
        "GET /rest/v1/conversations",
        "GET /rest/v1/conversations/{id}",
        "GET /rest/v1/conversations/{id}/messages",
        "GET /rest/v1/chat/session",
        "GET /rest/v1/chat/conversations",
        "POST /rest/v1/chat/conversations",
        "GET /rest/v1/chat/conversations/{id}/messages",
        "POST /rest/v1/chat/conversations/{id}/messages",
        "POST /rest/v1/agents/{id}/tools",
        "GET /rest/v1/agents/{id}/tools",
        "GET /rest/v1/tools/{id}",
        "PATCH /rest/v1/tools/{id}",
        "DELETE /rest/v1/tools/{id}",
        "POST /rest/v1/tools/{id}/rotate-secret",
    ] {
        assert!(names.contains(&route), "{route} is not in the document");
    }

    let mut ids = Vec::new();
    for (name, op) in &ops {
        ids.push(op["operationId"].as_str().unwrap().to_owned());
        let security = op["security"].to_string();
        if name.contains(" /rest/v1/chat/") {
            assert_eq!(op["security"], json!([{ "chat_token": [] }]), "{name}");
        } else if name.contains(" /rest/v1/") && !name.ends_with("openapi.json") {
            assert!(
                security.contains("basic") && security.contains("api_key_secret"),
                "{name}: {security}"
            );
            // Any body that refuses unknown fields lists the body credentials.
            if let Some(reference) =
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                let schema = &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()];
                assert!(
                    schema["properties"].get("keyId").is_some(),
                    "{name}: {schema}"
                );
            }
            for status in ["400", "401", "413", "429"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{name} lacks {status}"
                );
            }
        } else {
            assert!(op.get("security").is_none(), "{name} needs no credentials");
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");
}

#[tokio::test]
async fn the_document_states_the_bounds_the_server_enforces() {
    let doc = document().await;
    for (name, op) in operations(&doc) {
        if let Some(limit) = param(op, "limit") {
            // A knowledge search returns chunks for a prompt: 1–20.
            let max = if name.ends_with("/knowledge/search") {
                20.0
            } else {
                100.0
            };
            assert_eq!(
                (limit["minimum"].as_f64(), limit["maximum"].as_f64()),
                (Some(1.0), Some(max)),
                "{name}"
            );
        }
        if let Some(page) = param(op, "page") {
            assert_eq!(page["minimum"].as_f64(), Some(1.0), "{name}");
            assert_eq!(
                page["maximum"].as_f64(),
                Some(f64::from(u32::MAX)),
                "{name}"
            );
        }
    }
    let export = &doc["paths"]["/rest/v1/customer-users/export"]["get"];
    assert_eq!(
        param(export, "format").unwrap()["enum"],
        json!(["csv", "ndjson"])
    );

    let schemas = &doc["components"]["schemas"];
    let update = &schemas["UpdateUserBody"];
    assert_eq!(update["additionalProperties"], json!(false));
    assert!(
        update["properties"].get("external_id").is_none(),
        "always refused, so not offered"
    );
    let expires = schemas["TokenRequest"]["properties"]["expiresIn"]["pattern"]
        .as_str()
        .unwrap();
    assert!(
        expires.contains("|30)d") && expires.contains("720)h"),
        "{expires}"
    );
    assert_eq!(
        schemas["TokenRequest"]["properties"]["userId"]["maxLength"],
        json!(255)
    );

    // A tool's bounds (docs/API.md §10.1).
    let tool = &schemas["CreateToolBody"]["properties"];
    assert_eq!(
        (
            &tool["timeout_ms"]["minimum"],
            &tool["timeout_ms"]["maximum"]
        ),
        (&json!(100), &json!(30000))
    );
    assert_eq!(tool["name"]["pattern"], json!("^[a-zA-Z0-9_-]{1,64}$"));
    assert_eq!(
        (
            &tool["description"]["minLength"],
            &tool["description"]["maxLength"]
        ),
        (&json!(1), &json!(1024))
    );

    // A bad bulk item fails alone (200), so the request takes any item.
    let updates = &schemas["BulkBody"]["properties"]["updates"];
    assert_eq!(
        (updates["items"].clone(), updates["maxItems"].clone()),
        (json!({}), json!(1000))
    );
    assert!(
        doc["paths"]["/rest/v1/auth/verify-token"]["post"]["responses"]
            .get("400")
            .is_some()
    );
    // Bodies that may be left out are not required, and never `null`.
    for (path, method) in [
        (
            "/rest/v1/customer-users/by-external-id/{external_id}",
            "put",
        ),
        ("/rest/v1/customer-users/{id}", "patch"),
        ("/rest/v1/chat/conversations", "post"),
    ] {
        let body = &doc["paths"][path][method]["requestBody"];
        assert_ne!(body["required"], json!(true), "{method} {path}");
        assert!(
            body["content"]["application/json"]["schema"]["$ref"].is_string(),
            "{body}"
        );
    }
}

/// Every place that takes free text carries the NUL rule's pattern (a chat
/// message also the non-blank one), stamped from the `format` mark; no mark is
/// left in the document.
#[tokio::test]
async fn text_fields_state_the_nul_rule_and_no_mark_is_left() {
    fn walk(value: &serde_json::Value, at: String, found: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(format) = map.get("format").and_then(|f| f.as_str()) {
                    assert!(!format.contains("text"), "{at}: mark left: {format}");
                }
                if let Some(pattern) = map.get("pattern").and_then(|p| p.as_str()) {
                    if pattern.contains("\\u0000") {
                        found.push((at.clone(), pattern.to_owned()));
                    }
                }
                for (key, inner) in map {
                    walk(inner, format!("{at}/{key}"), found);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    walk(inner, format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let doc = document().await;
    let mut found = Vec::new();
    walk(&doc, String::new(), &mut found);
    let has = |place: &str, blank_too: bool| {
        found
            .iter()
            .any(|(at, pattern)| at.contains(place) && (pattern.contains("\\u3000") == blank_too))
    };
    assert!(has("TokenRequest/properties/userId", false), "{found:?}");
    assert!(has("UpdateUserBody/properties/name", false), "{found:?}");
    assert!(has("NewMessage/properties/content", true), "{found:?}");
    assert!(has("by-external-id", false), "{found:?}");
    assert!(found.len() >= 10, "{found:?}");
}
