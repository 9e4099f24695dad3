//! docs/API.md §4.4 and §4.5: PATCH merge, upsert by external id, stats, bulk update,
//! and the routes they share with `/customer-users/{id}`. Export has its own file.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{Tenant, TestApp};
use performchat::domain::now_ms;
use performchat::store::Backend;

/// Sends a request on its own task, so concurrent calls really overlap.
fn spawn_call(
    router: &Router,
    method: Method,
    uri: String,
    body: Value,
) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let router = router.clone();
    tokio::spawn(async move {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

async fn patch(app: &TestApp, t: &Tenant, id: &str, fields: Value) -> common::Reply {
    app.call(
        Method::PATCH,
        &format!("/rest/v1/customer-users/{id}"),
        Some(t.body(fields)),
    )
    .await
}

async fn user_id(app: &TestApp, t: &Tenant, external_id: &str) -> String {
    app.token(t, external_id).await["customerUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs one statement on the test database, behind the API's back.
async fn raw_sql(app: &TestApp, sql: &str) {
    match app.db.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

backend_tests! {
    async fn concurrent_patches_of_different_keys_all_survive(app) {
        let t = app.tenant("Acme").await;
        let id = user_id(&app, &t, "merge").await;
        patch(&app, &t, &id, json!({ "metadata": { "plan": "free", "drop": true } })).await.assert_ok();
        let calls: Vec<_> = (0..24)
            .map(|i| {
                let body = t.body(json!({ "metadata": { format!("k{i}"): i } }));
                spawn_call(&app.router, Method::PATCH, format!("/rest/v1/customer-users/{id}"), body)
            })
            .collect();
        for call in calls {
            let (status, body) = call.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let r = patch(&app, &t, &id, json!({ "metadata": { "drop": null, "plan": "pro" } })).await;
        let md = r.assert_ok()["metadata"].clone();
        for i in 0..24 {
            assert_eq!(md[format!("k{i}")], json!(i), "merge k{i} was lost: {md}");
        }
        assert_eq!(md["plan"], json!("pro"));
        assert!(md.get("drop").is_none(), "null removes a key: {md}");
    }

    async fn patch_follows_merge_patch_and_put_field_rules(app) {
        let t = app.tenant("Acme").await;
        let id = user_id(&app, &t, "p").await;
        let base = json!({ "metadata": { "a": { "b": 1, "c": 2 }, "list": [1, 2] }, "name": "Ann" });
        patch(&app, &t, &id, base).await.assert_ok();
        let r = patch(&app, &t, &id, json!({ "metadata": { "a": { "c": null, "d": 3 }, "list": [3] }, "email": "ann@example.com" })).await;
        let user = r.assert_ok();
        assert_eq!(user["metadata"], json!({ "a": { "b": 1, "d": 3 }, "list": [3] }));
        assert_eq!(user["name"], json!("Ann"), "fields left out are unchanged");
        assert_eq!(user["email"], json!("ann@example.com"));
        let r = patch(&app, &t, &id, json!({ "name": null, "active": false })).await;
        assert_eq!(r.assert_ok()["name"], Value::Null);
        assert_eq!(r.body["active"], json!(false));
        assert_eq!(r.body["metadata"]["a"]["b"], json!(1), "no metadata, no change");
    }

    async fn patch_refuses_bad_bodies_and_oversized_merges(app) {
        let t = app.tenant("Acme").await;
        let id = user_id(&app, &t, "p").await;
        let big = "x".repeat(10_000);
        patch(&app, &t, &id, json!({ "metadata": { "a": big } })).await.assert_ok();
        let r = patch(&app, &t, &id, json!({ "metadata": { "b": big }, "name": "Changed" })).await;
        assert!(r.assert_error(400).contains("metadata"), "{}", r.text);
        let mut deep = json!(1);
        for _ in 0..9 {
            deep = json!({ "d": deep });
        }
        let r = patch(&app, &t, &id, json!({ "metadata": deep })).await;
        assert!(r.assert_error(400).contains("deep"), "{}", r.text);
        let stored = app.get(&format!("/rest/v1/customer-users/{id}"), t.creds()).await;
        assert_eq!(stored.assert_ok()["metadata"], json!({ "a": big }), "nothing written");
        assert_eq!(stored.body["name"], Value::Null, "nothing written");
        for (body, field) in [
            (json!({ "metadata": null }), "metadata"),
            (json!({ "metadata": [1] }), "metadata"),
            (json!({ "external_id": "x" }), "external_id"),
            (json!({ "nmae": "x" }), "nmae"),
            (json!({ "email": "nope" }), "email"),
            (json!({ "active": "yes" }), "active"),
        ] {
            let r = patch(&app, &t, &id, body).await;
            assert!(r.assert_error(400).contains(field), "{}", r.text);
        }
        let other = app.tenant("Other").await;
        patch(&app, &other, &id, json!({ "name": "x" })).await.assert_error(404);
        patch(&app, &t, "cu_missing", json!({ "metadata": { "a": 1 } })).await.assert_error(404);
        let reader = app.key(&t.company, Some("users:read"), None).await;
        let r = app.call(Method::PATCH, &format!("/rest/v1/customer-users/{id}"),
            Some(common::with_creds(&reader, json!({ "name": "x" })))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }

    async fn upsert_creates_then_updates_and_token_finds_it(app) {
        let t = app.tenant("Acme").await;
        let url = "/rest/v1/customer-users/by-external-id/sync-1";
        let r1 = app.put(url, t.body(json!({ "name": "Synced", "metadata": { "plan": "trial" } }))).await;
        assert_eq!(r1.status, StatusCode::CREATED, "{}", r1.text);
        assert_eq!(r1.body["external_id"], json!("sync-1"));
        assert_eq!(r1.body["last_seen_at"], Value::Null, "not seen before its first token");
        let r2 = app.put(url, t.body(json!({ "email": "s@example.com", "metadata": { "plan": "pro" } }))).await;
        let u = r2.assert_ok();
        assert_eq!(u["id"], r1.body["id"]);
        assert_eq!(u["name"], json!("Synced"), "fields left out are unchanged");
        assert_eq!(u["metadata"], json!({ "plan": "pro" }), "metadata replaces, as PUT");
        assert_eq!(user_id(&app, &t, "sync-1").await, r1.body["id"].as_str().unwrap());
        let other = app.tenant("Other").await;
        let r3 = app.put(url, other.body(json!({}))).await;
        assert_eq!(r3.status, StatusCode::CREATED, "another company's id is its own");
        assert_ne!(r3.body["id"], r1.body["id"]);
        let long = format!("/rest/v1/customer-users/by-external-id/{}", "x".repeat(256));
        assert!(app.put(&long, t.creds()).await.assert_error(400).contains("external_id"));
        let r = app.put(url, t.body(json!({ "external_id": "y" }))).await;
        assert!(r.assert_error(400).contains("external_id"));
        let r = app.put(url, t.body(json!({ "metadata": null }))).await;
        assert!(r.assert_error(400).contains("metadata"));
    }

    async fn concurrent_upserts_create_exactly_one_user(app) {
        let t = app.tenant("Acme").await;
        let calls: Vec<_> = (0..16)
            .map(|i| {
                let body = t.body(json!({ "metadata": { "n": i } }));
                spawn_call(&app.router, Method::PUT, "/rest/v1/customer-users/by-external-id/race".into(), body)
            })
            .collect();
        let mut created = 0;
        let mut ids = std::collections::HashSet::new();
        for call in calls {
            let (status, body) = call.await.unwrap();
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{status} {body}");
            created += usize::from(status == StatusCode::CREATED);
            ids.insert(body["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(created, 1, "exactly one 201");
        assert_eq!(ids.len(), 1, "one user: {ids:?}");
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(1));
    }

    async fn stats_count_activity_windows(app) {
        let t = app.tenant("Acme").await;
        for name in ["a", "b", "c", "d"] {
            user_id(&app, &t, name).await;
        }
        app.put("/rest/v1/customer-users/by-external-id/never", t.body(json!({ "active": false }))).await;
        let now = now_ms();
        let day = 86_400_000;
        raw_sql(&app, &format!("UPDATE customer_users SET last_seen_at = {} WHERE external_id = 'b'", now - 3 * day)).await;
        raw_sql(&app, &format!("UPDATE customer_users SET last_seen_at = {} WHERE external_id = 'c'", now - 10 * day)).await;
        raw_sql(&app, &format!("UPDATE customer_users SET last_seen_at = {}, active = FALSE WHERE external_id = 'd'", now - day - 60_000)).await;
        let r = app.get("/rest/v1/customer-users/stats", t.creds()).await;
        assert_eq!(r.assert_ok(), &json!({ "total": 5, "active": 3, "last_day": 1, "last_week": 3 }));
        let other = app.tenant("Other").await;
        let r = app.get("/rest/v1/customer-users/stats", other.creds()).await;
        assert_eq!(r.assert_ok(), &json!({ "total": 0, "active": 0, "last_day": 0, "last_week": 0 }));
        let r = app.get("/rest/v1/customer-users/stats?limit=5", t.creds()).await;
        assert!(r.assert_error(400).contains("limit"));
        let writer = app.key(&t.company, Some("users:write"), None).await;
        let r = app.get("/rest/v1/customer-users/stats", common::with_creds(&writer, json!({}))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }

    async fn bulk_reports_each_item_in_order(app) {
        let t = app.tenant("Acme").await;
        for name in ["b0", "b1"] {
            user_id(&app, &t, name).await;
        }
        let big = "x".repeat(10_000);
        app.put("/rest/v1/customer-users/by-external-id/full", t.body(json!({ "metadata": { "a": big } }))).await;
        let updates = json!([
            { "external_id": "b0", "metadata_merge": { "plan": "enterprise" }, "name": "B Zero" },
            { "external_id": "missing", "metadata_merge": { "plan": "enterprise" } },
            { "external_id": "b1", "email": "bad" },
            { "external_id": "b1", "metadata_merge": { "plan": "enterprise" }, "active": false },
            "not an object",
            { "external_id": "b1", "colour": "red" },
            { "external_id": "new", "create": true, "metadata_merge": { "plan": "trial", "x": null } },
            { "external_id": "b0", "create": true, "metadata_merge": { "seats": 3 } },
            { "external_id": "full", "metadata_merge": { "b": big } },
            { "metadata_merge": {} },
        ]);
        let r = app.post("/rest/v1/customer-users/bulk", t.body(json!({ "updates": updates }))).await;
        let res = r.assert_ok()["results"].as_array().unwrap().clone();
        let success: Vec<bool> = res.iter().map(|x| x["success"].as_bool().unwrap()).collect();
        assert_eq!(success, [true, false, false, true, false, false, true, true, false, false], "{res:#?}");
        let ext: Vec<&Value> = res.iter().map(|x| &x["external_id"]).collect();
        assert_eq!(ext[..4], [&json!("b0"), &json!("missing"), &json!("b1"), &json!("b1")]);
        assert_eq!(res[0]["user"]["metadata"], json!({ "plan": "enterprise" }));
        assert_eq!(res[0]["user"]["name"], json!("B Zero"));
        assert_eq!(res[0]["created"], json!(false));
        assert_eq!(res[1]["error"], json!("User not found"));
        assert!(res[2]["error"].as_str().unwrap().contains("email"));
        assert!(res[2].get("user").is_none());
        assert_eq!(res[3]["user"]["active"], json!(false));
        assert!(res[4]["error"].as_str().unwrap().contains("object"));
        assert!(res[5]["error"].as_str().unwrap().contains("colour"));
        assert_eq!(res[6]["created"], json!(true));
        assert_eq!(res[6]["user"]["metadata"], json!({ "plan": "trial" }));
        assert_eq!(res[7]["created"], json!(false), "create on an existing user merges");
        assert_eq!(res[7]["user"]["metadata"], json!({ "plan": "enterprise", "seats": 3 }));
        assert!(res[8]["error"].as_str().unwrap().contains("metadata"));
        assert!(res[9]["error"].as_str().unwrap().contains("external_id"));
        let full = app.get("/rest/v1/customer-users?external_id=full", t.creds()).await;
        assert_eq!(full.assert_ok()["data"][0]["metadata"], json!({ "a": big }), "nothing written");
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(4), "only `new` was created");
        let other = app.tenant("Other").await;
        let r = app.post("/rest/v1/customer-users/bulk",
            other.body(json!({ "updates": [{ "external_id": "b0", "name": "Stolen" }] }))).await;
        assert_eq!(r.assert_ok()["results"][0]["error"], json!("User not found"), "another company's user");
    }

    async fn bulk_refuses_bad_lists_and_weak_keys(app) {
        let t = app.tenant("Acme").await;
        let item = json!({ "external_id": "a" });
        let too_many = Value::Array(vec![item.clone(); 1001]);
        for body in [json!({ "updates": [] }), json!({ "updates": too_many }), json!({}),
                     json!({ "updates": item }), json!({ "updates": null })] {
            let r = app.post("/rest/v1/customer-users/bulk", t.body(body)).await;
            assert!(r.assert_error(400).contains("updates"), "{}", r.text);
        }
        let r = app.post("/rest/v1/customer-users/bulk", t.body(json!({ "updates": [item], "extra": 1 }))).await;
        assert!(r.assert_error(400).contains("extra"));
        let full = Value::Array(vec![json!({ "external_id": "a", "create": true }); 1000]);
        let r = app.post("/rest/v1/customer-users/bulk", t.body(json!({ "updates": full }))).await;
        assert_eq!(r.assert_ok()["results"].as_array().unwrap().len(), 1000);
        let reader = app.key(&t.company, Some("users:read"), None).await;
        let r = app.post("/rest/v1/customer-users/bulk",
            common::with_creds(&reader, json!({ "updates": [{ "external_id": "a" }] }))).await;
        assert_eq!(r.assert_error(401), "Insufficient permissions");
    }

    async fn recipe_routes_are_not_taken_for_user_ids(app) {
        let t = app.tenant("Acme").await;
        for (method, path) in [
            (Method::PUT, "/rest/v1/customer-users/export"),
            (Method::POST, "/rest/v1/customer-users/stats"),
            (Method::GET, "/rest/v1/customer-users/bulk"),
            (Method::GET, "/rest/v1/customer-users/by-external-id/x"),
            (Method::PATCH, "/rest/v1/v1/customer-users/stats"),
        ] {
            app.call(method, path, Some(t.creds())).await.assert_error(405);
        }
        let r = app.get("/rest/v1/v1/customer-users/stats", t.creds()).await;
        assert_eq!(r.assert_ok()["total"], json!(0), "the doubled prefix serves recipes too");
        let doc = app.get("/rest/v1/openapi.json", json!({})).await;
        let paths = &doc.assert_ok()["paths"];
        for p in ["export", "stats", "bulk", "by-external-id/{external_id}"] {
            assert!(paths.get(format!("/rest/v1/customer-users/{p}")).is_some(), "OpenAPI lacks {p}");
        }
        assert!(paths["/rest/v1/customer-users/{id}"].get("patch").is_some());
    }
}
