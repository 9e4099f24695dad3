//! docs/API.md §4.5, export: every user, in list order, streamed in batches, as
//! RFC 4180 CSV or NDJSON, with the list's filters and tenancy.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{Tenant, TestApp};
use performchat::domain::format_ms;

const HEADER: &str = "id,external_id,name,email,active,created_at,last_seen_at,metadata";

/// One seeded row, as the export should show it.
#[derive(Clone)]
struct Row {
    id: String,
    external_id: String,
    name: Option<String>,
    email: Option<String>,
    active: bool,
    created_at: i64,
    last_seen_at: Option<i64>,
    metadata: Value,
}

fn sql_text(v: Option<&str>) -> String {
    v.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

/// `n` users inserted straight into the table (the API would take minutes),
/// with names that need CSV quoting, shared timestamps (so order falls to
/// the id) and ids that do not follow insertion order.
async fn seed(app: &TestApp, t: &Tenant, n: usize) -> Vec<Row> {
    let base = 1_700_000_000_000_i64;
    let rows: Vec<Row> = (0..n)
        .map(|i| Row {
            id: format!("cu_x{:05}", (i * 7919) % 100_000),
            external_id: format!("ext-{i}"),
            name: match i % 5 {
                0 => Some(format!("Doe, \"Jr\" {i}\nsecond line 😀\r\nthird")),
                1 => None,
                _ => Some(format!("User {i}")),
            },
            email: (i % 3 == 0).then(|| format!("u{i}@example.com")),
            active: i % 4 != 0,
            created_at: base + (i / 3) as i64,
            last_seen_at: (i % 2 == 0).then_some(base + i as i64),
            metadata: json!({ "i": i, "s": "a,b\"c\n" }),
        })
        .collect();
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                let fold =
                    |s: &Option<String>| sql_text(s.as_deref().map(str::to_lowercase).as_deref());
                format!(
                    "('{}', '{}', '{}', {}, {}, {}, {}, {}, {}, 0, {}, {}, {})",
                    t.company,
                    r.id,
                    r.external_id,
                    sql_text(r.name.as_deref()),
                    fold(&r.name),
                    sql_text(r.email.as_deref()),
                    fold(&r.email),
                    sql_text(Some(&r.metadata.to_string())),
                    if r.active { "TRUE" } else { "FALSE" },
                    r.created_at,
                    r.created_at,
                    r.last_seen_at.map_or("NULL".into(), |v| v.to_string()),
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO customer_users (company_id, id, external_id, name, name_folded, email, \
             email_folded, metadata, active, token_version, created_at, updated_at, last_seen_at) VALUES {}",
            values.join(", ")
        );
        app.db.execute(&sql).await;
    }
    let mut rows = rows;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    rows
}

/// The export read frame by frame: status, content type, frames, text.
async fn export(app: &TestApp, uri: &str, body: Value) -> (StatusCode, String, usize, String) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let mut body = res.into_body();
    let (mut frames, mut bytes) = (0, Vec::new());
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            frames += 1;
            bytes.extend_from_slice(&data);
        }
    }
    (status, ctype, frames, String::from_utf8(bytes).unwrap())
}

