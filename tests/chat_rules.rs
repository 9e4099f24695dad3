//! The chat API's guards (docs/API.md §6, §8): bearer tokens only and checked first,
//! invalidation, isolation between users, agents and companies, validation,
//! paging with `before`, and CORS on the chat routes only.

#[path = "support/chat.rs"]
mod chat;
mod common;

use axum::http::{Method, Request};
use serde_json::json;

use chat::*;
use performchat::domain::now_ms;
use performchat::store::TenantStore;

backend_tests! {
    async fn only_a_valid_bearer_chat_token_opens_the_chat(app) {
        let t = app.tenant("Acme").await;
        let (token, user) = chat_token(&app, &t, &t.agent, "u1").await;
        let r = app.call(Method::GET, "/rest/v1/chat/session", None).await;
        assert_eq!(r.assert_error(401), "Missing chat token");
        // An API key is not a chat token, in any of its places.
        let basic = Request::get("/rest/v1/chat/session")
            .header("authorization", "Basic cGtfeDpza194")
            .body(axum::body::Body::empty()).unwrap();
        assert_eq!(app.send(basic).await.assert_error(401), "Missing chat token");
        assert_eq!(app.get("/rest/v1/chat/session", t.creds()).await.assert_error(401), "Missing chat token");
        let in_query = format!("/rest/v1/chat/session?token={token}");
        assert_eq!(app.call(Method::GET, &in_query, None).await.assert_error(401), "Missing chat token");
        let in_body = app.post("/rest/v1/chat/conversations", json!({ "token": token })).await;
        assert_eq!(in_body.assert_error(401), "Missing chat token");
        assert_eq!(chat_get(&app, "not-a-token", "/rest/v1/chat/session").await.assert_error(401), "Invalid token");
        // Authentication comes first, whatever else is wrong.
        let bad = app.post("/rest/v1/chat/conversations/conv_x/messages?x=1", json!({ "content": 5 })).await;
        assert_eq!(bad.assert_error(401), "Missing chat token");

        let s = chat_get(&app, &token, "/rest/v1/chat/session").await;
        let s = s.assert_ok();
        assert_eq!(s["customerUser"]["id"], json!(user));
        assert_eq!(s["customerUser"]["external_id"], "u1");
        assert_eq!(s["agent"]["id"], json!(t.agent));
        assert!(s["expiresAt"].as_str().unwrap().ends_with('Z'));
    }

    async fn invalidation_or_a_retired_agent_ends_a_live_chat(app) {
        let t = app.tenant("Acme").await;
        let (token, user) = chat_token(&app, &t, &t.agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        let r = app.post("/rest/v1/auth/invalidate-token", t.body(json!({ "customerUserId": user }))).await;
        r.assert_ok();
        assert_eq!(chat_get(&app, &token, "/rest/v1/chat/session").await.assert_error(401), "Token has been invalidated");
        assert_eq!(say(&app, &token, &conv, "hi").await.assert_error(401), "Token has been invalidated");

        let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
        assert_eq!(say(&app, &token, &conv, "hi").await.status, 201);
        app.store.set_agent_active(&t.company, &t.agent, false, now_ms()).await.unwrap();
        assert_eq!(say(&app, &token, &conv, "hi").await.assert_error(401), "Agent not found or inactive");
        app.store.set_agent_active(&t.company, &t.agent, true, now_ms()).await.unwrap();
        app.store.set_company_active(&t.company, false).await.unwrap();
        assert_eq!(chat_get(&app, &token, "/rest/v1/chat/session").await.assert_error(401), "Company is inactive");
    }

    async fn no_one_sees_another_users_agents_or_companys_conversation(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Globex").await;
        let second_agent = app.store.create_agent(&t.company, "Sales", None, true, now_ms()).await.unwrap().id;
        let (x, x_id) = chat_token(&app, &t, &t.agent, "x").await;
        let (y, _) = chat_token(&app, &t, &t.agent, "y").await;
        let (x_sales, _) = chat_token(&app, &t, &second_agent, "x").await;
        let conv = new_conversation(&app, &x, json!({})).await;
        assert_eq!(say(&app, &x, &conv, "private").await.status, 201);
        for token in [&y, &x_sales] {
            assert_eq!(chat_get(&app, token, &messages_uri(&conv)).await.assert_error(404), "Conversation not found");
            assert_eq!(say(&app, token, &conv, "let me in").await.assert_error(404), "Conversation not found");
            let listed = chat_get(&app, token, "/rest/v1/chat/conversations").await;
            assert_eq!(listed.assert_ok()["data"], json!([]));
        }
        let mine = chat_get(&app, &x, "/rest/v1/chat/conversations").await;
        assert_eq!(mine.assert_ok()["data"][0]["id"], json!(conv));

        for path in [format!("/rest/v1/conversations/{conv}"), format!("/rest/v1/conversations/{conv}/messages")] {
            assert_eq!(app.get(&path, other.creds()).await.assert_error(404), "Conversation not found");
            app.get(&path, t.creds()).await.assert_ok();
        }
        let all = app.get("/rest/v1/conversations", other.creds()).await;
        assert_eq!(all.assert_ok()["pagination"]["total"], 0);
        let by_user = app.get(&format!("/rest/v1/conversations?customer_user_id={x_id}"), t.creds()).await;
        assert_eq!(by_user.assert_ok()["data"].as_array().unwrap().len(), 1);
        let in_body = app.get("/rest/v1/conversations", t.body(json!({ "customer_user_id": "cu_nobody" }))).await;
        assert_eq!(in_body.assert_ok()["pagination"]["total"], 0);
        let m = app.get(&format!("/rest/v1/conversations/{conv}/messages"), t.creds()).await;
        let m = m.assert_ok();
        assert_eq!(m["conversation"]["id"], json!(conv));
        assert_eq!(m["data"].as_array().unwrap().len(), 2);
        assert_eq!(m["pagination"]["limit"], 50);
        let key = app.key(&t.company, Some("users:read"), None).await;
        let denied = app.get("/rest/v1/conversations", common::with_creds(&key, json!({}))).await;
        assert_eq!(denied.assert_error(401), "Insufficient permissions");
    }

    async fn refused_messages_are_validated_and_store_nothing(app) {
        let t = app.tenant("Acme").await;
        let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        for bad in [json!({ "content": "" }), json!({ "content": " \n\t " }), json!({ "content": "x".repeat(8001) }),
                    json!({ "content": 5 }), json!({}), json!({ "content": "hi", "role": "system" }),
                    json!({ "content": "a\u{0}b" })] {
            let r = chat_post(&app, &token, &messages_uri(&conv), bad.clone()).await;
            r.assert_error(400);
        }
        assert_eq!(say(&app, &token, "conv_nope", "hello").await.assert_error(404), "Conversation not found");
        assert!(history(&app, &token, &conv).await.is_empty());
        for bad in [json!({ "title": "" }), json!({ "title": "x".repeat(201) }), json!({ "title": 3 }), json!({ "topic": "x" })] {
            chat_post(&app, &token, "/rest/v1/chat/conversations", bad).await.assert_error(400);
        }
        let listed = chat_get(&app, &token, "/rest/v1/chat/conversations").await;
        assert_eq!(listed.assert_ok()["pagination"]["total"], 1);
        chat_get(&app, &token, "/rest/v1/chat/conversations?limit=0").await.assert_error(400);
        chat_get(&app, &token, &format!("{}?before=msg_unknown", messages_uri(&conv))).await.assert_error(400);
        chat_get(&app, &token, &format!("{}?page=2", messages_uri(&conv))).await.assert_error(400);
    }

    async fn history_pages_backwards_with_before(app) {
        let t = app.tenant("Acme").await;
        let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
        let conv = new_conversation(&app, &token, json!({})).await;
        for i in 0..3 {
            assert_eq!(say(&app, &token, &conv, &format!("q{i}")).await.status, 201);
        }
        let page = chat_get(&app, &token, &format!("{}?limit=4", messages_uri(&conv))).await;
        let page = page.assert_ok().clone();
        let data = page["data"].as_array().unwrap();
        assert_eq!(page["has_more"], true);
        let contents: Vec<&str> = data.iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(contents[0], "q1");
        assert_eq!(contents[2], "q2");
        let before = data[0]["id"].as_str().unwrap();
        let older = chat_get(&app, &token, &format!("{}?limit=4&before={before}", messages_uri(&conv))).await;
        let older = older.assert_ok();
        assert_eq!(older["has_more"], false);
        let contents: Vec<&str> = older["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(contents.len(), 2);
        assert_eq!(contents[0], "q0");
        // The company side pages from the oldest, with the total.
        let company = app.get(&format!("/rest/v1/conversations/{conv}/messages?limit=2&page=3"), t.creds()).await;
        let company = company.assert_ok();
        assert_eq!(company["pagination"]["total"], 6);
        assert_eq!(company["data"][0]["content"], "q2");
        // Newest first on the chat side's conversation list.
        let newer = new_conversation(&app, &token, json!({ "title": "Later" })).await;
        let listed = chat_get(&app, &token, "/rest/v1/chat/conversations").await;
        let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [newer.as_str(), conv.as_str()]);
        assert_eq!(say(&app, &token, &conv, "bump").await.status, 201);
        let listed = chat_get(&app, &token, "/rest/v1/chat/conversations").await;
        assert_eq!(listed.body["data"][0]["id"], json!(conv));
    }

    async fn cors_answers_on_the_chat_routes_only(app) {
        let t = app.tenant("Acme").await;
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/rest/v1/chat/conversations/conv_x/messages")
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .body(axum::body::Body::empty()).unwrap();
        let r = app.send(preflight).await;
        assert!(r.status.is_success(), "{}", r.status);
        assert_eq!(r.headers["access-control-allow-origin"], "*");
        let allowed = r.headers["access-control-allow-headers"].to_str().unwrap().to_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
        let (token, _) = chat_token(&app, &t, &t.agent, "u1").await;
        let mut req = bearer(Method::GET, "/rest/v1/chat/session", &token, None, false);
        req.headers_mut().insert("origin", "https://shop.example".parse().unwrap());
        let r = app.send(req).await;
        let exposed = r.headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
        assert!(exposed.contains("retry-after") && exposed.contains("ratelimit-remaining"), "{exposed}");
        let mut req = Request::get("/rest/v1/customer-users")
            .header("origin", "https://shop.example")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(t.creds().to_string())).unwrap();
        req.headers_mut().insert("x-probe", "1".parse().unwrap());
        let r = app.send(req).await;
        assert_eq!(r.status, 200);
        assert!(!r.headers.contains_key("access-control-allow-origin"));
    }
}
