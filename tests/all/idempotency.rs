//! `Idempotency-Key` on API-key writes (docs/API.md §12): a retry gets the
//! kept answer and changes nothing, another request under the key is a 422,
//! a request still running is a 409, failures are not kept, keys are per API
//! key and checked for syntax, and the answer is kept in the database, so
//! another node replays it.

use crate::harness;
use crate::harness::nodes;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use base64::Engine;
use serde_json::{json, Value};

use harness::{Reply, Tenant, TestApp, TestDb};
use performchat::domain::now_ms;
use performchat::store::{Backend, ClaimRequest, IdempotencyScope, IdempotencyStore};

mod held;

const BULK: &str = "/rest/v1/customer-users/bulk";

/// How a request carries its key.
#[derive(Clone, Copy)]
enum Auth {
    Basic,
    Body,
}

fn request(
    method: Method,
    uri: &str,
    t: &Tenant,
    auth: Auth,
    key: Option<&[u8]>,
    fields: Value,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(key) = key {
        req = req.header("idempotency-key", HeaderValue::from_bytes(key).unwrap());
    }
    let body = match auth {
        Auth::Basic => {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", t.key.0, t.key.1));
            req = req.header("authorization", format!("Basic {basic}"));
            fields
        }
        Auth::Body => t.body(fields),
    };
    req.body(Body::from(body.to_string())).unwrap()
}

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    t: &Tenant,
    key: &str,
    fields: Value,
) -> Reply {
    app.send(request(
        method,
        uri,
        t,
        Auth::Basic,
        Some(key.as_bytes()),
        fields,
    ))
    .await
}

fn replayed(r: &Reply) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

fn users(prefix: &str, n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"external_id": format!("{prefix}-{i}"), "create": true, "name": "Bulk"}))
        .collect();
    json!({ "updates": items })
}

async fn total(app: &TestApp, t: &Tenant, query: &str) -> i64 {
    let r = app
        .get(&format!("/rest/v1/customer-users?{query}"), t.creds())
        .await;
    r.assert_ok()["pagination"]["total"].as_i64().unwrap()
}

