//! The knowledge-base methods against an in-process server: what a caller
//! sends is what the server stores, and the server's refusals come back typed.

mod common;

use common::Server;
use performchat_client::{Error, NewDocument};
use serde_json::json;

const HANDBOOK: &str = "# Delivery handbook\n\nHow parcels travel.\n\n\
    ## Delivery windows\n\nCouriers bring marmalade hampers between eight and noon.\n\n\
    ## Customs\n\nImport duties are paid on arrival.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_documents_are_created_listed_found_and_deleted() {
    let server = Server::start().await;
    let client = server.client();
    let meta = json!({ "lang": "en" }).as_object().unwrap().clone();
    let doc = client
        .create_document(
            &NewDocument::text("Delivery handbook", HANDBOOK)
                .content_type("text/markdown")
                .url("https://help.example/delivery")
                .external_id("delivery")
                .metadata(meta.clone()),
        )
        .await
        .unwrap();
    assert!(doc.id.starts_with("doc_"), "{doc:?}");
    assert_eq!(doc.title, "Delivery handbook");
    assert_eq!(doc.url.as_deref(), Some("https://help.example/delivery"));
    assert_eq!(doc.external_id.as_deref(), Some("delivery"));
    assert_eq!(doc.content_type, "text/markdown");
    assert!(doc.agent_ids.is_empty());
    assert_eq!(doc.metadata, meta);
    assert!(doc.chunk_count >= 1 && doc.chars > 0, "{doc:?}");
    assert_eq!(doc.content, None, "content only comes with get");

    let one = client.get_document(&doc.id).await.unwrap();
    let content = one.content.expect("get gives the extracted text");
    assert!(content.contains("marmalade hampers"), "{content}");
    assert_eq!(one.chars, content.chars().count() as u64);

    let page = client.list_documents(None, 1, 10).await.unwrap();
    assert_eq!(page.pagination.total, 1);
    assert_eq!(page.data[0].id, doc.id);

    let hits = client.search_knowledge("marmalade", None, 5).await.unwrap();
    assert_eq!(hits[0].document_id, doc.id);
    assert_eq!(
        hits[0].url.as_deref(),
        Some("https://help.example/delivery")
    );
    assert!(
        hits[0]
            .heading
            .as_deref()
            .unwrap_or("")
            .contains("Delivery windows"),
        "{hits:?}"
    );
    assert!(hits[0].text.contains("marmalade"));
    let scoped = client
        .search_knowledge("marmalade", Some(&server.agent), 1)
        .await
        .unwrap();
    assert_eq!(scoped.len(), 1);

    client.delete_document(&doc.id).await.unwrap();
    let err = client.get_document(&doc.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(client
        .search_knowledge("marmalade", None, 5)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_creates_then_replaces_under_the_same_id() {
    let server = Server::start().await;
    let client = server.client();
    // A '/' in the external id stays in its path segment.
    let first = client
        .upsert_document(
            "faq/hotline.md",
            &NewDocument::text("Hotline", "Our walrus hotline opens at nine."),
        )
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(
        first.document.external_id.as_deref(),
        Some("faq/hotline.md")
    );
    let second = client
        .upsert_document(
            "faq/hotline.md",
            &NewDocument::text("Hotline v2", "The flamingo desk replaced the phone line."),
        )
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.document.id, first.document.id);
    assert_eq!(second.document.title, "Hotline v2");
    let walrus = client.search_knowledge("walrus", None, 5).await.unwrap();
    assert!(walrus.is_empty(), "old chunks gone: {walrus:?}");
    let flamingo = client.search_knowledge("flamingo", None, 5).await.unwrap();
    assert_eq!(flamingo[0].document_id, first.document.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_uploaded_as_multipart() {
    let server = Server::start().await;
    let client = server.client();
    let md = client
        .create_document(
            &NewDocument::file("Handbook", "handbook.md", HANDBOOK.as_bytes().to_vec())
                .content_type("text/markdown")
                .agent_ids(vec![server.agent.clone()])
                .metadata(json!({ "team": "ops" }).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(md.content_type, "text/markdown");
    assert_eq!(md.agent_ids, vec![server.agent.clone()]);
    assert_eq!(md.metadata["team"], json!("ops"));
    let hits = client
        .search_knowledge("customs duties", Some(&server.agent), 5)
        .await
        .unwrap();
    assert_eq!(hits[0].document_id, md.id);

    // No content type: the server goes by the file name.
    let html =
        b"<html><body><nav>Menu</nav><h1>Loyalty</h1><p>Pomegranate points.</p></body></html>";
    let upserted = client
        .upsert_document(
            "loyalty",
            &NewDocument::file("Loyalty", "loyalty.html", html.to_vec()).url("https://h/l"),
        )
        .await
        .unwrap();
    assert!(upserted.created);
    assert_eq!(upserted.document.content_type, "text/html");
    assert_eq!(upserted.document.external_id.as_deref(), Some("loyalty"));
    let text = client
        .get_document(&upserted.document.id)
        .await
        .unwrap()
        .content
        .unwrap();
    assert!(
        text.contains("Pomegranate points") && !text.contains("<p>"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed() {
    let server = Server::start().await;
    let client = server.client();
    let err = client
        .create_document(&NewDocument::file(
            "Setup",
            "setup.exe",
            vec![0x4d, 0x5a, 0, 0],
        ))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { status: 415, .. }), "{err}");
    let err = client
        .create_document(&NewDocument::text("", "Some text."))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 400, message } if message.contains("title")),
        "{err}"
    );
    let err = client
        .search_knowledge("anything", Some("agent_nope"), 5)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = client
        .search_knowledge("anything", None, 21)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 400, message } if message.contains("limit")),
        "{err}"
    );

    let doc = client
        .create_document(&NewDocument::text("Mine", "Narwhal tusks."))
        .await
        .unwrap();
    let other = server.other_tenant().await;
    let err = other.get_document(&doc.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = other.delete_document(&doc.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(other
        .search_knowledge("narwhal", None, 5)
        .await
        .unwrap()
        .is_empty());

    let reader = server.client_with("knowledge:read").await;
    assert_eq!(
        reader.list_documents(None, 1, 10).await.unwrap().data.len(),
        1
    );
    let err = reader
        .create_document(&NewDocument::text("No", "Denied."))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Unauthorized { .. }), "{err}");
}
