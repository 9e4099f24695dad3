//! Test harness: a fresh database per test on either backend, the app served
//! in-process (`oneshot`) or on a real port, and tenants made as the CLI makes them.
//!
//! `backend_tests!` turns each test into a `sqlite` and a `postgres` variant.
//! The PostgreSQL variants run when `PERFORMCHAT_TEST_POSTGRES_URL` names a
//! server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); each test gets
//! its own database there. Without it they are reported as ignored, with the reason.

pub mod chat;
pub mod cli;
mod db;
pub mod fake_model;
pub mod knowledge;
pub mod ledger;
pub mod limits;
pub mod nodes;
pub mod receiver;
pub mod tool_endpoint;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use performchat::app::{AppState, Config, SharedState};
use performchat::auth::create_api_key;
use performchat::domain::{now_ms, Environment, Permissions};
use performchat::limits::LimitsConfig;
use performchat::store::{Backend, SqlStore, Store, TenantStore};

pub use db::TestDb;

/// Declares tests that run once per backend.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = $crate::harness::TestApp::new(performchat::store::Backend::Sqlite).await;
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL")]
                async fn postgres() {
                    let $app = $crate::harness::TestApp::new(performchat::store::Backend::Postgres).await;
                    $body
                }
            }
        )*
    };
}

/// One company with an active agent, an inactive agent and a full-permission key.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub company: String,
    pub agent: String,
    pub inactive_agent: String,
    pub key: (String, String),
}

impl Tenant {
    /// The credentials as body fields.
    pub fn creds(&self) -> Value {
        json!({ "keyId": self.key.0, "keySecret": self.key.1 })
    }

    /// `fields` plus this tenant's credentials.
    pub fn body(&self, fields: Value) -> Value {
        with_creds(&self.key, fields)
    }
}

pub fn with_creds(key: &(String, String), fields: Value) -> Value {
    let mut body = json!({ "keyId": key.0, "keySecret": key.1 });
    if let Value::Object(extra) = fields {
        body.as_object_mut().unwrap().extend(extra);
    }
    body
}

/// A response read whole: status, headers and the body as JSON (or `Value::String` when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts the error shape (docs/API.md §0.2) and status; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16) -> &str {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["statusCode"],
            json!(status),
            "statusCode in {}",
            self.text
        );
        assert!(
            self.body["error"].as_str().is_some_and(|s| !s.is_empty()),
            "error in {}",
            self.text
        );
        let message = self.body["message"].as_str().expect("message");
        assert!(!message.is_empty());
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "error content type"
        );
        message
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        &self.body
    }
}

pub struct TestApp {
    pub db: TestDb,
    pub store: Arc<SqlStore>,
    pub state: SharedState,
    pub router: Router,
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with_config(backend, Config::default()).await
    }

    pub async fn with_config(backend: Backend, config: Config) -> Self {
        let db = TestDb::new(backend).await;
        let store = Arc::new(db.store().await);
        let state = AppState::new(Arc::clone(&store) as Arc<dyn Store>, None, config)
            .await
            .expect("app state");
        let router = performchat::http::router(Arc::clone(&state));
        TestApp {
            db,
            store,
            state,
            router,
        }
    }

    /// The same database served with another configuration: for tests
    /// whose subject is not the rate limits but that need more requests
    /// (or failed authentications) than the default limits allow.
    pub async fn reconfigured(self, config: Config) -> Self {
        let state = AppState::new(Arc::clone(&self.store) as Arc<dyn Store>, None, config)
            .await
            .expect("app state");
        let router = performchat::http::router(Arc::clone(&state));
        TestApp {
            state,
            router,
            ..self
        }
    }

    /// [`TestApp::reconfigured`] with `limits`.
    pub async fn with_limits(self, limits: LimitsConfig) -> Self {
        self.reconfigured(Config {
            limits,
            ..Config::default()
        })
        .await
    }

    pub async fn tenant(&self, label: &str) -> Tenant {
        let now = now_ms();
        let company = self.store.create_company(label, now).await.unwrap().id;
        let agent = self
            .store
            .create_agent(
                &company,
                &format!("{label} Support"),
                Some("You are helpful."),
                true,
                now,
            )
            .await
            .unwrap()
            .id;
        let inactive_agent = self
            .store
            .create_agent(&company, &format!("{label} Retired"), None, false, now)
            .await
            .unwrap()
            .id;
        let key = self.key(&company, None, None).await;
        Tenant {
            company,
            agent,
            inactive_agent,
            key,
        }
    }

    /// A new key; `permissions` is a comma list (all when `None`).
    pub async fn key(
        &self,
        company: &str,
        permissions: Option<&str>,
        expires_at: Option<i64>,
    ) -> (String, String) {
        let perms =
            permissions.map_or_else(Permissions::all, |p| Permissions::parse_list(p).unwrap());
        let (record, secret) = create_api_key(
            self.store.as_ref(),
            company,
            "test key",
            Environment::Production,
            perms,
            expires_at,
        )
        .await
        .unwrap();
        (record.id, secret)
    }

    /// Sends a request in-process; `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::GET, uri, Some(body)).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::POST, uri, Some(body)).await
    }

    pub async fn put(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::PUT, uri, Some(body)).await
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Issues a token for `user_id` on the tenant's agent; panics unless 200.
    pub async fn token(&self, t: &Tenant, user_id: &str) -> Value {
        let r = self
            .post(
                "/rest/v1/auth/token",
                t.body(json!({ "userId": user_id, "agentId": t.agent })),
            )
            .await;
        r.assert_ok().clone()
    }

    /// Sends `updates` through the bulk endpoint; each item's result, in order.
    pub async fn bulk(&self, t: &Tenant, updates: Value) -> Vec<Value> {
        let r = self
            .post(
                "/rest/v1/customer-users/bulk",
                t.body(json!({ "updates": updates })),
            )
            .await;
        r.assert_ok()["results"].as_array().unwrap().clone()
    }

    /// [`Self::bulk`], panicking unless every item succeeds.
    pub async fn bulk_ok(&self, t: &Tenant, updates: Value) {
        let results = self.bulk(t, updates).await;
        assert!(
            results.iter().all(|x| x["success"] == json!(true)),
            "{results:#?}"
        );
    }

    /// Serves the same app on a real port until the returned handle is dropped.
    pub async fn serve(&self) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&self.state);
        let task = tokio::spawn(async move {
            performchat::http::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
        });
        Served {
            addr,
            stop: Some(tx),
            task,
        }
    }
}

pub struct Served {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Asks for a graceful shutdown and waits for the server to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.expect("server task")
    }
}