backend_tests! {
    async fn a_replay_gets_the_kept_answer_and_writes_nothing(app) {
        let t = app.tenant("Acme").await;
        let first = send(&app, Method::POST, BULK, &t, "bulk-1", users("b", 3)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert!(!replayed(&first));
        // The credentials in the body this time: they are not part of the request.
        let again = app
            .send(request(Method::POST, BULK, &t, Auth::Body, Some(b"bulk-1"), users("b", 3)))
            .await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert!(replayed(&again), "{:?}", again.headers);
        assert_eq!(again.text, first.text);
        assert_eq!(again.headers["content-type"], "application/json");
        // Rate-limit headers are this response's own (the kept answer has none).
        assert!(again.headers.contains_key("ratelimit-remaining"));
        assert_eq!(total(&app, &t, "name=Bulk").await, 3);

        // An upsert's 201, replayed after the user changed: the kept body, no write.
        let upsert = "/rest/v1/customer-users/by-external-id/ext-1";
        let made = send(&app, Method::PUT, upsert, &t, "up-1", json!({"name": "First"})).await;
        assert_eq!(made.status, 201, "{}", made.text);
        let id = made.body["id"].as_str().unwrap().to_owned();
        let patch = format!("/rest/v1/customer-users/{id}");
        let changed = app.call(Method::PATCH, &patch, Some(t.body(json!({"name": "Changed"})))).await;
        changed.assert_ok();
        let again = send(&app, Method::PUT, upsert, &t, "up-1", json!({"name": "First"})).await;
        assert_eq!((again.status.as_u16(), replayed(&again)), (201, true), "{}", again.text);
        assert_eq!(again.body, made.body);
        let now = app.get(&patch, t.creds()).await;
        assert_eq!(now.assert_ok()["name"], "Changed");

        // The token route (remembered keys are read from the database then).
        let token = json!({"userId": "tok-1", "agentId": t.agent});
        let issued = send(&app, Method::POST, "/rest/v1/auth/token", &t, "tok-1", token.clone()).await;
        issued.assert_ok();
        let again = send(&app, Method::POST, "/rest/v1/auth/token", &t, "tok-1", token).await;
        assert!(replayed(&again));
        assert_eq!(again.body, issued.body);
        assert_eq!(again.headers["cache-control"], "no-store");
        assert_eq!(total(&app, &t, "external_id=tok-1").await, 1);

        // A DELETE's empty 204.
        let doc = app
            .post("/rest/v1/knowledge/documents", t.body(json!({"title": "T", "content": "Text."})))
            .await;
        assert_eq!(doc.status, 201, "{}", doc.text);
        let uri = format!("/rest/v1/knowledge/documents/{}", doc.body["id"].as_str().unwrap());
        let gone = send(&app, Method::DELETE, &uri, &t, "del-1", json!({})).await;
        assert_eq!(gone.status, 204, "{}", gone.text);
        let again = send(&app, Method::DELETE, &uri, &t, "del-1", json!({})).await;
        assert_eq!((again.status.as_u16(), replayed(&again), again.text.as_str()), (204, true, ""));
        // Without the key the same DELETE runs: the document is gone.
        app.call(Method::DELETE, &uri, Some(t.creds())).await.assert_error(404);
    }

    async fn the_same_key_with_another_request_is_422(app) {
        let t = app.tenant("Acme").await;
        let upsert = "/rest/v1/customer-users/by-external-id/reuse";
        let first = send(&app, Method::PUT, upsert, &t, "k", json!({"name": "One"})).await;
        assert_eq!(first.status, 201, "{}", first.text);
        // Object keys in another order are the same request.
        let same = send(&app, Method::PUT, upsert, &t, "k", json!({"name": "One"})).await;
        assert!(replayed(&same));
        let others = [
            (Method::PUT, upsert.to_owned(), json!({"name": "Two"})),
            (Method::PUT, format!("{upsert}2"), json!({"name": "One"})),
            (Method::PUT, format!("{upsert}?x=1"), json!({"name": "One"})),
        ];
        for (method, uri, fields) in others {
            let r = send(&app, method, &uri, &t, "k", fields).await;
            assert_eq!(r.assert_error(422), "Idempotency-Key reused with a different request", "{uri}");
        }
        // Another method on the same path.
        let user = format!("/rest/v1/customer-users/{}", first.body["id"].as_str().unwrap());
        let put = send(&app, Method::PUT, &user, &t, "m", json!({"name": "One"})).await;
        put.assert_ok();
        let patch = send(&app, Method::PATCH, &user, &t, "m", json!({"name": "One"})).await;
        patch.assert_error(422);
        assert_eq!(total(&app, &t, "external_id=reuse2").await, 0);
        let now = app.get("/rest/v1/customer-users?external_id=reuse", t.creds()).await;
        assert_eq!(now.assert_ok()["data"][0]["name"], "One");
    }

    async fn keys_are_per_api_key(app) {
        let t = app.tenant("Acme").await;
        let uri = "/rest/v1/customer-users/by-external-id/shared";
        let first = send(&app, Method::PUT, uri, &t, "same", json!({"name": "One"})).await;
        assert_eq!(first.status, 201, "{}", first.text);
        // Another key of the same company: its own namespace, so the request runs.
        let other = Tenant { key: app.key(&t.company, None, None).await, ..t.clone() };
        let r = send(&app, Method::PUT, uri, &other, "same", json!({"name": "Two"})).await;
        assert_eq!((r.status.as_u16(), replayed(&r)), (200, false), "{}", r.text);
        // Another company's key: the same.
        let b = app.tenant("Globex").await;
        let r = send(&app, Method::PUT, uri, &b, "same", json!({"name": "One"})).await;
        assert_eq!((r.status.as_u16(), replayed(&r)), (201, false), "{}", r.text);
        assert_eq!(r.body["name"], "One");
        assert_ne!(r.body["id"], first.body["id"]);
    }

    async fn keys_outside_the_rules_are_400_and_run_nothing(app) {
        let t = app.tenant("Acme").await;
        let uri = "/rest/v1/customer-users/by-external-id/syntax";
        let long = vec![b'k'; 256];
        for bad in [&b""[..], &long, "clé".as_bytes(), b"a b", b"tab\there"] {
            let r = app
                .send(request(Method::PUT, uri, &t, Auth::Basic, Some(bad), json!({"name": "x"})))
                .await;
            assert!(r.assert_error(400).contains("Idempotency-Key"), "{}", r.text);
        }
        let mut twice = request(Method::PUT, uri, &t, Auth::Basic, Some(b"a"), json!({"name": "x"}));
        twice.headers_mut().append("idempotency-key", HeaderValue::from_static("b"));
        assert!(app.send(twice).await.assert_error(400).contains("Idempotency-Key"));
        assert_eq!(total(&app, &t, "external_id=syntax").await, 0);
        let mut longest = b"~".to_vec();
        longest.extend([b'k'; 253]);
        longest.push(b'!');
        let r = app
            .send(request(Method::PUT, uri, &t, Auth::Basic, Some(&longest), json!({"name": "x"})))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        // Reads ignore the header, whatever it holds.
        let r = app
            .send(request(Method::GET, "/rest/v1/customer-users", &t, Auth::Basic, Some(b"a b"), json!({})))
            .await;
        r.assert_ok();
    }

    async fn an_unauthenticated_request_claims_nothing(app) {
        let t = app.tenant("Acme").await;
        let wrong = Tenant { key: (t.key.0.clone(), "sk_wrong".into()), ..t.clone() };
        let uri = "/rest/v1/customer-users/by-external-id/auth";
        let r = send(&app, Method::PUT, uri, &wrong, "auth-1", json!({"name": "Mallory"})).await;
        r.assert_error(401);
        // Neither a syntax check nor a claim before the key is proven.
        let r = send(&app, Method::PUT, uri, &wrong, "a b", json!({"name": "Mallory"})).await;
        r.assert_error(401);
        let r = send(&app, Method::PUT, uri, &t, "auth-1", json!({"name": "Alice"})).await;
        assert_eq!((r.status.as_u16(), replayed(&r)), (201, false), "{}", r.text);
    }

    async fn a_lapsed_claim_or_a_day_old_answer_lets_the_request_run(app) {
        let t = app.tenant("Acme").await;
        let key_id = t.key.0.clone();
        let scope = |key: &str| IdempotencyScope {
            company_id: t.company.clone(),
            api_key_id: key_id.clone(),
            key: key.into(),
        };
        let now = now_ms();
        // A claim whose node died: its lease ran out a moment ago.
        let lapsed = scope("lapsed");
        let claim = ClaimRequest {
            scope: &lapsed,
            fingerprint: b"whatever",
            claim: "dead-node",
            now: now - 10_000,
            lease_until: now - 1,
            forgotten_before: now - 86_400_000,
        };
        app.store.claim_idempotency(&claim).await.unwrap();
        let uri = "/rest/v1/customer-users/by-external-id/lapsed";
        let r = send(&app, Method::PUT, uri, &t, "lapsed", json!({"name": "L"})).await;
        assert_eq!((r.status.as_u16(), replayed(&r)), (201, false), "{}", r.text);
        // A claim still within its lease holds.
        let running = scope("running");
        let claim = ClaimRequest { scope: &running, claim: "alive", now, lease_until: now + 60_000, ..claim };
        app.store.claim_idempotency(&claim).await.unwrap();
        let r = send(&app, Method::PUT, uri, &t, "running", json!({"name": "L"})).await;
        // Another request's fingerprint: the key's misuse is named first.
        r.assert_error(422);

        // An answer kept 25 h ago is forgotten: the request runs again,
        // and pruning takes old rows away.
        let old = scope("old");
        let day_ago = now - 25 * 3_600_000;
        let claim = ClaimRequest { scope: &old, claim: "yesterday", now: day_ago, lease_until: day_ago + 60_000, ..claim };
        app.store.claim_idempotency(&claim).await.unwrap();
        let kept = performchat::domain::KeptAnswer { status: 201, headers: vec![], body: b"{}".to_vec() };
        assert!(app.store.keep_idempotent_answer(&old, "yesterday", &kept).await.unwrap());
        let pruned = performchat::http::idempotency::prune_once(app.store.as_ref(), now - 24 * 3_600_000)
            .await
            .unwrap();
        assert_eq!(pruned, 1);
        app.store.claim_idempotency(&claim).await.unwrap();
        assert!(app.store.keep_idempotent_answer(&old, "yesterday", &kept).await.unwrap());
        let r = send(&app, Method::PUT, "/rest/v1/customer-users/by-external-id/old", &t, "old", json!({"name": "O"})).await;
        assert_eq!((r.status.as_u16(), replayed(&r)), (201, false), "{}", r.text);
        let again = send(&app, Method::PUT, "/rest/v1/customer-users/by-external-id/old", &t, "old", json!({"name": "O"})).await;
        assert_eq!((again.status.as_u16(), replayed(&again)), (201, true), "{}", again.text);
        assert_eq!(again.body, r.body);
    }

    async fn a_multipart_upload_is_the_same_request_whatever_its_boundary(app) {
        let t = app.tenant("Acme").await;
        let docs = "/rest/v1/knowledge/documents";
        let form = |boundary: &str, text: &[u8], creds_in_form: bool| {
            let mut body = Vec::new();
            let mut fields = vec![("title", "Guide".to_owned())];
            if creds_in_form {
                fields.push(("keyId", t.key.0.clone()));
                fields.push(("keySecret", t.key.1.clone()));
            }
            for (name, value) in fields {
                body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"g.txt\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
            body.extend(text);
            body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
            let mut req = Request::builder()
                .method(Method::POST)
                .uri(docs)
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .header("idempotency-key", "upload-1");
            if !creds_in_form {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", t.key.0, t.key.1));
                req = req.header("authorization", format!("Basic {basic}"));
            }
            req.body(Body::from(body)).unwrap()
        };
        let first = app.send(form("one", b"Wombats dig.", false)).await;
        assert_eq!(first.status, 201, "{}", first.text);
        let again = app.send(form("two", b"Wombats dig.", true)).await;
        assert_eq!((again.status.as_u16(), replayed(&again)), (201, true), "{}", again.text);
        assert_eq!(again.body, first.body);
        let other = app.send(form("one", b"Wombats sleep.", false)).await;
        other.assert_error(422);
        let list = app.get(docs, t.creds()).await;
        assert_eq!(list.assert_ok()["data"].as_array().unwrap().len(), 1, "{}", list.text);
    }
}

#[test]
fn the_document_names_the_header_and_its_answers_on_writes_only() {
    let doc = serde_json::to_value(performchat::http::openapi()).unwrap();
    let bulk = &doc["paths"]["/rest/v1/customer-users/bulk"]["post"];
    let header = bulk["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("the header on POST bulk");
    assert_eq!(header["in"], "header");
    assert_eq!(header["schema"]["maxLength"], 255);
    assert_eq!(header["schema"]["pattern"], "^[!-~]+$");
    for status in ["409", "422"] {
        assert!(
            bulk["responses"][status].is_object(),
            "{status} on POST bulk"
        );
    }
    assert!(bulk["responses"]["200"]["headers"]["Idempotent-Replayed"].is_object());
    let list = &doc["paths"]["/rest/v1/customer-users"]["get"];
    let on_get = list["parameters"].as_array().into_iter().flatten();
    assert!(on_get.into_iter().all(|p| p["name"] != "Idempotency-Key"));
    // The chat routes take a chat token, not an API key.
    let chat = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/rest/v1/chat/"));
    for (path, item) in chat {
        assert!(!item.to_string().contains("Idempotency-Key"), "{path}");
    }
}

/// A request that ran on one node is replayed by another: the answer is
/// kept in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn another_node_replays_the_kept_answer() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = nodes::CliTenant::create(&db.url, "Acme");
    let (a, b) = (
        nodes::Node::start(&db.url).await,
        nodes::Node::start(&db.url).await,
    );
    let http = reqwest::Client::new();
    let bulk = |node: &nodes::Node, items: Value| {
        http.post(format!("{}{BULK}", node.base))
            .header("idempotency-key", "two-nodes")
            .json(&t.body(items))
            .send()
    };
    let first = bulk(&a, users("n", 5)).await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = bulk(&b, users("n", 5)).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = bulk(&b, users("m", 5)).await.unwrap();
    assert_eq!(other.status(), 422);
    assert_eq!(a.all_users(&t.key).await.len(), 5);
}