fn csv_fields(r: &Row) -> Vec<String> {
    vec![
        r.id.clone(),
        r.external_id.clone(),
        r.name.clone().unwrap_or_default(),
        r.email.clone().unwrap_or_default(),
        r.active.to_string(),
        format_ms(r.created_at),
        r.last_seen_at.map(format_ms).unwrap_or_default(),
        r.metadata.to_string(),
    ]
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

backend_tests! {
    async fn csv_export_has_every_user_in_order_with_rfc4180_quoting(app) {
        let t = app.tenant("Acme").await;
        let rows = seed(&app, &t, 10_000).await;
        let (status, ctype, frames, text) = export(&app, "/rest/v1/customer-users/export", t.creds()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ctype, "text/csv; charset=utf-8");
        assert!(frames >= 20, "streamed in batches, got {frames} frame(s)");
        assert!(text.starts_with(&format!("{HEADER}\r\n")), "header and CRLF");
        assert!(text.contains("\"Doe, \"\"Jr\"\" 0\nsecond line 😀\r\nthird\""), "quoted, quotes doubled");
        assert!(text.contains(",User 2,"), "plain fields are not quoted");
        let records = parse_csv(&text);
        assert_eq!(records[0], HEADER.split(',').collect::<Vec<_>>());
        assert_eq!(records.len(), rows.len() + 1);
        for (record, row) in records[1..].iter().zip(&rows) {
            assert_eq!(record, &csv_fields(row));
        }
    }

    async fn ndjson_export_lines_are_full_users(app) {
        let t = app.tenant("Acme").await;
        let rows = seed(&app, &t, 1_203).await;
        let (status, ctype, _, text) = export(&app, "/rest/v1/customer-users/export?format=ndjson", t.creds()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ctype, "application/x-ndjson");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), rows.len());
        let first_page = app.get("/rest/v1/customer-users?limit=100", t.creds()).await;
        assert_eq!(&lines[..100], first_page.assert_ok()["data"].as_array().unwrap().as_slice());
        for (line, row) in lines.iter().zip(&rows) {
            assert_eq!(line["id"], json!(row.id));
            assert_eq!(line["name"], json!(row.name));
            assert_eq!(line["metadata"], row.metadata);
            assert_eq!(line.as_object().unwrap().len(), 9, "full user object: {line}");
        }
    }

    async fn export_applies_filters_and_tenancy(app) {
        let t = app.tenant("Acme").await;
        let rows = seed(&app, &t, 600).await;
        let other = app.tenant("Other").await;
        app.token(&other, "theirs").await;
        // The body's `active` wins over the query's; the query's `name` applies.
        let (_, _, _, text) = export(&app, "/rest/v1/customer-users/export?active=true&name=doe%2C",
            t.body(json!({ "active": false }))).await;
        let expected: Vec<Vec<String>> = rows.iter()
            .filter(|r| !r.active && r.name.as_deref().is_some_and(|n| n.contains("Doe,")))
            .map(csv_fields)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(parse_csv(&text)[1..], expected[..]);
        let (_, _, _, theirs) = export(&app, "/rest/v1/customer-users/export?format=ndjson", other.creds()).await;
        assert_eq!(theirs.lines().count(), 1, "only the other company's own user");
        assert!(theirs.contains("\"theirs\""));
        let (_, _, _, none) = export(&app, "/rest/v1/customer-users/export?external_id=nobody", t.creds()).await;
        assert_eq!(none, format!("{HEADER}\r\n"));
    }

    async fn export_errors_come_before_the_stream(app) {
        let t = app.tenant("Acme").await;
        for (uri, body, field) in [
            ("/rest/v1/customer-users/export?format=xml", t.creds(), "format"),
            ("/rest/v1/customer-users/export?page=2", t.creds(), "page"),
            ("/rest/v1/customer-users/export", t.body(json!({ "externalId": "x" })), "externalId"),
            ("/rest/v1/customer-users/export", t.body(json!({ "name": null })), "name"),
            ("/rest/v1/customer-users/export?active=maybe", t.creds(), "active"),
        ] {
            let r = app.get(uri, body).await;
            assert!(r.assert_error(400).contains(field), "{uri}: {}", r.text);
        }
        let writer = app.key(&t.company, Some("users:write"), None).await;
        let r = app.get("/rest/v1/customer-users/export", common::with_creds(&writer, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }

    async fn database_error_mid_stream_aborts_the_body(app) {
        let t = app.tenant("Acme").await;
        // Enough that the export is still being read when the store closes.
        seed(&app, &t, 20_000).await;
        let req = Request::builder()
            .method(Method::GET)
            .uri("/rest/v1/customer-users/export")
            .header("content-type", "application/json")
            .body(Body::from(t.creds().to_string()))
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut body = res.into_body();
        let first = body.frame().await.expect("first batch").expect("first batch reads");
        assert!(first.into_data().is_ok());
        app.store.close().await;
        let mut failed = false;
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the body must end in an error, not look complete");
    }
}
