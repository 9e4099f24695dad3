//! Errors from every layer (routing, body parsing, validation), operations
//! endpoints, odd requests that must never produce a 5xx, the body limit over
//! a real socket, and graceful shutdown.

use crate::harness;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use harness::{Reply, TestApp};

const USERS: &str = "/rest/v1/customer-users";
const MIB: usize = 1024 * 1024;

async fn raw(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

async fn raw_json(app: &TestApp, method: Method, uri: &str, body: &str) -> Reply {
    raw(
        app,
        method,
        uri,
        &[("content-type", "application/json")],
        body.as_bytes().to_vec(),
    )
    .await
}

/// A JSON object with `fields` padded with spaces to exactly `size` bytes.
fn padded(fields: &Value, size: usize) -> Vec<u8> {
    let text = fields.to_string();
    let inner = &text[..text.len() - 1];
    let mut bytes = inner.as_bytes().to_vec();
    bytes.resize(size - 1, b' ');
    bytes.push(b'}');
    bytes
}

backend_tests! {
    async fn unknown_routes_are_404_with_the_error_body(app) {
        let t = app.tenant("Acme").await;
        for (method, uri) in [
            (Method::GET, "/"),
            (Method::GET, "/nope"),
            (Method::GET, "/rest/v1"),
            (Method::GET, "/rest/v1/nope"),
            (Method::GET, "/rest/v2/agents"),
            (Method::GET, "/rest/v1/customer-users/cu_1/extra"),
            (Method::POST, "/rest/v1/auth/nope"),
            (Method::DELETE, "/rest/v1/v1/v1/agents"),
        ] {
            let r = app.call(method.clone(), uri, Some(t.creds())).await;
            r.assert_error(404);
            assert_eq!(r.body["error"], json!("Not Found"), "{method} {uri}");
        }
    }

    async fn wrong_methods_are_405_with_the_error_body(app) {
        let t = app.tenant("Acme").await;
        for (method, uri) in [
            (Method::POST, "/health"),
            (Method::POST, USERS),
            (Method::POST, "/rest/v1/customer-users/cu_1"),
            (Method::GET, "/rest/v1/auth/token"),
            (Method::PUT, "/rest/v1/auth/verify-token"),
            (Method::DELETE, "/rest/v1/agents"),
            (Method::POST, "/rest/v1/v1/agents"),
            (Method::POST, "/rest/v1/openapi.json"),
        ] {
            let r = app.call(method.clone(), uri, Some(t.creds())).await;
            r.assert_error(405);
            assert_eq!(r.body["error"], json!("Method Not Allowed"), "{method} {uri}");
        }
    }

    async fn a_405_lists_the_methods_the_path_has_in_allow(app) {
        let t = app.tenant("Acme").await;
        for (method, uri, allowed) in [
            (Method::POST, "/health", "GET,HEAD"),
            (Method::POST, "/rest/v1/customer-users/cu_1", "GET,HEAD,PUT,PATCH,DELETE"),
            (Method::GET, "/rest/v1/auth/token", "POST"),
            (Method::POST, "/rest/v1/v1/agents", "GET,HEAD"),
            (Method::GET, "/rest/v1/customer-users/by-external-id/x", "PUT"),
        ] {
            let r = app.call(method.clone(), uri, Some(t.creds())).await;
            r.assert_error(405);
            let allow = r.headers.get("allow").unwrap_or_else(|| panic!("no Allow on {method} {uri}"));
            let mut listed: Vec<&str> = allow.to_str().unwrap().split(',').map(str::trim).collect();
            let mut expected: Vec<&str> = allowed.split(',').collect();
            listed.sort_unstable();
            expected.sort_unstable();
            assert_eq!(listed, expected, "{method} {uri}");
        }
    }

    async fn bodies_that_are_not_json_objects_are_400(app) {
        let t = app.tenant("Acme").await;
        let creds = t.creds().to_string();
        let truncated = &creds[..creds.len() - 1];
        for (body, hint) in [
            (truncated.to_owned(), "JSON"),
            ("{".into(), "JSON"),
            ("{'keyId': 'x'}".into(), "JSON"),
            ("{\"a\":1,}".into(), "JSON"),
            (format!("{creds} trailing"), "JSON"),
            ("[]".into(), "object"),
            ("[1, 2]".into(), "object"),
            ("\"text\"".into(), "object"),
            ("42".into(), "object"),
            ("null".into(), "object"),
            ("true".into(), "object"),
        ] {
            for (method, uri) in [(Method::GET, USERS), (Method::POST, "/rest/v1/auth/token")] {
                let r = raw_json(&app, method, uri, &body).await;
                let message = r.assert_error(400);
                assert!(message.contains(hint), "{body:?}: {message}");
            }
        }
        // Invalid UTF-8 inside a string, and as the whole body.
        let mut bytes = br#"{"keyId": ""#.to_vec();
        bytes.extend([0xff, 0xfe, b'"', b'}']);
        raw(&app, Method::GET, USERS, &[], bytes).await.assert_error(400);
        raw(&app, Method::POST, "/rest/v1/auth/token", &[], vec![0xc3, 0x28]).await.assert_error(400);
        // An empty or all-blank body is no body: the credentials are missing.
        let r = raw(&app, Method::GET, USERS, &[], b" \n ".to_vec()).await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
    }

    async fn wrong_field_types_are_400_naming_the_field(app) {
        let t = app.tenant("Acme").await;
        for (uri, method, fields, field) in [
            ("/rest/v1/auth/token", Method::POST, json!({ "userId": 1, "agentId": t.agent }), "userId"),
            ("/rest/v1/auth/token", Method::POST, json!({ "userId": "u", "agentId": true }), "agentId"),
            ("/rest/v1/auth/token", Method::POST, json!({ "userId": "u", "agentId": t.agent, "expiresIn": 60 }), "expiresIn"),
            ("/rest/v1/auth/verify-token", Method::POST, json!({ "token": { "a": 1 } }), "token"),
            ("/rest/v1/auth/invalidate-token", Method::POST, json!({ "customerUserId": ["cu_1"] }), "customerUserId"),
            (USERS, Method::GET, json!({ "active": "yes" }), "active"),
            ("/rest/v1/customer-users/cu_1", Method::PUT, json!({ "name": 1 }), "name"),
            ("/rest/v1/auth/token", Method::POST, json!({ "userId": "u", "agentId": t.agent, "agent_id": "x" }), "agent_id"),
            ("/rest/v1/agents", Method::GET, json!({ "limit": 5 }), "limit"),
            ("/rest/v1/customer-users/cu_1", Method::GET, json!({ "name": "x" }), "name"),
        ] {
            let r = app.call(method, uri, Some(t.body(fields.clone()))).await;
            let message = r.assert_error(400);
            assert!(message.contains(field), "{uri} {fields}: {message}");
        }
        // Unknown query parameters on endpoints that take none.
        let agent_uri = format!("/rest/v1/agents/{}?verbose=true", t.agent);
        for uri in ["/rest/v1/customer-users/cu_1?x=1", agent_uri.as_str()] {
            let r = app.get(uri, t.creds()).await;
            r.assert_error(400);
        }
    }

    async fn unknown_query_parameters_are_400_on_every_api_endpoint(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "u1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let calls = [
            (Method::POST, "/rest/v1/auth/token".to_owned(), json!({ "userId": "u1", "agentId": t.agent })),
            (Method::POST, "/rest/v1/auth/verify-token".to_owned(), json!({ "token": tok["token"] })),
            (Method::POST, "/rest/v1/auth/invalidate-token".to_owned(), json!({ "customerUserId": id })),
            (Method::GET, USERS.to_owned(), json!({})),
            (Method::GET, format!("{USERS}/{id}"), json!({})),
            (Method::PUT, format!("{USERS}/{id}"), json!({ "name": "Ann" })),
            (Method::GET, "/rest/v1/agents".to_owned(), json!({})),
            (Method::GET, format!("/rest/v1/agents/{}", t.agent), json!({})),
        ];
        for (method, uri, fields) in calls {
            let r = app.call(method.clone(), &format!("{uri}?userID=x"), Some(t.body(fields.clone()))).await;
            let message = r.assert_error(400);
            assert!(message.contains("userID"), "{method} {uri}: {message}");
            let r = app.call(method.clone(), &uri, Some(t.body(fields))).await;
            assert_eq!(r.status, 200, "{method} {uri}: {}", r.text);
        }
    }

    async fn body_limit_is_one_mebibyte(app) {
        let t = app.tenant("Acme").await;
        let fields = t.body(json!({ "userId": "u1", "agentId": t.agent }));
        let exact = raw(&app, Method::POST, "/rest/v1/auth/token", &[("content-type", "application/json")], padded(&fields, MIB)).await;
        exact.assert_ok();
        for size in [MIB + 1, 2 * MIB] {
            let r = raw(&app, Method::POST, "/rest/v1/auth/token", &[("content-type", "application/json")], padded(&fields, size)).await;
            r.assert_error(413);
            // The rest was read and discarded, so the connection stays usable.
            assert!(r.headers.get("connection").is_none());
            let r = raw(&app, Method::GET, USERS, &[], padded(&t.creds(), size)).await;
            r.assert_error(413);
        }
        // Past what the server is willing to read and discard, it closes.
        // (Sent in chunks, as a network would deliver it.)
        let chunks = padded(&fields, 20 * MIB)
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/rest/v1/auth/token")
            .header("content-type", "application/json")
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .unwrap();
        let huge = app.send(req).await;
        huge.assert_error(413);
        assert_eq!(huge.headers["connection"], "close");
    }

    async fn alias_prefix_serves_the_same_handlers(app) {
        let t = app.tenant("Acme").await;
        let r = app.post("/rest/v1/v1/auth/token", t.body(json!({ "userId": "u1", "agentId": t.agent }))).await;
        let id = r.assert_ok()["customerUser"]["id"].as_str().unwrap().to_owned();
        let token = r.body["token"].as_str().unwrap().to_owned();
        app.post("/rest/v1/v1/auth/verify-token", t.body(json!({ "token": token }))).await.assert_ok();
        let list = app.get("/rest/v1/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["data"][0]["id"], json!(id));
        let put = app.put(&format!("/rest/v1/v1/customer-users/{id}"), t.body(json!({ "name": "Ann" }))).await;
        assert_eq!(put.assert_ok()["name"], json!("Ann"));
        app.get("/rest/v1/v1/agents", t.creds()).await.assert_ok();
        let r = app.post("/rest/v1/v1/auth/invalidate-token", t.body(json!({ "customerUserId": id }))).await;
        assert_eq!(r.assert_ok()["newTokenVersion"], json!(1));
        // The alias has the same errors too.
        let r = app.get("/rest/v1/v1/customer-users", json!({})).await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
    }

    async fn health_needs_no_auth(app) {
        let r = raw(&app, Method::GET, "/health", &[], Vec::new()).await;
        assert_eq!(
            *r.assert_ok(),
            json!({ "status": "ok", "rateLimits": {
                "enabled": true, "store": "memory", "state": "local", "outageSince": null
            } })
        );
        assert_eq!(r.headers["content-type"], "application/json");
    }

    async fn health_is_503_when_the_database_does_not_answer(app) {
        app.store.close().await;
        let r = raw(&app, Method::GET, "/health", &[], Vec::new()).await;
        r.assert_error(503);
    }

    async fn openapi_document_lists_the_paths(app) {
        let r = raw(&app, Method::GET, "/rest/v1/openapi.json", &[], Vec::new()).await;
        let doc = r.assert_ok();
        assert_eq!(r.headers["content-type"], "application/json");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        let paths = doc["paths"].as_object().unwrap();
        for (path, method) in [
            ("/health", "get"),
            ("/rest/v1/auth/token", "post"),
            ("/rest/v1/auth/invalidate-token", "post"),
            ("/rest/v1/auth/verify-token", "post"),
            ("/rest/v1/customer-users", "get"),
            ("/rest/v1/customer-users/{id}", "get"),
            ("/rest/v1/customer-users/{id}", "put"),
            ("/rest/v1/agents", "get"),
            ("/rest/v1/agents/{id}", "get"),
        ] {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} in the document");
        }
    }

    async fn json_responses_carry_the_json_content_type(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "u1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let replies = [
            app.post("/rest/v1/auth/token", t.body(json!({ "userId": "u1", "agentId": t.agent }))).await,
            app.post("/rest/v1/auth/verify-token", t.body(json!({ "token": tok["token"] }))).await,
            app.get(USERS, t.creds()).await,
            app.get(&format!("{USERS}/{id}"), t.creds()).await,
            app.put(&format!("{USERS}/{id}"), t.body(json!({ "name": "A" }))).await,
            app.get("/rest/v1/agents", t.creds()).await,
            app.get(&format!("/rest/v1/agents/{}", t.agent), t.creds()).await,
            app.post("/rest/v1/auth/invalidate-token", t.body(json!({ "customerUserId": id }))).await,
        ];
        for r in replies {
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.headers["content-type"], "application/json");
            assert!(r.body.is_object());
            assert!(r.headers.get("connection").is_none(), "a fully read request keeps its connection");
        }
    }

    async fn odd_requests_never_produce_a_5xx(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "existing").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let user_url = format!("{USERS}/{id}");
        let (kid, secret) = (t.key.0.as_str(), t.key.1.as_str());
        let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
        let creds = format!(r#""keyId":"{kid}","keySecret":"{secret}""#);
        let long_id = "a".repeat(20_000);

        let json_bodies: Vec<(Method, String, String)> = vec![
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"a\u0000b","agentId":"{}"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"u","agentId":"agent\u0000x"}}"#)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"\ud800","agentId":"{}"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"\udc00\ud800","agentId":"{}"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"😀🏳️‍🌈","agentId":"{}","expiresIn":"😀"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"u","agentId":"{}","expiresIn":1e999}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"u","agentId":"{}","expiresIn":"99999999999999999999999999999s"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/token".into(), format!(r#"{{{creds},"userId":"u","agentId":"{}","expiresIn":"9223372036854775807d"}}"#, t.agent)),
            (Method::POST, "/rest/v1/auth/invalidate-token".into(), format!(r#"{{{creds},"customerUserId":"cu_\u0000"}}"#)),
            (Method::POST, "/rest/v1/auth/invalidate-token".into(), format!(r#"{{{creds},"customerUserId":"{long_id}"}}"#)),
            (Method::POST, "/rest/v1/auth/verify-token".into(), format!(r#"{{{creds},"token":"\u0000.\u0000.\u0000"}}"#)),
            (Method::POST, "/rest/v1/auth/verify-token".into(), format!(r#"{{{creds},"token":"{}"}}"#, "a.".repeat(5_000))),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"name":"\u0000"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"external_id":"x\u0000"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"email":"a\u0000@b.c"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"name":"😀"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"name":"{}"}}"#, "é".repeat(10_000))),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"active":1e999}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{{creds},"active":123456789012345678901234567890}}"#)),
            (Method::GET, USERS.into(), deep_array.clone()),
            (Method::GET, USERS.into(), deep_object.clone()),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"metadata":{deep_object}}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"metadata":{{"a":{deep_array}}}}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"name":"a\u0000b"}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"email":"a\u0000b@example.com"}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"metadata":{{"k\u0000":"v\u0000","n":1e308,"m":-1e308}}}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"metadata":{{"big":123456789012345678901234567890}}}}"#)),
            (Method::PUT, user_url.clone(), format!(r#"{{{creds},"name":"😀\ud83d\ude00"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{"keyId":"pk_\u0000","keySecret":"{secret}"}}"#)),
            (Method::GET, USERS.into(), format!(r#"{{"keyId":"{kid}","keySecret":"\u0000"}}"#)),
            (Method::GET, USERS.into(), r#"{"keyId":{"a":1},"keySecret":[]}"#.into()),
        ];
        for (method, uri, body) in json_bodies {
            let r = raw_json(&app, method.clone(), &uri, &body).await;
            assert!(r.status.as_u16() < 500, "{method} {uri:.60} {body:.120}: {} {}", r.status, r.text);
            if r.status.as_u16() >= 400 {
                r.assert_error(r.status.as_u16());
            }
        }

        let nul_basic = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("pk_\0x:{secret}")));
        let paths: Vec<String> = vec![
            format!("{USERS}/cu_%00"),
            format!("{USERS}/%00"),
            format!("{USERS}/%FF%FE"),
            format!("{USERS}/%F0%9F%98%80"),
            format!("{USERS}/{long_id}"),
            format!("{USERS}/%25%5F%5C"),
            format!("{USERS}?name=%FF%FE"),
            format!("{USERS}?name=%00"),
            format!("{USERS}?name=%"),
            format!("{USERS}?%ZZ=1"),
            format!("{USERS}?name=%F0%9F%98%80&active=true"),
            format!("{USERS}?external_id=%00"),
            format!("{USERS}?page=99999999999999999999999&limit=1"),
            format!("{USERS}?limit=%00"),
            format!("{USERS}?=&&&="),
            "/rest/v1/agents/%00".into(),
            "/rest/v1/agents/%C0%AF".into(),
            "/rest/v1/agents/..%2F..%2Fhealth".into(),
            format!("/rest/v1/agents/{long_id}"),
            "/rest/v1/%FF/%00".into(),
        ];
        for path in &paths {
            let r = raw(&app, Method::GET, path, &[("x-api-key-id", kid), ("x-api-key-secret", secret)], Vec::new()).await;
            assert!(r.status.as_u16() < 500, "GET {path:.80}: {} {}", r.status, r.text);
            if r.status.as_u16() >= 400 {
                r.assert_error(r.status.as_u16());
            }
            let r = raw(&app, Method::PUT, path, &[("authorization", nul_basic.as_str())], Vec::new()).await;
            assert!(r.status.as_u16() < 500, "PUT {path:.80}: {} {}", r.status, r.text);
            // An authenticated merge reaches the store with the odd id.
            let headers = [("x-api-key-id", kid), ("x-api-key-secret", secret), ("content-type", "application/json")];
            let r = raw(&app, Method::PATCH, path, &headers, br#"{"name":"x"}"#.to_vec()).await;
            assert!(r.status.as_u16() < 500, "PATCH {path:.80}: {} {}", r.status, r.text);
        }
        let r = raw(&app, Method::GET, USERS, &[("authorization", nul_basic.as_str())], Vec::new()).await;
        assert_eq!(r.assert_error(401), "Invalid API credentials");

        // The service is still fine afterwards.
        let r = app.get(&user_url, t.creds()).await;
        assert_eq!(r.assert_ok()["external_id"], json!("existing"));
        app.token(&t, "after").await;
    }
}

mod connections;
