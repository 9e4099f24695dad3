//! A customer user's data export (docs/API.md §12.2): one JSON document with
//! the user as GET shows them and every conversation with every message as
//! the company's transcript shows them, as an attachment, with `users:read`,
//! in the key's company only; paging inside the stream loses nothing.

use crate::harness;
use crate::harness::chat;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};

fn export_uri(user: &str) -> String {
    format!("/rest/v1/customer-users/{user}/data-export")
}

/// Every message of a conversation through the company's transcript.
async fn transcript(app: &TestApp, t: &Tenant, conv: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let r = app
            .get(
                &format!("/rest/v1/conversations/{conv}/messages?limit=100&page={page}"),
                t.creds(),
            )
            .await;
        let data = r.assert_ok()["data"].as_array().unwrap().clone();
        if data.is_empty() {
            return out;
        }
        out.extend(data);
    }
    out
}

backend_tests! {
    async fn the_export_holds_the_user_and_every_conversation_with_its_messages(app) {
        let t = app.tenant("Tyrell").await;
        let (token, user) = chat::chat_token(&app, &t, &t.agent, "leon").await;
        let first = chat::new_conversation(&app, &token, json!({})).await;
        for said in ["Where is my parcel?", "It was due on Monday."] {
            assert_eq!(chat::say(&app, &token, &first, said).await.status, 201);
        }
        let second = chat::new_conversation(&app, &token, json!({ "title": "Second topic" })).await;
        assert_eq!(chat::say(&app, &token, &second, "Can I change my address?").await.status, 201);
        let put = app.put(&format!("/rest/v1/customer-users/{user}"),
            t.body(json!({ "name": "Leon Kowalski", "metadata": { "tier": "b" } }))).await;
        put.assert_ok();
        // Another user's conversation stays out of it.
        let (other, _) = chat::chat_token(&app, &t, &t.agent, "roy").await;
        chat::new_conversation(&app, &other, json!({ "title": "not Leon's" })).await;

        let r = app.get(&export_uri(&user), t.creds()).await;
        let doc = r.assert_ok();
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["content-disposition"],
            format!("attachment; filename=\"customer-user-{user}.json\"").as_str());
        assert_eq!(r.headers["cache-control"], "no-store");
        assert!(doc["exported_at"].as_str().unwrap().ends_with('Z'));
        let shown = app.get(&format!("/rest/v1/customer-users/{user}"), t.creds()).await;
        assert_eq!(doc["customer_user"], *shown.assert_ok());
        assert_eq!(doc["customer_user"]["name"], json!("Leon Kowalski"));

        let conversations = doc["conversations"].as_array().unwrap();
        assert_eq!(conversations.len(), 2, "{doc}");
        for (exported, id) in conversations.iter().zip([&first, &second]) {
            let mut view = app.get(&format!("/rest/v1/conversations/{id}"), t.creds()).await.assert_ok().clone();
            view["messages"] = Value::Array(transcript(&app, &t, id).await);
            assert_eq!(*exported, view);
        }
        let messages = conversations[0]["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[0]["content"], json!("Where is my parcel?"));
        // Replies carry their sources (none here), as in the transcript.
        assert_eq!(messages[1]["sources"], json!([]));
        assert!(messages[0].get("sources").is_none());
    }

    async fn the_export_needs_users_read_and_stays_in_the_keys_company(app) {
        let t = app.tenant("Tyrell").await;
        let other = app.tenant("Wallace").await;
        let user = app.token(&t, "leon").await["customerUser"]["id"].as_str().unwrap().to_owned();
        let writer = app.key(&t.company, Some("users:write"), None).await;
        let r = app.get(&export_uri(&user), json!({ "keyId": writer.0, "keySecret": writer.1 })).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        let foreign = app.get(&export_uri(&user), other.creds()).await;
        let missing = app.get(&export_uri("cu_doesnotexist"), t.creds()).await;
        assert_eq!(foreign.assert_error(404), missing.assert_error(404));
        app.get(&export_uri("cu_%00"), t.creds()).await.assert_error(404);
        // A user without conversations exports an empty list.
        let r = app.get(&export_uri(&user), t.creds()).await;
        assert_eq!(r.assert_ok()["conversations"], json!([]));
    }

    async fn a_long_history_is_exported_whole_across_pages(app) {
        let t = app.tenant("Tyrell").await;
        let (token, user) = chat::chat_token(&app, &t, &t.agent, "sapper").await;
        let conv = chat::new_conversation(&app, &token, json!({})).await;
        // More conversations and messages than one page of either, written
        // behind the API's back, some sharing a timestamp (the id orders them).
        let conversations: Vec<String> = (0..130).map(|i| format!(
            "('{}', 'conv_bulk{i:04}', '{user}', '{}', 'Topic {i}', 0, {}, {})",
            t.company, t.agent, 1_000 + i / 2, 1_000 + i / 2)).collect();
        app.db.execute(&format!("INSERT INTO conversations (company_id, id, customer_user_id, agent_id, \
            title, message_count, created_at, updated_at) VALUES {}", conversations.join(", "))).await;
        let messages: Vec<String> = (0..1_234).map(|i| format!(
            "('{}', 'msg_bulk{i:05}', '{conv}', 'user', 'line {i}', {})", t.company, 2_000 + i / 3)).collect();
        app.db.execute(&format!("INSERT INTO messages (company_id, id, conversation_id, role, content, \
            created_at) VALUES {}", messages.join(", "))).await;

        let r = app.get(&export_uri(&user), t.creds()).await;
        let doc = r.assert_ok();
        let exported = doc["conversations"].as_array().unwrap();
        let ids: Vec<&str> = exported.iter().map(|c| c["id"].as_str().unwrap()).collect();
        let mut want: Vec<String> = (0..130).map(|i| format!("conv_bulk{i:04}")).collect();
        want.push(conv.clone());
        assert_eq!(ids, want);
        let lines: Vec<&str> = exported[130]["messages"].as_array().unwrap().iter()
            .map(|m| m["content"].as_str().unwrap()).collect();
        let want: Vec<String> = (0..1_234).map(|i| format!("line {i}")).collect();
        assert_eq!(lines, want);
        assert!(exported[..130].iter().all(|c| c["messages"] == json!([])));
    }
}
