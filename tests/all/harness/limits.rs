//! Helpers of the in-process rate-limit tests: an app whose limiter runs on a
//! manual clock, requests from a chosen client address, header reading.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use serde_json::{json, Value};

use crate::harness::{Reply, Tenant, TestApp};
use performchat::app::Config;
use performchat::limits::{Clock, LimitsConfig, ManualClock};
use performchat::store::Backend;

pub const TOKEN: &str = "/rest/v1/auth/token";
pub const USERS: &str = "/rest/v1/customer-users";

/// The app with default limits on a clock that only moves when told.
pub async fn app_with_clock(limits: LimitsConfig) -> (TestApp, ManualClock) {
    let clock = ManualClock::default();
    let config = Config {
        limits: LimitsConfig {
            clock: Clock::Manual(clock.clone()),
            ..limits
        },
        ..Config::default()
    };
    (TestApp::with_config(Backend::Sqlite, config).await, clock)
}

/// A request as if from `peer` over TCP.
pub async fn from(
    app: &TestApp,
    peer: &str,
    method: Method,
    uri: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    app.send(req).await
}

pub fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

pub fn number(r: &Reply, name: &str) -> u64 {
    header(r, name)
        .unwrap_or_else(|| panic!("{name} missing; status {}", r.status))
        .parse()
        .unwrap()
}

pub fn token_body(t: &Tenant, key: &(String, String)) -> Value {
    crate::harness::with_creds(key, json!({ "userId": "rl-user", "agentId": t.agent }))
}
