//! A first pass through the main flow on each backend.

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

    async fn database_outage_answers_503_not_500(app) {
        let t = app.tenant("Acme").await;
        app.call(axum::http::Method::GET, "/health", None).await.assert_ok();
        app.store.close().await;
        app.call(axum::http::Method::GET, "/health", None).await.assert_error(503);
        app.get("/rest/v1/customer-users", t.creds()).await.assert_error(503);
        app.post("/rest/v1/auth/token", t.body(json!({ "userId": "u", "agentId": t.agent }))).await.assert_error(503);
    }
}
