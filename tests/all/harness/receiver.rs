//! A webhook receiver on 127.0.0.1 for the delivery tests: it records every
//! request (headers and body) and answers each path with the statuses it was
//! given, in turn (then 200); a path set to hang never answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    answers: Mutex<HashMap<String, Vec<u16>>>,
    hang: Mutex<Vec<String>>,
    hang_once: Mutex<Vec<String>>,
    arrived: Notify,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
    pub base: String,
}

async fn record(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received = Received {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    inner.got.lock().unwrap().push(received);
    inner.arrived.notify_waiters();
    let once = {
        let mut list = inner.hang_once.lock().unwrap();
        let found = list.iter().position(|p| *p == path);
        found.map(|i| list.remove(i)).is_some()
    };
    if once || inner.hang.lock().unwrap().contains(&path) {
        std::future::pending::<()>().await;
    }
    let status = {
        let mut answers = inner.answers.lock().unwrap();
        match answers.get_mut(&path) {
            Some(list) if !list.is_empty() => list.remove(0),
            _ => 200,
        }
    };
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{path}", axum::routing::post(record))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { inner, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// The statuses `path` answers with, in turn (200 once they are spent).
    pub fn answer(&self, path: &str, statuses: &[u16]) {
        self.inner
            .answers
            .lock()
            .unwrap()
            .insert(path.into(), statuses.to_vec());
    }

    /// Requests to `path` are held open and never answered.
    pub fn hang(&self, path: &str) {
        self.inner.hang.lock().unwrap().push(path.into());
    }

    /// The next request to `path` is held open and never answered.
    pub fn hang_once(&self, path: &str) {
        self.inner.hang_once.lock().unwrap().push(path.into());
    }

    pub fn got(&self, path: &str) -> Vec<Received> {
        let got = self.inner.got.lock().unwrap();
        got.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits (at most 30 s, then panics) until `path` has received `n` requests.
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Received> {
        let wait = async {
            loop {
                let arrived = self.inner.arrived.notified();
                let got = self.got(path);
                if got.len() >= n {
                    return got;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{path}: fewer than {n} requests within 30 s: {:?}",
                    self.got(path)
                )
            })
    }
}
