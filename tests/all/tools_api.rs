//! Agent tools over the API (docs/API.md §10): the secret shown only when
//! made or rotated, validation naming the field, the outbound address rule
//! at creation, 409 on a name the agent has, `agents:write` on every route,
//! and another company's tools looking missing.

use crate::harness;

use axum::http::Method;
use serde_json::{json, Value};

use harness::{with_creds, Tenant, TestApp};
use performchat::app::Config;
use performchat::domain::now_ms;
use performchat::outbound::OutboundRule;
use performchat::store::{TenantStore, ToolStore};

async fn allowing_loopback(backend: performchat::store::Backend) -> TestApp {
    let config = Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    };
    TestApp::with_config(backend, config).await
}

fn query_schema() -> Value {
    json!({ "type": "object", "properties": { "query": { "type": "string" } }, "required": ["query"] })
}

fn tool_body(name: &str) -> Value {
    json!({ "name": name, "description": "Looks an order up.", "parameters": query_schema(),
            "url": "https://93.184.216.34/orders" })
}

async fn add(app: &TestApp, t: &Tenant, body: Value) -> Value {
    let r = app
        .post(&format!("/rest/v1/agents/{}/tools", t.agent), t.body(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

backend_tests! {
    async fn tools_are_made_listed_changed_rotated_and_deleted(app) {
        let app = allowing_loopback(app.db.backend()).await;
        let t = app.tenant("Acme").await;
        let path = format!("/rest/v1/agents/{}/tools", t.agent);
        let r = app.post(&path, t.body(json!({ "name": "lookup_order", "description": "Looks orders up.",
            "parameters": query_schema(), "url": "http://127.0.0.1:9/lookup" }))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.headers["cache-control"], "no-store");
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("tsec_") && secret.len() >= 5 + 32, "{secret}");
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("tool_"));
        for (k, v) in [("agent_id", json!(t.agent)), ("name", json!("lookup_order")), ("parameters", query_schema()),
                       ("url", json!("http://127.0.0.1:9/lookup")), ("timeout_ms", json!(10000)), ("active", json!(true))] {
            assert_eq!(r.body[k], v, "{k}");
        }
        assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));

        let one = app.get(&format!("/rest/v1/tools/{id}"), t.creds()).await;
        assert_eq!(one.assert_ok()["description"], json!("Looks orders up."));
        assert!(!one.text.contains(&secret) && one.body.get("secret").is_none());
        let list = app.get(&path, t.creds()).await;
        let listed: Vec<&str> = list.assert_ok()["data"].as_array().unwrap().iter()
            .map(|x| x["id"].as_str().unwrap()).collect();
        assert_eq!(listed, [id.as_str()]);
        assert!(!list.text.contains(&secret));

        let patched = app.call(Method::PATCH, &format!("/rest/v1/tools/{id}"),
            Some(t.body(json!({ "description": "Finds orders.", "timeout_ms": 2500, "active": false })))).await;
        let patched = patched.assert_ok();
        assert_eq!((&patched["description"], &patched["timeout_ms"], &patched["active"], &patched["name"]),
            (&json!("Finds orders."), &json!(2500), &json!(false), &json!("lookup_order")));
        assert!(patched.get("secret").is_none());

        let rotated = app.post(&format!("/rest/v1/tools/{id}/rotate-secret"), t.creds()).await;
        let new = rotated.assert_ok()["secret"].as_str().unwrap().to_owned();
        assert!(new.starts_with("tsec_") && new != secret);
        assert_eq!(rotated.headers["cache-control"], "no-store");
        assert!(!app.get(&format!("/rest/v1/tools/{id}"), t.creds()).await.text.contains(&new));

        let gone = app.call(Method::DELETE, &format!("/rest/v1/tools/{id}"), Some(t.creds())).await;
        assert_eq!(gone.status, 204);
        app.get(&format!("/rest/v1/tools/{id}"), t.creds()).await.assert_error(404);
        assert_eq!(app.get(&path, t.creds()).await.assert_ok()["data"], json!([]));
        let again = app.call(Method::DELETE, &format!("/rest/v1/tools/{id}"), Some(t.creds())).await;
        again.assert_error(404);
    }

    async fn the_old_secret_signs_beside_the_new_one_for_a_day(app) {
        let t = app.tenant("Acme").await;
        let made = add(&app, &t, tool_body("lookup_order")).await;
        let id = made["id"].as_str().unwrap();
        let old = made["secret"].as_str().unwrap();
        let before = now_ms();
        let rotated = app.post(&format!("/rest/v1/tools/{id}/rotate-secret"), t.creds()).await;
        let new = rotated.assert_ok()["secret"].as_str().unwrap();
        let stored = app.store.get_tool(&t.company, id).await.unwrap().unwrap();
        let until = stored.previous_until.unwrap();
        let day = 24 * 3600 * 1000;
        assert!(until >= before + day && until <= now_ms() + day, "{until}");
        assert_eq!(stored.signing_secrets(until - 1), [new, old]);
        assert_eq!(stored.signing_secrets(until), [new]);
        let active = app.store.active_tools(&t.company, &t.agent).await.unwrap();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].secrets, [new, old]);
    }

    async fn only_active_tools_are_offered_to_the_chat(app) {
        let t = app.tenant("Acme").await;
        let b = add(&app, &t, tool_body("b_tool")).await;
        add(&app, &t, tool_body("a_tool")).await;
        let off = add(&app, &t, json!({ "name": "c_tool", "description": "Off.", "parameters": query_schema(),
            "url": "https://93.184.216.34/c", "active": false, "timeout_ms": 700 })).await;
        assert_eq!(off["active"], json!(false));
        assert_eq!(off["timeout_ms"], json!(700));
        let names = |tools: Vec<performchat::domain::ActiveTool>| -> Vec<String> {
            tools.into_iter().map(|t| t.name).collect()
        };
        let active = app.store.active_tools(&t.company, &t.agent).await.unwrap();
        assert_eq!(active[0].parameters, query_schema());
        assert_eq!(names(active), ["a_tool", "b_tool"]);
        app.call(Method::PATCH, &format!("/rest/v1/tools/{}", b["id"].as_str().unwrap()),
            Some(t.body(json!({ "active": false })))).await.assert_ok();
        assert_eq!(names(app.store.active_tools(&t.company, &t.agent).await.unwrap()), ["a_tool"]);
        assert!(app.store.active_tools(&t.company, &t.inactive_agent).await.unwrap().is_empty());
    }

    async fn bad_tools_are_refused_naming_the_field(app) {
        let t = app.tenant("Acme").await;
        let path = format!("/rest/v1/agents/{}/tools", t.agent);
        let base = tool_body("lookup_order");
        let with = |change: Value| {
            let mut body = base.clone();
            body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
            body
        };
        for (change, field) in [
            (json!({ "name": "bad name!" }), "name"),
            (json!({ "name": "x".repeat(65) }), "name"),
            (json!({ "name": "" }), "name"),
            (json!({ "description": "" }), "description"),
            (json!({ "description": "d".repeat(1025) }), "description"),
            (json!({ "parameters": "query" }), "parameters"),
            (json!({ "parameters": { "type": "object", "description": "p".repeat(17 * 1024) } }), "parameters"),
            (json!({ "parameters": { "type": "invalid_type" } }), "parameters"),
            (json!({ "parameters": { "type": "object", "required": "query" } }), "parameters"),
            (json!({ "timeout_ms": 99 }), "timeout_ms"),
            (json!({ "timeout_ms": 30001 }), "timeout_ms"),
            (json!({ "timeout_ms": "fast" }), "timeout_ms"),
            (json!({ "url": "ftp://93.184.216.34/lookup" }), "url"),
            (json!({ "url": "not a url" }), "url"),
            (json!({ "url": "http://93.184.216.34/lookup" }), "url"),
            (json!({ "url": "https://127.0.0.1/lookup" }), "url"),
            (json!({ "url": "https://localhost/lookup" }), "url"),
            (json!({ "url": "https://10.0.0.1/lookup" }), "url"),
            (json!({ "colour": "red" }), "colour"),
            (json!({ "secret": "tsec_mine" }), "secret"),
        ] {
            let r = app.post(&path, t.body(with(change.clone()))).await;
            assert!(r.assert_error(400).contains(field), "{change}: {}", r.text);
        }
        let mut no_url = base.clone();
        no_url.as_object_mut().unwrap().remove("url");
        assert!(app.post(&path, t.body(no_url)).await.assert_error(400).contains("url"));

        add(&app, &t, with(json!({ "name": "a-Z_0-9", "timeout_ms": 100 }))).await;
        add(&app, &t, with(json!({ "name": "x".repeat(64), "timeout_ms": 30000 }))).await;
        let made = add(&app, &t, base.clone()).await;
        let dup = app.post(&path, t.body(base.clone())).await;
        assert!(dup.assert_error(409).contains("name"), "{}", dup.text);
        // The name is unique per agent only.
        let other_agent = app.store.create_agent(&t.company, "Sales", None, true, now_ms()).await.unwrap().id;
        let r = app.post(&format!("/rest/v1/agents/{other_agent}/tools"), t.body(base.clone())).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let unknown = app.post("/rest/v1/agents/agent_doesnotexist/tools", t.body(base.clone())).await;
        assert_eq!(unknown.assert_error(404), "Agent not found");

        let id = made["id"].as_str().unwrap();
        for (change, field) in [
            (json!({ "url": "https://192.168.1.1/" }), "url"),
            (json!({ "name": "a-Z_0-9" }), "name"),
            (json!({ "timeout_ms": 0 }), "timeout_ms"),
            (json!({ "parameters": [] }), "parameters"),
            (json!({ "description": "" }), "description"),
            (json!({ "agent_id": other_agent }), "agent_id"),
        ] {
            let r = app.call(Method::PATCH, &format!("/rest/v1/tools/{id}"), Some(t.body(change.clone()))).await;
            let status = if field == "name" { 409 } else { 400 };
            assert!(r.assert_error(status).contains(field), "{change}: {}", r.text);
        }
        let kept = app.get(&format!("/rest/v1/tools/{id}"), t.creds()).await;
        assert_eq!(kept.assert_ok()["name"], json!("lookup_order"));
    }

    async fn tool_routes_need_agents_write_and_stay_in_their_company(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let made = add(&app, &t, tool_body("lookup_order")).await;
        let id = made["id"].as_str().unwrap().to_owned();
        let reader = app.key(&t.company, Some("agents:read"), None).await;
        for (method, path) in [
            (Method::POST, format!("/rest/v1/agents/{}/tools", t.agent)),
            (Method::GET, format!("/rest/v1/agents/{}/tools", t.agent)),
            (Method::GET, format!("/rest/v1/tools/{id}")),
            (Method::PATCH, format!("/rest/v1/tools/{id}")),
            (Method::DELETE, format!("/rest/v1/tools/{id}")),
            (Method::POST, format!("/rest/v1/tools/{id}/rotate-secret")),
        ] {
            let r = app.call(method.clone(), &path, Some(with_creds(&reader, json!({})))).await;
            assert_eq!(r.assert_error(401), "Insufficient permissions", "{method} {path}");
        }
        let writer = app.key(&t.company, Some("agents:write"), None).await;
        let r = app.get(&format!("/rest/v1/tools/{id}"), with_creds(&writer, json!({}))).await;
        r.assert_ok();

        let missing = app.get("/rest/v1/tools/tool_doesnotexist", other.creds()).await.assert_error(404).to_owned();
        for (method, path) in [
            (Method::GET, format!("/rest/v1/tools/{id}")),
            (Method::PATCH, format!("/rest/v1/tools/{id}")),
            (Method::DELETE, format!("/rest/v1/tools/{id}")),
            (Method::POST, format!("/rest/v1/tools/{id}/rotate-secret")),
        ] {
            let body = if method == Method::PATCH { other.body(json!({ "active": false })) } else { other.creds() };
            let r = app.call(method.clone(), &path, Some(body)).await;
            assert_eq!(r.assert_error(404), missing, "{method} {path}");
        }
        let list = app.get(&format!("/rest/v1/agents/{}/tools", t.agent), other.creds()).await;
        assert_eq!(list.assert_error(404), "Agent not found");
        let create = app.post(&format!("/rest/v1/agents/{}/tools", t.agent), other.body(tool_body("mine"))).await;
        assert_eq!(create.assert_error(404), "Agent not found");
        let mine = app.get(&format!("/rest/v1/tools/{id}"), t.creds()).await;
        assert_eq!(mine.assert_ok()["active"], json!(true));
        let secret = made["secret"].as_str().unwrap();
        assert_eq!(app.store.get_tool(&t.company, &id).await.unwrap().unwrap().secret, secret);
    }
}
