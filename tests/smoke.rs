//! A first pass through the main flow on each backend.

mod common;

use serde_json::json;

backend_tests! {
    async fn token_then_list_then_update(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("cu_"));

        let list = app.get("/rest/v1/customer-users", t.creds()).await;
        assert_eq!(list.assert_ok()["pagination"]["total"], json!(1));

        let put = app.put(&format!("/rest/v1/customer-users/{id}"), t.body(json!({ "name": "Ann" }))).await;
        assert_eq!(put.assert_ok()["name"], json!("Ann"));
    }

    async fn real_port_serves_and_shuts_down(app) {
        let served = app.serve().await;
        let health = reqwest::get(served.url("/health")).await.unwrap();
        assert_eq!(health.status(), 200);
        served.shutdown().await.unwrap();
    }

    async fn health_is_503_when_the_database_is_gone(app) {
        app.call(axum::http::Method::GET, "/health", None).await.assert_ok();
        app.store.close().await;
        let r = app.call(axum::http::Method::GET, "/health", None).await;
        r.assert_error(503);
    }
}
