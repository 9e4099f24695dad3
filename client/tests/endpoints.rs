//! Each endpoint method against an in-process server.

mod common;

use common::Server;
use performchat_client::{Client, Error, TokenRequest, UserFilter, UserUpdate};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_needs_no_credentials() {
    let server = Server::start().await;
    let anonymous = Client::new(&server.url, "", "").unwrap();
    assert_eq!(anonymous.health().await.unwrap().status, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_issue_verify_and_invalidate() {
    let server = Server::start().await;
    let client = server.client();
    let issued = client
        .issue_token(&TokenRequest::new("user_1", &server.agent).expires_in("30m"))
        .await
        .unwrap();
    assert_eq!(issued.customer_user.external_id, "user_1");
    assert_eq!(issued.agent.id, server.agent);
    assert_eq!(issued.api_key.id, server.key.0);

    let verified = client.verify_token(&issued.token).await.unwrap();
    assert!(verified.valid);
    assert_eq!(verified.customer_user.id, issued.customer_user.id);

    let gone = client
        .invalidate_tokens(&issued.customer_user.id)
        .await
        .unwrap();
    assert_eq!(gone.new_token_version, 1);
    assert_eq!(gone.customer_user_id, issued.customer_user.id);
    let err = client.verify_token(&issued.token).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { message } if message.contains("invalidated")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_errors_are_typed() {
    let server = Server::start().await;
    let client = server.client();
    let err = client
        .issue_token(&TokenRequest::new("u", &server.agent).expires_in("soon"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 400, .. }),
        "{err}"
    );

    // docs/API.md §2 answers 400 here; the client reports it as not-found.
    let err = client.invalidate_tokens("cu_nope").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_filters_and_pages() {
    let server = Server::start().await;
    let client = server.client();
    for i in 0..5 {
        server.user(&format!("user_{i}")).await;
    }
    let first = server.user("ann").await;
    client
        .update_user(
            &first.id,
            &UserUpdate::new()
                .name("Ann O'Neil, Jr.")
                .email("Ann@Example.com"),
        )
        .await
        .unwrap();

    let page = client.list_users(&UserFilter::new(), 2, 2).await.unwrap();
    assert_eq!(page.pagination.total, 6);
    assert_eq!(page.pagination.total_pages, 3);
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].external_id, "user_2");

    let by_name = client
        .list_users(&UserFilter::new().name("o'neil"), 1, 20)
        .await
        .unwrap();
    assert_eq!(by_name.data.len(), 1);
    let by_both = client
        .list_users(
            &UserFilter::new().email("ann@example.COM").active(true),
            1,
            20,
        )
        .await
        .unwrap();
    assert_eq!(by_both.data[0].id, first.id);
    let none = client
        .list_users(
            &UserFilter::new().email("ann@example.com").active(false),
            1,
            20,
        )
        .await
        .unwrap();
    assert_eq!(none.pagination.total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_and_update() {
    let server = Server::start().await;
    let client = server.client();
    let user = server.user("user_9").await;
    assert_eq!(client.get_user(&user.id).await.unwrap(), user);

    let meta = json!({ "plan": "premium", "seats": 3 });
    let updated = client
        .update_user(
            &user.id,
            &UserUpdate::new()
                .name("Bo")
                .email("bo@example.com")
                .metadata(meta.as_object().unwrap().clone())
                .active(false),
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Bo"));
    assert_eq!(updated.metadata["seats"], json!(3));
    assert!(!updated.active);

    let cleared = client
        .update_user(&user.id, &UserUpdate::new().clear_name().clear_email())
        .await
        .unwrap();
    assert_eq!((cleared.name, cleared.email), (None, None));
    assert_eq!(
        cleared.metadata["plan"],
        json!("premium"),
        "untouched fields stay"
    );

    let err = client
        .update_user(&user.id, &UserUpdate::new().email("not an address"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { message, .. } if message.contains("email")),
        "{err}"
    );
    assert!(client
        .update_user("cu_nope", &UserUpdate::new().name("x"))
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_list_and_get() {
    let server = Server::start().await;
    let client = server.client();
    let page = client.list_agents(1, 10).await.unwrap();
    assert_eq!(page.pagination.total, 1);
    assert_eq!(page.data[0].id, server.agent);
    assert_eq!(page.data[0].prompt_template, None, "only on get-one");
    let agent = client.get_agent(&server.agent).await.unwrap();
    assert_eq!(agent.prompt_template.as_deref(), Some("Be kind."));
    assert!(client
        .get_agent("agent_nope")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_tell_apart_what_went_wrong() {
    let server = Server::start().await;
    let user = server.user("mine").await;

    let wrong = Client::new(&server.url, &server.key.0, "sk_wrong").unwrap();
    let err = wrong.get_user(&user.id).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { message } if message == "Invalid API credentials"),
        "{err}"
    );

    let reader = server.client_with("users:read").await;
    let err = reader
        .update_user(&user.id, &UserUpdate::new().name("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { message } if message == "Insufficient permissions"),
        "{err}"
    );

    // Another company's user looks exactly like a missing one.
    let other = server.other_tenant().await;
    let err = other.get_user(&user.id).await.unwrap_err();
    assert!(matches!(&err, Error::NotFound { message } if message == "Customer user not found"));

    let err = server
        .client()
        .list_users(&UserFilter::new(), 1, 101)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 400, message } if message.contains("limit")),
        "{err}"
    );
    assert_eq!(err.status(), Some(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_with_slashes_stay_one_path_segment() {
    let server = Server::start().await;
    let err = server.client().get_user("../agents/x").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
