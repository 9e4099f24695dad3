//! `/metrics` on its own address, counting requests, rate-limit refusals,
//! chat streams and model calls as they happen, and `X-Request-Id` accepted
//! or generated, answered back and logged.

use crate::harness;
use crate::harness::fake_model;
use crate::harness::nodes;

use serde_json::json;

use fake_model::FakeModel;
use harness::TestDb;
use nodes::{cli, free_port, CliTenant, Node};
use performchat::store::Backend;

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listener_counts_requests_by_route_and_status() {
    let db = TestDb::new(Backend::Sqlite).await;
    let tenant = CliTenant::create(&db.url, "Measured");
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let node = Node::start_with(&db.url, &["--metrics-listen", &metrics_addr]).await;
    let client = reqwest::Client::new();
    let scrape = || async {
        let res = client
            .get(format!("http://{metrics_addr}/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(res.status(), 200);
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/plain"), "{kind}");
        res.text().await.unwrap()
    };
    let ok = r#"http_requests_total{method="GET",route="/rest/v1/agents",status="200"}"#;
    let denied = r#"http_requests_total{method="GET",route="/rest/v1/agents",status="401"}"#;
    let unmatched = r#"http_requests_total{method="GET",route="unmatched",status="404"}"#;
    // A route with a parameter is counted under its template, also when
    // the method is not one it answers.
    let one_user =
        r#"http_requests_total{method="GET",route="/rest/v1/customer-users/{id}",status="404"}"#;
    let no_method =
        r#"http_requests_total{method="POST",route="/rest/v1/customer-users/{id}",status="405"}"#;

    let before = scrape().await;
    for _ in 0..3 {
        let (status, body) = node.get("/rest/v1/agents", &tenant.key).await;
        assert_eq!(status, 200, "{body}");
    }
    let wrong = (tenant.key.0.clone(), "not-the-secret".to_owned());
    let (status, _) = node.get("/rest/v1/agents", &wrong).await;
    assert_eq!(status, 401);
    let (status, _) = node.get("/no/such/path/42", &tenant.key).await;
    assert_eq!(status, 404);
    let (status, body) = node
        .get("/rest/v1/customer-users/cu_nobody", &tenant.key)
        .await;
    assert_eq!(status, 404, "{body}");
    let wrong_method = client
        .post(format!("{}/rest/v1/customer-users/cu_nobody", node.base))
        .send()
        .await
        .expect("post");
    assert_eq!(wrong_method.status(), 405);
    let after = scrape().await;

    assert_eq!(sample(&after, ok) - sample(&before, ok), 3.0, "{after}");
    assert_eq!(
        sample(&after, denied) - sample(&before, denied),
        1.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, unmatched) - sample(&before, unmatched),
        1.0,
        "{after}"
    );
    for series in [one_user, no_method] {
        assert_eq!(
            sample(&after, series) - sample(&before, series),
            1.0,
            "{series}: {after}"
        );
    }
    assert!(
        !after.contains("cu_nobody"),
        "raw paths must not become labels: {after}"
    );
    assert!(
        !after.contains("/no/such/path"),
        "raw paths must not become labels: {after}"
    );
    let count = r#"http_request_duration_seconds_count{method="GET",route="/rest/v1/agents"}"#;
    assert!(sample(&after, count) >= 4.0, "{after}");
    assert!(
        after.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/rest/v1/agents",le="0.005"}"#),
        "{after}"
    );
    for pool in ["read", "write"] {
        let open = format!(r#"db_pool_connections_open{{pool="{pool}"}}"#);
        assert!(sample(&after, &open) >= 1.0, "{pool} pool: {after}");
        let max = format!(r#"db_pool_connections_max{{pool="{pool}"}}"#);
        assert!(sample(&after, &max) >= 1.0, "{pool} pool: {after}");
    }

    // Never on the API's own port.
    let (status, _) = node.get("/metrics", &tenant.key).await;
    assert_eq!(status, 404);
}

async fn scrape(client: &reqwest::Client, addr: &str) -> String {
    let res = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_refusals_open_streams_and_model_calls() {
    let db = TestDb::new(Backend::Sqlite).await;
    let tenant = CliTenant::create(&db.url, "Chatty");
    let model = FakeModel::start().await;
    let broken = cli(
        &db.url,
        &[
            "agent",
            "create",
            "--company",
            &tenant.company,
            "--name",
            "Broken",
            "--llm-url",
            &model.url,
            "--llm-model",
            "fail",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let addr = format!("127.0.0.1:{}", free_port());
    let args = [
        "--metrics-listen",
        &addr,
        "--rate-limit-api",
        "3/1h",
        "--llm-url",
        &model.url,
        "--llm-model",
        "gated",
    ];
    let node = Node::start_with(&db.url, &args).await;
    let client = reqwest::Client::new();
    let before = scrape(&client, &addr).await;

    // The fourth request of a 3-per-hour key is refused.
    for expected in [200, 200, 200, 429] {
        let (status, body) = node.get("/rest/v1/agents", &tenant.key).await;
        assert_eq!(status, expected, "{body}");
    }

    let chat = |agent: &str, user: &str| {
        let body = tenant.body(json!({ "userId": user, "agentId": agent }));
        let (node, client) = (&node, &client);
        async move {
            let (status, issued) = node.post("/rest/v1/auth/token", &body).await;
            assert_eq!(status, 200, "{issued}");
            let token = issued["token"].as_str().unwrap().to_owned();
            let conv: serde_json::Value = client
                .post(format!("{}/rest/v1/chat/conversations", node.base))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            client
                .post(format!(
                    "{}/rest/v1/chat/conversations/{}/messages",
                    node.base,
                    conv["id"].as_str().unwrap()
                ))
                .bearer_auth(&token)
                .json(&json!({ "content": "Hello?" }))
        }
    };

    // A streamed reply held open by the gated model: one open stream, one
    // reply generating, until the model is let go and the stream ends.
    let mut stream = chat(&tenant.agent, "streamer")
        .await
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: delta") {
        let chunk = stream
            .chunk()
            .await
            .unwrap()
            .expect("a delta before the end");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let during = scrape(&client, &addr).await;
    assert_eq!(sample(&during, "chat_streams_open"), 1.0, "{during}");
    assert_eq!(sample(&during, "chat_replies_generating"), 1.0, "{during}");
    model.release();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: assistant_message"), "{seen}");

    // A model that answers with an error: 502, counted as an error.
    let failed = chat(&broken, "unlucky").await.send().await.unwrap();
    assert_eq!(failed.status(), 502);

    let after = scrape(&client, &addr).await;
    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        moved(r#"rate_limit_refusals_total{policy="api"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(sample(&after, "chat_streams_open"), 0.0, "{after}");
    assert_eq!(sample(&after, "chat_replies_generating"), 0.0, "{after}");
    assert_eq!(
        moved(r#"model_replies_total{outcome="ok"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"model_replies_total{outcome="error"}"#),
        1.0,
        "{after}"
    );
    for series in [
        r#"model_reply_duration_seconds_count{outcome="ok"}"#,
        r#"model_reply_duration_seconds_count{outcome="error"}"#,
        "model_first_delta_seconds_count",
    ] {
        assert_eq!(moved(series), 1.0, "{series}: {after}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_kept_or_generated_answered_and_logged() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let node = Node::start_logging(&db.url, &[], &std::fs::File::create(&log).unwrap()).await;
    let client = reqwest::Client::new();
    let health = |id: Option<&'static str>| {
        let mut req = client.get(format!("{}/health", node.base));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        async move {
            let res = req.send().await.expect("health");
            assert_eq!(res.status(), 200);
            res.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };

    let kept = health(Some("req-7f3a:upstream/42")).await;
    assert_eq!(kept, "req-7f3a:upstream/42");

    let generated = health(None).await;
    let too_long: &'static str = Box::leak("x".repeat(129).into_boxed_str());
    let replaced = [
        health(Some("has space")).await,
        health(Some(too_long)).await,
    ];
    for id in replaced.iter().chain([&generated]) {
        assert_eq!(id.len(), 26, "a fresh ULID, got {id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    }
    assert_ne!(replaced[0], replaced[1]);

    // Each id is on its request's log line. Lines are written in order, a
    // moment after their answers at most: the last request's line brings all.
    let last = format!("request_id=\"{}\"", replaced[1]);
    let text = nodes::wait_for_log(&log, &last);
    for id in [&kept, &generated, &replaced[0], &replaced[1]] {
        assert!(
            text.lines()
                .any(|l| l.contains("request") && l.contains(&format!("request_id=\"{id}\""))),
            "no log line with request_id={id}:\n{text}"
        );
    }
    assert!(!text.contains("has space"), "{text}");
}
