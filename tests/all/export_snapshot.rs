//! The export's bytes against a reference: rows paged through the store's
//! `export_users` and written by the `csv` crate and serde_json, exactly as
//! the export wrote them before it wrote rows itself. The export reads one
//! snapshot in one statement, on a connection of its own (on SQLite, on a
//! thread of its own too); these tests also check what that promises: later
//! writes stay out, and on SQLite a client that leaves releases the database.

use crate::harness;

use std::str::FromStr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tower::ServiceExt;

use harness::{Tenant, TestApp};
use performchat::domain::{format_ms, Metadata};
use performchat::store::{Backend, ExportRow, ExportUser, UserFilter, UserRecipes};

/// Names, emails and stored metadata that CSV must quote, JSON must escape,
/// or that another writer may have stored in a form serde_json would not write.
const NAMES: [Option<&str>; 9] = [
    Some("Doe, \"Jr\"\nsecond line 😀\r\nthird"),
    None,
    Some(""),
    Some("plain"),
    Some("tab\there \\ back\u{1}ctl\u{1f}"),
    Some(","),
    Some("\""),
    Some("Zoë Müller 東京 \u{7f} \u{2028}"),
    Some("\r"),
];
const EMAILS: [Option<&str>; 3] = [None, Some("a@example.com"), Some("q\"uote,@x")];
const METADATA: [&str; 5] = [
    "{}",
    r#"{"plan":"pro"}"#,
    r#"{"z":1,"a":[1.5,"x,y\"\n"],"n":{"b":null,"a":true}}"#,
    r#"{"f":1e3,"u":"\u00e9\t","big":12345678901234567890}"#,
    r#"{"s":"a,b\"c\n","neg":-0.25}"#,
];

/// `n` awkward users inserted straight into the table, with shared
/// timestamps (order falls to the id) and a few outside chrono's plain years.
async fn seed(app: &TestApp, t: &Tenant, n: usize) {
    let text =
        |v: Option<&str>| v.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")));
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let name = NAMES[i % NAMES.len()];
            let email = EMAILS[i % EMAILS.len()];
            let created = match i % 97 {
                0 => 253_402_300_800_000 + i as i64, // year 10000
                1 => -86_400_123 - i as i64,         // 1969
                _ => 1_700_000_000_000 + (i / 4) as i64,
            };
            format!(
                "('{}', 'cu_x{:05}', {}, {}, {}, {}, {}, {}, {}, 0, {created}, {}, {})",
                t.company,
                (i * 7919) % 100_000,
                text(Some(&format!("ext,\"{i}\""))),
                text(name),
                text(name.map(str::to_lowercase).as_deref()),
                text(email),
                text(email.map(str::to_lowercase).as_deref()),
                text(Some(METADATA[i % METADATA.len()])),
                if i % 4 != 0 { "TRUE" } else { "FALSE" },
                created + 5,
                if i % 2 == 0 {
                    (created + 7).to_string()
                } else {
                    "NULL".into()
                },
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO customer_users (company_id, id, external_id, name, name_folded, email, \
         email_folded, metadata, active, token_version, created_at, updated_at, last_seen_at) VALUES {}",
        rows.join(", ")
    );
    app.db.execute(&sql).await;
}

/// The user object the users endpoints write (`UserView`), field for field.
#[derive(Serialize)]
struct View {
    id: String,
    external_id: String,
    name: Option<String>,
    email: Option<String>,
    metadata: serde_json::Value,
    active: bool,
    created_at: String,
    updated_at: String,
    last_seen_at: Option<String>,
}

