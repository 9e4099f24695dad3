//! `Idempotency-Key` from the client: every write carries a fresh one unless
//! the caller gives their own, which makes a repeated call run once.

mod common;

use common::Server;
use performchat_client::{Error, UserUpdate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_key_makes_a_repeat_run_once() {
    let server = Server::start().await;
    let client = server.client();
    let once = client.with_idempotency_key("signup-1");
    let first = once
        .upsert_user("u1", &UserUpdate::new().name("Ada"))
        .await
        .unwrap();
    assert!(first.created);
    // The user changes; the repeat is the first answer again, and writes nothing.
    client
        .patch_user(&first.user.id, &UserUpdate::new().name("Grace"))
        .await
        .unwrap();
    let again = once
        .upsert_user("u1", &UserUpdate::new().name("Ada"))
        .await
        .unwrap();
    assert!(again.created);
    assert_eq!(again.user.name.as_deref(), Some("Ada"));
    let now = client.get_user(&first.user.id).await.unwrap();
    assert_eq!(now.name.as_deref(), Some("Grace"));
    // The same key for another request is refused by the server.
    let err = once
        .upsert_user("u2", &UserUpdate::new().name("Ada"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 422, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_each_write_runs() {
    let server = Server::start().await;
    let client = server.client();
    let update = UserUpdate::new().name("Ada");
    assert!(client.upsert_user("u1", &update).await.unwrap().created);
    // A fresh key for the second call: it runs, and finds the user made.
    assert!(!client.upsert_user("u1", &update).await.unwrap().created);
}
