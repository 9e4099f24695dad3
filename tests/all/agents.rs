//! Agents, read-only over the API.

use chrono::{DateTime, Utc};
use performchat::domain::now_ms;
use performchat::store::TenantStore;
use serde_json::{json, Value};

const AGENTS: &str = "/rest/v1/agents";

fn ts(v: &Value) -> DateTime<Utc> {
    let text = v.as_str().expect("timestamp string");
    assert!(text.ends_with('Z'), "{text}");
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

backend_tests! {
    async fn list_includes_inactive_agents_without_templates(app) {
        let t = app.tenant("Acme").await;
        let r = app.get(AGENTS, t.creds()).await;
        assert_eq!(r.headers["content-type"], "application/json");
        let body = r.assert_ok();
        assert_eq!(body["pagination"], json!({ "page": 1, "limit": 20, "total": 2, "total_pages": 1 }));
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        let by_id = |id: &str| data.iter().find(|a| a["id"] == json!(id)).unwrap_or_else(|| panic!("{id} listed"));
        let active = by_id(&t.agent);
        assert_eq!(active["name"], json!("Acme Support"));
        assert_eq!(active["active"], json!(true));
        let inactive = by_id(&t.inactive_agent);
        assert_eq!(inactive["name"], json!("Acme Retired"));
        assert_eq!(inactive["active"], json!(false));
        for agent in data {
            assert!(agent["id"].as_str().unwrap().starts_with("agent_"));
            let mut keys: Vec<&str> = agent.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["active", "created_at", "id", "name", "updated_at"], "no prompt_template in lists");
            ts(&agent["created_at"]);
            ts(&agent["updated_at"]);
        }
    }

    async fn list_pages_in_creation_order(app) {
        let t = app.tenant("Acme").await;
        for i in 0..5 {
            app.store.create_agent(&t.company, &format!("Extra {i}"), None, i % 2 == 0, now_ms()).await.unwrap();
        }
        let all = app.get(&format!("{AGENTS}?limit=100"), t.creds()).await;
        let all = all.assert_ok()["data"].as_array().unwrap().clone();
        assert_eq!(all.len(), 7);
        for pair in all.windows(2) {
            let key = |a: &Value| (ts(&a["created_at"]), a["id"].as_str().unwrap().to_owned());
            assert!(key(&pair[0]) < key(&pair[1]));
        }
        let mut paged = Vec::new();
        for page in 1..=3 {
            let r = app.get(&format!("{AGENTS}?page={page}&limit=3"), t.creds()).await;
            let body = r.assert_ok();
            assert_eq!(body["pagination"], json!({ "page": page, "limit": 3, "total": 7, "total_pages": 3 }));
            paged.extend(body["data"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(paged, all);
        let r = app.get(&format!("{AGENTS}?page=4&limit=3"), t.creds()).await;
        assert_eq!(r.assert_ok()["data"], json!([]));
        assert_eq!(r.body["pagination"]["total"], json!(7));

        for bad in ["limit=0", "limit=101", "page=0", "page=abc", "active=true", "name=x"] {
            let r = app.get(&format!("{AGENTS}?{bad}"), t.creds()).await;
            r.assert_error(400);
        }
        let r = app.get(AGENTS, t.body(json!({ "active": true }))).await;
        assert!(r.assert_error(400).contains("active"), "{}", r.text);
    }

    async fn list_is_per_company(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let r = app.get(AGENTS, t.creds()).await;
        let ids: Vec<&Value> = r.assert_ok()["data"].as_array().unwrap().iter().map(|a| &a["id"]).collect();
        assert!(!ids.contains(&&json!(other.agent)));
        assert!(!ids.contains(&&json!(other.inactive_agent)));
        assert_eq!(r.body["pagination"]["total"], json!(2));
    }

    async fn get_one_includes_the_prompt_template(app) {
        let t = app.tenant("Acme").await;
        let r = app.get(&format!("{AGENTS}/{}", t.agent), t.creds()).await;
        let agent = r.assert_ok();
        assert_eq!(agent["id"], json!(t.agent));
        assert_eq!(agent["name"], json!("Acme Support"));
        assert_eq!(agent["active"], json!(true));
        assert_eq!(agent["prompt_template"], json!("You are helpful."));
        ts(&agent["created_at"]);
        ts(&agent["updated_at"]);

        let r = app.get(&format!("{AGENTS}/{}", t.inactive_agent), t.creds()).await;
        let agent = r.assert_ok();
        assert_eq!(agent["active"], json!(false));
        assert_eq!(agent["prompt_template"], Value::Null);
        assert!(agent.as_object().unwrap().contains_key("prompt_template"));

        let alias = app.get(&format!("/rest/v1/v1/agents/{}", t.agent), t.creds()).await;
        assert_eq!(alias.assert_ok()["id"], json!(t.agent));
    }

    async fn unknown_and_foreign_agents_are_the_same_404(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let a = app.get(&format!("{AGENTS}/{}", other.agent), t.creds()).await;
        let b = app.get(&format!("{AGENTS}/agent_01ARZ3NDEKTSV4RRFFQ69G5FAV"), t.creds()).await;
        assert_eq!(a.assert_error(404), "Agent not found");
        assert_eq!(a.text, b.text);
        b.assert_error(404);
    }
}