/// The export as it was written before: `export_users` in keyset batches of
/// 500, each batch through the `csv` crate or serde_json.
async fn reference(app: &TestApp, t: &Tenant, filter: &UserFilter, csv: bool) -> Vec<u8> {
    let mut rows: Vec<ExportRow> = Vec::new();
    loop {
        let after = rows.last().map(|r| (r.created_at, r.id.as_str()));
        let batch = app
            .store
            .export_users(&t.company, filter, after, 500)
            .await
            .unwrap();
        let done = batch.len() < 500;
        rows.extend(batch);
        if done {
            break;
        }
    }
    if !csv {
        let mut out = Vec::new();
        for u in rows {
            let view = View {
                metadata: Metadata::from_stored(&u.metadata).into_value(),
                id: u.id,
                external_id: u.external_id,
                name: u.name,
                email: u.email,
                active: u.active,
                created_at: format_ms(u.created_at),
                updated_at: format_ms(u.updated_at),
                last_seen_at: u.last_seen_at.map(format_ms),
            };
            serde_json::to_writer(&mut out, &view).unwrap();
            out.push(b'\n');
        }
        return out;
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record([
        "id",
        "external_id",
        "name",
        "email",
        "active",
        "created_at",
        "last_seen_at",
        "metadata",
    ])
    .unwrap();
    for u in rows {
        w.write_record([
            u.id.as_str(),
            &u.external_id,
            u.name.as_deref().unwrap_or_default(),
            u.email.as_deref().unwrap_or_default(),
            if u.active { "true" } else { "false" },
            &format_ms(u.created_at),
            &u.last_seen_at.map(format_ms).unwrap_or_default(),
            &u.metadata,
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

fn request(uri: &str, t: &Tenant) -> Request<Body> {
    Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(t.creds().to_string()))
        .unwrap()
}

async fn export(app: &TestApp, uri: &str, t: &Tenant) -> Vec<u8> {
    let res = app.router.clone().oneshot(request(uri, t)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn nothing(_: &ExportUser<'_>, _: &mut Vec<u8>) {}

backend_tests! {
    async fn export_bytes_are_those_of_the_paged_reference(app) {
        let t = app.tenant("Acme").await;
        seed(&app, &t, 10_000).await;
        // Both take the one-statement path: SQLite on a file, PostgreSQL.
        let snapshot = app.store.export_chunks(&t.company, &UserFilter::default(), nothing).await.unwrap();
        assert!(snapshot.is_some());
        drop(snapshot);

        let inactive = UserFilter { active: Some(false), ..UserFilter::default() };
        for (query, filter) in [("", UserFilter::default()), ("&active=false", inactive)] {
            for (format, csv) in [("csv", true), ("ndjson", false)] {
                // The reference writes cells as stored: compare the raw CSV
                // (the formula guard has tests of its own, csv_formulas.rs).
                let raw = if csv { "&csv_formulas=raw" } else { "" };
                let uri = format!("/rest/v1/customer-users/export?format={format}{raw}{query}");
                let got = export(&app, &uri, &t).await;
                let want = reference(&app, &t, &filter, csv).await;
                assert!(want.len() > 2 * 65_536, "several chunks and batches: {} bytes", want.len());
                assert!(got == want, "{uri}: {} bytes, want {}; first difference at byte {:?}",
                    got.len(), want.len(), got.iter().zip(&want).position(|(a, b)| a != b));
            }
        }
    }
}

async fn sqlite_app_with_users(n: usize) -> (TestApp, Tenant) {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    seed(&app, &t, n).await;
    (app, t)
}

backend_tests! {
    async fn export_is_one_snapshot(app) {
        let t = app.tenant("Acme").await;
        seed(&app, &t, 20_000).await;
        let res = app
            .router
            .clone()
            .oneshot(request("/rest/v1/customer-users/export", &t))
            .await
            .unwrap();
        let mut body = res.into_body();
        let mut bytes = body
            .frame()
            .await
            .unwrap()
            .unwrap()
            .into_data()
            .unwrap()
            .to_vec();
        // Created now, so last in list order: a paged read would still reach it.
        app.token(&t, "arrived-during-the-export").await;
        while let Some(frame) = body.frame().await {
            bytes.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("arrived-during-the-export"));
        let records = csv::Reader::from_reader(text.as_bytes()).records().count();
        assert_eq!(records, 20_000);
        let after = export(&app, "/rest/v1/customer-users/export", &t).await;
        assert!(String::from_utf8(after)
            .unwrap()
            .contains("arrived-during-the-export"));
    }
}

/// Whether a checkpoint could reset the WAL, which it cannot while any read
/// transaction still holds an older snapshot.
async fn wal_resets(app: &TestApp) -> bool {
    let mut conn = SqliteConnectOptions::from_str(&app.db.url)
        .unwrap()
        .busy_timeout(Duration::ZERO)
        .connect()
        .await
        .unwrap();
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    busy == 0
}

/// An export of `t`'s users whose first chunk has been read.
async fn export_under_way(app: &TestApp, t: &Tenant) -> Body {
    let res = app
        .router
        .clone()
        .oneshot(request("/rest/v1/customer-users/export", t))
        .await
        .unwrap();
    let mut body = res.into_body();
    assert!(body.frame().await.unwrap().unwrap().is_data());
    body
}

/// Waits, within a bound, for `released` to hold once an export's client left.
async fn released_within_5s<F: std::future::Future<Output = bool>>(
    what: &str,
    mut released: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !released().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_export_left_by_its_client_releases_the_database() {
    let (app, t) = sqlite_app_with_users(20_000).await;
    let body = export_under_way(&app, &t).await;
    // A write after the export's snapshot: the WAL now holds a frame the
    // export must not see, so it cannot be reset under the export.
    app.token(&t, "written-after").await;
    assert!(
        !wal_resets(&app).await,
        "the export holds its snapshot while the client reads"
    );
    drop(body);
    released_within_5s(
        "the export still holds the database after its client left",
        || wal_resets(&app),
    )
    .await;
}

/// The test database's connections that belong to an export.
async fn export_connections(url: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'performchat export'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn postgres_export_left_by_its_client_closes_its_connection() {
    let app = TestApp::new(Backend::Postgres).await;
    let t = app.tenant("Acme").await;
    seed(&app, &t, 20_000).await;
    let body = export_under_way(&app, &t).await;
    assert_eq!(
        export_connections(&app.db.url).await,
        1,
        "the export reads on a connection of its own"
    );
    drop(body);
    released_within_5s(
        "the export's connection is still open after its client left",
        || async { export_connections(&app.db.url).await == 0 },
    )
    .await;
}

/// A second connection to `sqlite::memory:` would be a new, empty database:
/// an in-memory store must leave the export to its own pool.
#[tokio::test]
async fn in_memory_sqlite_exports_through_the_pool() {
    let options = performchat::store::ConnectOptions {
        allow_in_memory: true,
        create: true,
        ..Default::default()
    };
    let store = performchat::store::SqlStore::connect("sqlite::memory:", &options)
        .await
        .unwrap();
    let chunks = store
        .export_chunks("co_none", &UserFilter::default(), nothing)
        .await
        .unwrap();
    assert!(chunks.is_none());
}
