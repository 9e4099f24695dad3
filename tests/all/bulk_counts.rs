//! Bulk create in one statement keeps each item's result what it would be on
//! its own, and the stats counts kept by triggers stay exact whatever writes
//! the users (token, upsert, bulk, PUT, PATCH, SQL behind the API's back).

use crate::harness;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::store::Backend;

/// The stats endpoint's totals, and the same counted row by row.
async fn totals(app: &TestApp, t: &Tenant) -> ((i64, i64), (i64, i64)) {
    let r = app.get("/rest/v1/customer-users/stats", t.creds()).await;
    let stats = r.assert_ok();
    let kept = (
        stats["total"].as_i64().unwrap(),
        stats["active"].as_i64().unwrap(),
    );
    let sql = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN active THEN 1 ELSE 0 END), 0) \
               FROM customer_users WHERE company_id = $1";
    let counted: (i64, i64) = match app.db.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
            let row = sqlx::query_as(sql)
                .bind(&t.company)
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            row
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
            let row = sqlx::query_as(sql)
                .bind(&t.company)
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            row
        }
    };
    (kept, counted)
}

backend_tests! {
    async fn items_naming_one_user_apply_in_request_order(app) {
        let t = app.tenant("Acme").await;
        let res = app.bulk(&t, json!([
            { "external_id": "late", "name": "Before" },
            { "external_id": "late", "create": true, "name": "Created" },
            { "external_id": "twice", "create": true, "name": "First", "metadata_merge": { "a": 1 } },
            { "external_id": "twice", "create": true, "name": "Second", "metadata_merge": { "b": 2 } },
            { "external_id": "inactive", "create": true, "active": false },
        ])).await;
        assert_eq!(res[0]["error"], json!("User not found"), "{res:#?}");
        assert_eq!(res[1]["created"], json!(true));
        assert_eq!(res[1]["user"]["name"], json!("Created"));
        assert_eq!(res[2]["created"], json!(true));
        assert_eq!(res[3]["created"], json!(false), "the second create merges into the first");
        assert_eq!(res[3]["user"]["name"], json!("Second"));
        assert_eq!(res[3]["user"]["metadata"], json!({ "a": 1, "b": 2 }));
        assert_eq!(res[3]["user"]["id"], res[2]["user"]["id"]);
        assert_eq!(res[4]["user"]["active"], json!(false));
        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(3));
    }

    async fn stats_counts_stay_exact_through_every_kind_of_write(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        app.token(&t, "by-token").await;
        app.token(&other, "elsewhere").await;
        let created = app.put("/rest/v1/customer-users/by-external-id/upserted", t.body(json!({ "active": false }))).await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text);
        app.put("/rest/v1/customer-users/by-external-id/upserted", t.body(json!({ "name": "Again" }))).await.assert_ok();
        let items: Vec<Value> = (0..300)
            .map(|i| json!({ "external_id": format!("bulk-{}", i % 250), "create": true, "active": i % 3 != 0 }))
            .collect();
        app.bulk(&t, Value::Array(items)).await;
        assert_eq!(totals(&app, &t).await, ((252, 168), (252, 168)));
        let id = app.token(&t, "by-token").await["customerUser"]["id"].as_str().unwrap().to_owned();
        let uri = format!("/rest/v1/customer-users/{id}");
        for active in [false, false, true, false] {
            let r = app.call(axum::http::Method::PATCH, &uri, Some(t.body(json!({ "active": active })))).await;
            r.assert_ok();
        }
        app.put(&uri, t.body(json!({ "active": true }))).await.assert_ok();
        let (kept, counted) = totals(&app, &t).await;
        assert_eq!(kept, counted);
        assert_eq!(totals(&app, &other).await, ((1, 1), (1, 1)));
    }
}
