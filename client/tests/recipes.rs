//! The endpoints beyond the public docs (PATCH, upsert, export, stats, bulk)
//! and the recipes built on them.

mod common;

use common::Server;
use futures_util::TryStreamExt;
use performchat_client::{BulkUpdate, Error, Metadata, UserFilter, UserUpdate};
use serde_json::json;

fn object(value: serde_json::Value) -> Metadata {
    value.as_object().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_by_email_and_external_id() {
    let server = Server::start().await;
    let client = server.client();
    let user = server.user("ext_1").await;
    client
        .update_user(&user.id, &UserUpdate::new().email("Find.Me@example.com"))
        .await
        .unwrap();
    let found = client.find_by_email("find.me@EXAMPLE.com").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(user.id.clone()));
    let found = client.find_by_external_id("ext_1").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(user.id));
    assert_eq!(
        client.find_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(client.find_by_external_id("ext_2").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_merges_metadata() {
    let server = Server::start().await;
    let client = server.client();
    let user = server.user("p").await;
    client
        .update_user(
            &user.id,
            &UserUpdate::new().metadata(object(json!({ "a": 1, "b": 2 }))),
        )
        .await
        .unwrap();
    let patched = client
        .patch_user(
            &user.id,
            &UserUpdate::new().metadata(object(json!({ "b": null, "c": 3 }))),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata, object(json!({ "a": 1, "c": 3 })));
    assert!(client
        .patch_user("cu_nope", &UserUpdate::new().active(false))
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_user_creates_then_updates() {
    let server = Server::start().await;
    let client = server.client();
    let first = client
        .sync_user(
            "hook_1",
            &UserUpdate::new().name("Ann").email("ann@example.com"),
        )
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.user.external_id, "hook_1");
    assert_eq!(first.user.last_seen_at, None, "created before any token");

    let second = client
        .upsert_user("hook_1", &UserUpdate::new().name("Ann Lee"))
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(second.user.name.as_deref(), Some("Ann Lee"));
    assert_eq!(second.user.email.as_deref(), Some("ann@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_streams_every_user_in_list_order() {
    let server = Server::start().await;
    let client = server.client();
    for i in 0..120 {
        server.user(&format!("u{i:03}")).await;
    }
    client
        .sync_user("off", &UserUpdate::new().active(false))
        .await
        .unwrap();
    let all: Vec<_> = client
        .export_all_users()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 121);
    let ids: Vec<_> = all.iter().map(|u| u.external_id.as_str()).collect();
    assert_eq!(ids[0], "u000");
    assert_eq!(ids[120], "off");

    let inactive: Vec<_> = client
        .export_users(&UserFilter::new().active(false))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(inactive.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_round_trips_commas_quotes_and_newlines() {
    let server = Server::start().await;
    let client = server.client();
    let names = [
        "Smith, John",
        "Dwayne \"The Rock\" Johnson",
        "Line one\nline two",
        "Carriage\r\nreturn",
        "\"\",,\"",
        "Zoë 🚀",
    ];
    for (i, name) in names.iter().enumerate() {
        client
            .sync_user(
                &format!("csv_{i}"),
                &UserUpdate::new()
                    .name(*name)
                    .metadata(object(json!({ "note": name, "n": i }))),
            )
            .await
            .unwrap();
    }
    client
        .sync_user("nameless", &UserUpdate::new())
        .await
        .unwrap();

    let csv_text = client.export_to_csv().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "external_id",
            "name",
            "email",
            "active",
            "created_at",
            "last_seen_at",
            "metadata"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), names.len() + 1);
    for (row, name) in rows.iter().zip(names) {
        assert_eq!(&row[2], name);
        assert_eq!(&row[4], "true");
        let meta: serde_json::Value = serde_json::from_str(&row[7]).unwrap();
        assert_eq!(meta["note"], json!(name));
    }
    let last = &rows[names.len()];
    assert_eq!((&last[1], &last[2], &last[6]), ("nameless", "", ""));
    assert!(csv_text.contains("\r\n"), "RFC 4180 line ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_on_the_server() {
    let server = Server::start().await;
    let client = server.client();
    server.user("seen_1").await;
    server.user("seen_2").await;
    client
        .sync_user("never_seen", &UserUpdate::new().active(false))
        .await
        .unwrap();
    let stats = client.activity_stats().await.unwrap();
    assert_eq!(
        (stats.total, stats.active, stats.last_day, stats.last_week),
        (3, 2, 2, 2)
    );
    assert_eq!(client.user_stats().await.unwrap(), stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_updates_report_per_item() {
    let server = Server::start().await;
    let client = server.client();
    server.user("b1").await;
    let results = client
        .bulk_update(&[
            BulkUpdate::new("b1").metadata_merge(object(json!({ "plan": "gold" }))),
            BulkUpdate::new("missing"),
            BulkUpdate::new("b2").create(true),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].success);
    assert_eq!(
        results[0].user.as_ref().unwrap().metadata["plan"],
        json!("gold")
    );
    assert!(!results[1].success);
    assert!(results[1].error.is_some());
    assert!(results[2].success);
    assert_eq!(results[2].created, Some(true));

    let err = client.bulk_update(&[]).await.unwrap_err();
    assert!(
        matches!(err, Error::Validation { status: 400, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_merge_keeps_other_keys_and_batches_by_1000() {
    let server = Server::start().await;
    let client = server.client();
    let user = server.user("keep").await;
    client
        .update_user(
            &user.id,
            &UserUpdate::new().metadata(object(json!({ "seats": 5 }))),
        )
        .await
        .unwrap();
    let mut ids: Vec<String> = (0..1001).map(|i| format!("absent_{i}")).collect();
    ids.push("keep".into());
    let results = client.bulk_update_plan(&ids, "enterprise").await.unwrap();
    assert_eq!(results.len(), 1002);
    assert_eq!(results.iter().filter(|r| r.success).count(), 1);
    let kept = client.get_user(&user.id).await.unwrap();
    assert_eq!(
        kept.metadata,
        object(json!({ "seats": 5, "plan": "enterprise" }))
    );
}
