//! The knowledge base's documents API: create (JSON and multipart, PDFs
//! included), get, list, upsert, delete, tenancy, and every refusal.

mod common;
#[path = "support/knowledge.rs"]
mod knowledge;

use axum::http::Method;
use serde_json::json;

use knowledge::*;
use performchat::store::TenantStore;

backend_tests! {
    async fn a_markdown_document_is_stored_listed_and_read_back(app) {
        let t = app.tenant("Acme").await;
        let doc = add_doc(&app, &t, json!({
            "title": "Handbook", "content": "# Handbook\n\nIntro.\n\n## Returns\n\nSend it back &amp; smile.",
            "content_type": "text/markdown", "url": "https://help.example/h", "external_id": "h-1",
            "agent_ids": [t.agent], "metadata": {"lang": "en"}
        })).await;
        assert!(doc["id"].as_str().unwrap().starts_with("doc_"));
        for (k, v) in [("title", json!("Handbook")), ("content_type", json!("text/markdown")),
                       ("url", json!("https://help.example/h")), ("external_id", json!("h-1")),
                       ("agent_ids", json!([t.agent])), ("metadata", json!({"lang": "en"})), ("chunk_count", json!(2))] {
            assert_eq!(doc[k], v, "{k}");
        }
        assert!(doc.get("content").is_none(), "content only on get-one");
        let one = app.get(&format!("{DOCS}/{}", id(&doc)), t.creds()).await;
        let text = one.assert_ok()["content"].as_str().unwrap().to_owned();
        assert_eq!(text, "Handbook\n\nIntro.\n\nReturns\n\nSend it back & smile.");
        assert_eq!(one.body["chars"], json!(text.chars().count()));
        let list = app.get(&format!("{DOCS}?limit=1"), t.creds()).await;
        assert_eq!(list.assert_ok()["data"][0]["id"], doc["id"]);
        assert_eq!(list.body["pagination"]["total"], 1);
        let other = app.store.create_agent(&t.company, "Other", None, true, 0).await.unwrap().id;
        let scoped = app.get(&format!("{DOCS}?agent_id={other}"), t.creds()).await;
        assert_eq!(scoped.assert_ok()["data"], json!([]), "scoped to another agent");
        app.get(&format!("{DOCS}?agent_id=agent_nope"), t.creds()).await.assert_error(404);
    }

    async fn upsert_creates_then_replaces_under_the_same_id(app) {
        let t = app.tenant("Acme").await;
        let uri = format!("{DOCS}/by-external-id/faq%2F1");
        let first = app.put(&uri, t.body(json!({"title": "FAQ", "content": "Walrus hotline."}))).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(first.body["external_id"], "faq/1");
        let second = app.put(&uri, t.body(json!({"title": "FAQ 2", "content": "Flamingo desk."}))).await;
        assert_eq!(second.status, 200, "{}", second.text);
        assert_eq!(second.body["id"], first.body["id"]);
        assert_eq!(second.body["created_at"], first.body["created_at"]);
        assert_eq!(found(&app, &t, "walrus").await, Vec::<String>::new());
        assert_eq!(found(&app, &t, "flamingo").await, vec![id(&first.body)]);
        let list = app.get(DOCS, t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], 1);
        let clash = app.put(&uri, t.body(json!({"title": "X", "content": "y", "external_id": "other"}))).await;
        assert!(clash.assert_error(400).contains("external_id"));
    }

    async fn delete_takes_the_chunks_with_it_and_tenants_see_only_their_own(app) {
        let t = app.tenant("Acme").await;
        let b = app.tenant("Globex").await;
        let doc = add_doc(&app, &t, json!({"title": "Lounge", "content": "The capybara lounge."})).await;
        let uri = format!("{DOCS}/{}", id(&doc));
        let missing = app.get(&format!("{DOCS}/doc_nope"), b.creds()).await.assert_error(404).to_owned();
        assert_eq!(app.get(&uri, b.creds()).await.assert_error(404), missing);
        app.call(Method::DELETE, &uri, Some(b.creds())).await.assert_error(404);
        assert_eq!(found(&app, &b, "capybara").await, Vec::<String>::new());
        assert_eq!(app.get(DOCS, b.creds()).await.assert_ok()["data"], json!([]));
        let cross = search(&app, &b, &format!("q=capybara&agent_id={}", t.agent)).await;
        assert_eq!(cross.assert_error(404), "Agent not found");

        assert_eq!(found(&app, &t, "capybara").await, vec![id(&doc)]);
        let gone = app.call(Method::DELETE, &uri, Some(t.creds())).await;
        assert_eq!(gone.status, 204, "{}", gone.text);
        assert_eq!(found(&app, &t, "capybara").await, Vec::<String>::new());
        app.get(&uri, t.creds()).await.assert_error(404);
        app.call(Method::DELETE, &uri, Some(t.creds())).await.assert_error(404);
    }

    async fn every_field_is_checked_and_named(app) {
        let t = app.tenant("Acme").await;
        let base = json!({"title": "Valid", "content": "Llamas hum."});
        for (change, name) in [
            (json!({"title": ""}), "title"), (json!({"title": "é".repeat(301)}), "title"),
            (json!({"url": "ftp://x.example/a"}), "url"), (json!({"url": "not a url"}), "url"),
            (json!({"metadata": [1]}), "metadata"), (json!({"agent_ids": "everyone"}), "agent_ids"),
            (json!({"agent_ids": ["agent_unknown"]}), "agent_ids"), (json!({"colour": "red"}), "colour"),
            (json!({"external_id": ""}), "external_id"), (json!({"content": 5}), "content"),
        ] {
            let mut body = base.clone();
            body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
            let r = app.post(DOCS, t.body(body)).await;
            assert!(r.assert_error(400).contains(name), "{name}: {}", r.text);
        }
        let r = app.post(DOCS, t.body(json!({"title": "No content"}))).await;
        assert!(r.assert_error(400).contains("content"));
        add_doc(&app, &t, json!({"title": "é".repeat(300), "content": "ok"})).await;
        add_doc(&app, &t, json!({"title": "Dup", "content": "a", "external_id": "dup"})).await;
        app.post(DOCS, t.body(json!({"title": "Dup", "content": "b", "external_id": "dup"}))).await.assert_error(409);
        let r = app.post(DOCS, t.body(json!({"title": "W", "content": "x", "content_type": "application/msword"}))).await;
        r.assert_error(415);
        let r = app.post(DOCS, t.body(json!({"title": "H", "content_type": "text/html",
            "content": "<script>var a;</script><nav>Home</nav>"}))).await;
        r.assert_error(422);
        assert_eq!(app.get(DOCS, t.creds()).await.assert_ok()["pagination"]["total"], 2, "nothing stored when refused");
    }

    async fn bodies_may_be_20_mib_on_create_only(app) {
        let t = app.tenant("Acme").await;
        let big = "word ".repeat(600_000); // 3 MB: over 1 MiB and over JSON content's 2 MiB
        let r = app.post(DOCS, t.body(json!({"title": "Big", "content": big}))).await;
        assert!(r.assert_error(413).contains("content"), "{}", r.text);
        let huge = "x".repeat(21 * 1024 * 1024);
        app.post(DOCS, t.body(json!({"title": "Huge", "content": huge}))).await.assert_error(413);
        let other = app.post("/rest/v1/customer-users/bulk", t.body(json!({"updates": [], "pad": "x".repeat(1_100_000)}))).await;
        other.assert_error(413);
        let ok = app.post(DOCS, t.body(json!({"title": "Large", "content": "word ".repeat(300_000)}))).await;
        assert_eq!(ok.status, 201, "{}", &ok.text[..ok.text.len().min(300)]);
    }

    async fn multipart_uploads_take_pdfs_html_and_form_credentials(app) {
        let t = app.tenant("Acme").await;
        let pdf = make_pdf(&["Returns guide", "Our quixotic gizmos ship from Lisbon."]);
        let req = multipart(DOCS, "POST", ("guide.pdf", &pdf, "application/pdf"),
            &[("title", "Guide"), ("agent_ids", &format!(" {} ", t.agent)), ("metadata", "{\"v\":1}")], Some(&t.key));
        let r = app.send(req).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["content_type"], "application/pdf");
        assert_eq!(r.body["agent_ids"], json!([t.agent]));
        assert_eq!(r.body["metadata"], json!({"v": 1}));
        assert_eq!(found(&app, &t, "gizmos").await, vec![id(&r.body)]);

        // Credentials as form fields; the type from the extension.
        let html = b"<html><body><nav>Sidebar</nav><h1>Fees</h1><p>No hidden fees.</p></body></html>";
        let req = multipart(DOCS, "POST", ("fees.html", html, "application/octet-stream"),
            &[("title", "Fees"), ("keyId", &t.key.0), ("keySecret", &t.key.1)], None);
        let r = app.send(req).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["content_type"], "text/html");
        assert_eq!(found(&app, &t, "sidebar").await, Vec::<String>::new());

        let scan = make_pdf(&[]);
        let r = app.send(multipart(DOCS, "POST", ("scan.pdf", &scan, "application/pdf"), &[("title", "Scan")], Some(&t.key))).await;
        assert_eq!(r.assert_error(422), "PDF has no text layer");
        let r = app.send(multipart(DOCS, "POST", ("setup.exe", b"MZ", "application/x-msdownload"), &[("title", "X")], Some(&t.key))).await;
        r.assert_error(415);
        let r = app.send(multipart(DOCS, "POST", ("a.txt", b"hi", "text/plain"), &[("title", "X")], None)).await;
        assert_eq!(r.assert_error(401), "Missing API credentials");
        let r = app.send(multipart(DOCS, "POST", ("a.txt", b"hi", "text/plain"), &[("title", "X"), ("colour", "red")], Some(&t.key))).await;
        assert!(r.assert_error(400).contains("colour"));
        let put = format!("{DOCS}/by-external-id/guide");
        let r = app.send(multipart(&put, "PUT", ("g.md", b"# G\n\nText.", "text/markdown"), &[("title", "G")], Some(&t.key))).await;
        assert_eq!((r.status.as_u16(), r.body["external_id"].clone()), (201, json!("guide")), "{}", r.text);
    }

    async fn knowledge_routes_need_their_permissions(app) {
        let t = app.tenant("Acme").await;
        let reader = app.key(&t.company, Some("knowledge:read"), None).await;
        let writer = app.key(&t.company, Some("knowledge:write"), None).await;
        let body = json!({"title": "W", "content": "Wombats."});
        let r = app.post(DOCS, common::with_creds(&reader, body.clone())).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        assert_eq!(app.post(DOCS, common::with_creds(&writer, body)).await.status, 201);
        let r = app.get("/rest/v1/knowledge/search?q=wombat", common::with_creds(&writer, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
        app.get("/rest/v1/knowledge/search?q=wombat", common::with_creds(&reader, json!({}))).await.assert_ok();
    }
}
