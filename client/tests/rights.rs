//! Erasure and the data export through the client (docs/API.md §12).

mod common;

use common::Server;
use futures_util::TryStreamExt;
use performchat_client::TokenRequest;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_exported_then_erased() {
    let server = Server::start().await;
    let client = server.client();
    let issued = client
        .issue_token(&TokenRequest::new("gaff", &server.agent))
        .await
        .unwrap();
    let id = issued.customer_user.id;

    let mut body = client.export_customer_user(&id).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.try_next().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["customer_user"]["id"], Value::String(id.clone()));
    assert_eq!(doc["customer_user"]["external_id"], "gaff");
    assert_eq!(doc["conversations"], serde_json::json!([]));

    let other = server.other_tenant().await;
    let err = other.erase_customer_user(&id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(other
        .export_customer_user(&id)
        .await
        .err()
        .unwrap()
        .is_not_found());

    client.erase_customer_user(&id).await.unwrap();
    assert!(client.get_user(&id).await.unwrap_err().is_not_found());
    let err = client.erase_customer_user(&id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(client.verify_token(&issued.token).await.is_err());
}
