//! Fan-out a window at a time (docs/EVENTS.md, "How fan-out is paced"): an
//! endpoint gets deliveries queued only while at most half its window is
//! pending, up to the window; the rest waits in the feed and is queued as
//! sends end, every event exactly once, across two nodes too. Events of types
//! the endpoint did not ask for, and deliveries waiting for a retry, do not
//! fill the window.

use crate::harness;
use crate::harness::receiver;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::app::Config;
use performchat::domain::now_ms;
use performchat::events::{DispatchConfig, Dispatcher};
use performchat::outbound::OutboundRule;
use performchat::store::{AttemptOutcome, DeliveryQueue, FannedOut, SqlStore, Store};
use receiver::Receiver;

const BATCH: u32 = 500;

async fn app_with_receivers(app: TestApp) -> (TestApp, Tenant) {
    let config = Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    };
    let app = app.reconfigured(config).await;
    let t = app.tenant("Acme").await;
    (app, t)
}

async fn hook(app: &TestApp, t: &Tenant, url: &str, events: Value) -> String {
    let r = app
        .post(
            "/rest/v1/webhooks",
            t.body(json!({ "url": url, "events": events })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Bulk-writes users `{prefix}0..n` (created, or updated when they exist):
/// one event each, in one request.
async fn bulk(app: &TestApp, t: &Tenant, prefix: &str, n: usize, name: &str) {
    let updates: Vec<Value> = (0..n)
        .map(|i| json!({ "external_id": format!("{prefix}{i}"), "create": true, "name": name }))
        .collect();
    let r = app
        .post(
            "/rest/v1/customer-users/bulk",
            t.body(json!({ "updates": updates })),
        )
        .await;
    let results = r.assert_ok()["results"].as_array().unwrap();
    assert!(
        results.iter().all(|x| x["success"] == json!(true)),
        "{}",
        r.text
    );
}

/// The ids of the tenant's events, in feed order (of `kind` only, if given).
async fn feed_ids(app: &TestApp, t: &Tenant, kind: Option<&str>) -> Vec<String> {
    let filter = kind.map(|k| format!("&type={k}")).unwrap_or_default();
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let r = app
            .get(
                &format!("/rest/v1/events?limit=100{filter}{after}"),
                t.creds(),
            )
            .await;
        let body = r.assert_ok().clone();
        let page = body["data"].as_array().unwrap().clone();
        out.extend(page.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        if let Some(last) = out.last() {
            after = format!("&after={last}");
        }
        if body["has_more"] == json!(false) {
            return out;
        }
    }
}

/// The store's whole queue: pending deliveries, and those waiting for a
/// retry (none but where a test fails some).
async fn queued(store: &SqlStore) -> i64 {
    store.delivery_backlog().await.unwrap().0
}

/// Sends (as a node would) up to `n` due deliveries; each succeeds, or
/// fails with a retry an hour away. The event ids sent.
async fn send(store: &SqlStore, n: u32, ok: bool) -> Vec<String> {
    let now = now_ms();
    let due = store.due_deliveries(now, &[], n).await.unwrap();
    for d in &due {
        let leased = store
            .lease_delivery(&d.company_id, &d.id, "test", now, now + 60_000)
            .await
            .unwrap();
        assert!(leased, "{} was leased already", d.id);
        let outcome = AttemptOutcome {
            status_code: Some(if ok { 200 } else { 500 }),
            error: None,
            duration_ms: 1,
            next_attempt_at: (!ok).then_some(now + 3_600_000),
            gone: false,
        };
        store
            .record_attempt(d, "test", &outcome, now)
            .await
            .unwrap();
    }
    due.into_iter().map(|d| d.event_id).collect()
}

fn fanned(queued: u64, passed: u64) -> FannedOut {
    FannedOut { queued, passed }
}

/// A dispatcher on `store`, as `serve` starts one, with a small window.
fn dispatcher(store: Arc<dyn Store>, poll: Duration, window: u32) {
    let config = DispatchConfig {
        poll,
        per_endpoint: 2,
        fan_out_window: window,
        ..DispatchConfig::default()
    };
    let rule = OutboundRule::parse("127.0.0.0/8").unwrap();
    Dispatcher::new(store, rule, config).unwrap().spawn();
}

/// Waits until `rx` holds `n` requests at `path` and the queue is empty,
/// reading the queue's depth all the while: the most it held.
async fn drain(store: &SqlStore, rx: &Receiver, path: &str, n: usize) -> i64 {
    let watch = async {
        let mut most = 0;
        loop {
            let depth = queued(store).await;
            most = most.max(depth);
            if depth == 0 && rx.got(path).len() >= n {
                return most;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), watch)
        .await
        .unwrap_or_else(|_| panic!("not drained in 60 s: {} of {n}", rx.got(path).len()))
}

/// Each event of the feed arrived once, and nothing else did.
fn exactly_once(rx: &Receiver, path: &str, feed: &[String]) {
    let ids: Vec<String> = rx
        .got(path)
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a webhook-id arrived twice");
    assert_eq!(distinct, feed.iter().collect::<HashSet<_>>());
}

backend_tests! {
    async fn a_burst_is_queued_a_window_at_a_time_and_none_is_skipped(app) {
        let (app, t) = app_with_receivers(app).await;
        hook(&app, &t, "http://127.0.0.1:9/hook", json!(["*"])).await;
        bulk(&app, &t, "u", 40, "Burst").await;
        let store = &app.store;
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(8, 8));
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(0, 0), "the window is full");
        let mut sent = send(store, 3, true).await;
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(0, 0), "5 pending: over half");
        sent.extend(send(store, 1, true).await);
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(4, 4), "refilled to the window");
        assert_eq!(queued(store).await, 8);
        loop {
            let done = store.fan_out(now_ms(), BATCH, 8).await.unwrap();
            assert!(queued(store).await <= 8);
            let more = send(store, 3, true).await;
            if done.passed == 0 && more.is_empty() {
                break;
            }
            sent.extend(more);
        }
        let feed = feed_ids(&app, &t, None).await;
        assert_eq!(feed.len(), 40);
        let mut sorted = sent.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), sent.len(), "an event was queued twice");
        assert_eq!(sorted.into_iter().collect::<HashSet<_>>(), feed.into_iter().collect::<HashSet<_>>());
    }

    async fn unwanted_types_pass_without_filling_the_window(app) {
        let (app, t) = app_with_receivers(app).await;
        hook(&app, &t, "http://127.0.0.1:9/hook", json!(["customer_user.updated"])).await;
        bulk(&app, &t, "u", 20, "First").await;
        bulk(&app, &t, "u", 3, "Second").await;
        bulk(&app, &t, "v", 20, "Other").await;
        let store = &app.store;
        // Window 2: the twenty creations are passed, two updates queued, and
        // the position stops right after the second.
        assert_eq!(store.fan_out(now_ms(), BATCH, 2).await.unwrap(), fanned(2, 22));
        assert_eq!(store.fan_out(now_ms(), BATCH, 2).await.unwrap(), fanned(0, 0));
        let mut sent = send(store, 2, true).await;
        // The third update, and the twenty creations after it.
        assert_eq!(store.fan_out(now_ms(), BATCH, 2).await.unwrap(), fanned(1, 21));
        sent.extend(send(store, 2, true).await);
        assert_eq!(store.fan_out(now_ms(), BATCH, 2).await.unwrap(), fanned(0, 0));
        sent.sort();
        let mut updates = feed_ids(&app, &t, Some("customer_user.updated")).await;
        updates.sort();
        assert_eq!(sent, updates);
    }

    async fn a_delivery_waiting_for_its_retry_leaves_the_window(app) {
        let (app, t) = app_with_receivers(app).await;
        hook(&app, &t, "http://127.0.0.1:9/hook", json!(["*"])).await;
        bulk(&app, &t, "u", 20, "Burst").await;
        let store = &app.store;
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(8, 8));
        // Five fail and wait an hour: the three pending leave room for five.
        assert_eq!(send(store, 5, false).await.len(), 5);
        assert_eq!(store.fan_out(now_ms(), BATCH, 8).await.unwrap(), fanned(5, 5));
        assert_eq!(queued(store).await, 13, "eight pending, five waiting");
    }

    async fn a_backlog_drains_as_sends_end_not_by_the_poll(app) {
        let (app, t) = app_with_receivers(app).await;
        let rx = Receiver::start().await;
        hook(&app, &t, &rx.url("hook"), json!(["*"])).await;
        bulk(&app, &t, "u", 50, "Burst").await;
        // The idle poll is longer than `drain` waits: only the sends ending
        // can wake the rounds that refill the window.
        dispatcher(Arc::clone(&app.store) as Arc<dyn Store>, Duration::from_secs(120), 8);
        let most = drain(&app.store, &rx, "hook", 50).await;
        assert!(most <= 8, "{most} deliveries queued at once, the window is 8");
        exactly_once(&rx, "hook", &feed_ids(&app, &t, None).await);
    }

    async fn two_nodes_queue_each_event_once(app) {
        let (app, t) = app_with_receivers(app).await;
        let rx = Receiver::start().await;
        let id = hook(&app, &t, &rx.url("hook"), json!(["*"])).await;
        bulk(&app, &t, "u", 60, "Burst").await;
        let other: Arc<dyn Store> = Arc::new(app.db.store().await);
        dispatcher(Arc::clone(&app.store) as Arc<dyn Store>, Duration::from_millis(20), 8);
        dispatcher(other, Duration::from_millis(20), 8);
        let most = drain(&app.store, &rx, "hook", 60).await;
        assert!(most <= 8, "{most} deliveries queued at once, the window is 8");
        exactly_once(&rx, "hook", &feed_ids(&app, &t, None).await);
        // One delivery per event, each sent once: sixty attempts in the log.
        let r = app.get(&format!("/rest/v1/webhooks/{id}/deliveries"), t.creds()).await;
        let attempts = r.assert_ok()["data"].as_array().unwrap().clone();
        assert_eq!(attempts.len(), 60);
        assert!(attempts.iter().all(|a| a["status_code"] == json!(200) && a["attempt"] == json!(1)));
    }
}
