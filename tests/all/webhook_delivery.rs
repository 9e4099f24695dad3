//! Webhook deliveries by the dispatcher, against a receiver on 127.0.0.1:
//! Standard Webhooks signatures (checked by the official library too),
//! retries with the same webhook-id, 410, rotation, and a slow endpoint that
//! holds no other. The retry schedule is shortened; nothing waits on it.

use crate::harness;
use crate::harness::receiver;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Value};

use harness::{Tenant, TestApp};
use performchat::app::Config;
use performchat::events::{DispatchConfig, Dispatcher};
use performchat::outbound::OutboundRule;
use performchat::signing::sign;
use performchat::store::{Backend, Store};
use receiver::{Received, Receiver};

const STANDARDWEBHOOKS: &str = "standardwebhooks==1.3.0";

async fn setup(backend: Backend, per_endpoint: usize) -> (TestApp, Tenant, Receiver) {
    let rule = OutboundRule::parse("127.0.0.0/8").unwrap();
    let config = Config {
        outbound: rule.clone(),
        ..Config::default()
    };
    let app = TestApp::with_config(backend, config).await;
    let store: Arc<dyn Store> = Arc::clone(&app.store) as Arc<dyn Store>;
    let dispatch = DispatchConfig {
        poll: Duration::from_millis(20),
        retries: vec![Duration::from_millis(50), Duration::from_millis(50)],
        timeout: Duration::from_secs(30),
        lease: Duration::from_secs(60),
        per_endpoint,
        ..DispatchConfig::default()
    };
    Dispatcher::new(store, rule, dispatch).unwrap().spawn();
    let t = app.tenant("Acme").await;
    (app, t, Receiver::start().await)
}

async fn hook(app: &TestApp, t: &Tenant, url: &str, events: Value) -> (String, String) {
    let r = app
        .post(
            "/rest/v1/webhooks",
            t.body(json!({ "url": url, "events": events })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn upsert(app: &TestApp, t: &Tenant, ext: &str) -> Value {
    let r = app
        .put(
            &format!("/rest/v1/customer-users/by-external-id/{ext}"),
            t.body(json!({})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Every signature in the header that `secret` makes.
fn verifies(secret: &str, r: &Received) -> bool {
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    let mine = sign(
        secret,
        "whsec_",
        &r.headers["webhook-id"],
        ts,
        r.body.as_bytes(),
    )
    .unwrap();
    r.headers["webhook-signature"].split(' ').any(|s| s == mine)
}

/// The official library's verdict on each (secret, delivery); None when
/// PyPI cannot be reached to install it.
pub(crate) fn official_verdict(cases: &[(&str, &Received)]) -> Option<String> {
    let python = official_python()?;
    let list: Vec<Value> = cases
        .iter()
        .map(|(secret, r)| json!({ "secret": secret, "headers": r.headers, "body": r.body }))
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&list).unwrap()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/all/harness/standardwebhooks_verify.py"
    );
    let out = Command::new(&python)
        .arg(script)
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the official library's check failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The venv's Python with the official library, installed once; `None` when
/// PyPI cannot be reached. The install is finished (its marker written)
/// before any test uses the venv: both backends' variants run at once, and
/// one must not find the other's half-made venv.
fn official_python() -> Option<std::path::PathBuf> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/standardwebhooks-1.3.0");
    let python = venv.join("bin/python");
    let installed = venv.join(".installed");
    if installed.exists() {
        return Some(python);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success(), "python3 -m venv failed");
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "-q", STANDARDWEBHOOKS])
        .output()
        .unwrap();
    if !pip.status.success() {
        let _ = std::fs::remove_dir_all(&venv);
        eprintln!(
            "SKIPPED the official-library check: cannot install {STANDARDWEBHOOKS} from PyPI: {}",
            String::from_utf8_lossy(&pip.stderr)
        );
        return None;
    }
    std::fs::write(&installed, STANDARDWEBHOOKS).unwrap();
    Some(python)
}

backend_tests! {
    async fn deliveries_are_signed_and_the_official_library_accepts_them(app) {
        let (app, t, rx) = setup(app.db.backend(), 4).await;
        let (id, secret) = hook(&app, &t, &rx.url("signed"), json!(["customer_user.created"])).await;
        let user = upsert(&app, &t, "selina").await;
        // An update: a type this endpoint did not ask for.
        app.put(&format!("/rest/v1/customer-users/{}", user["id"].as_str().unwrap()),
            t.body(json!({ "name": "Selina K" }))).await.assert_ok();
        upsert(&app, &t, "bruce").await;
        let mut got = rx.wait_for("signed", 2).await;
        // Sent concurrently: in no promised order.
        got.sort_by_key(|r| r.body.contains("\"bruce\""));
        let bodies: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
        assert_eq!(bodies[0]["type"], json!("customer_user.created"));
        assert_eq!(bodies[0]["data"], user);
        assert_eq!(bodies[1]["data"]["external_id"], json!("bruce"));
        let feed = app.get("/rest/v1/events?type=customer_user.created", t.creds()).await;
        let ids: Vec<&Value> = feed.assert_ok()["data"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
        assert_eq!(ids, [&json!(got[0].headers["webhook-id"]), &json!(got[1].headers["webhook-id"])]);
        assert!(got.iter().all(|r| verifies(&secret, r)));

        // A rotation: both secrets sign, and the library takes either.
        let rotated = app.post(&format!("/rest/v1/webhooks/{id}/rotate-secret"), t.creds()).await;
        let new = rotated.assert_ok()["secret"].as_str().unwrap().to_owned();
        upsert(&app, &t, "alfred").await;
        let after = rx.wait_for("signed", 3).await[2].clone();
        assert_eq!(after.headers["webhook-signature"].split(' ').count(), 2);
        assert!(verifies(&secret, &after) && verifies(&new, &after));
        let cases = [(secret.as_str(), &got[0]), (secret.as_str(), &got[1]), (secret.as_str(), &after), (new.as_str(), &after)];
        if let Some(verdict) = official_verdict(&cases) {
            assert_eq!(verdict, "ok 4");
        }
        assert!(rx.got("signed").len() == 3, "only customer_user.created was asked for");
    }

    async fn a_failed_delivery_is_retried_with_the_same_id_then_given_up(app) {
        let (app, t, rx) = setup(app.db.backend(), 4).await;
        rx.answer("failing", &[500, 503, 502]);
        let (id, _) = hook(&app, &t, &rx.url("failing"), json!(["*"])).await;
        upsert(&app, &t, "u1").await;
        let got = rx.wait_for("failing", 3).await;
        let wid = &got[0].headers["webhook-id"];
        assert!(got.iter().all(|r| &r.headers["webhook-id"] == wid));
        // Three attempts logged, newest first; the last one schedules nothing.
        let attempts = loop {
            let r = app.get(&format!("/rest/v1/webhooks/{id}/deliveries"), t.creds()).await;
            let rows = r.assert_ok()["data"].as_array().unwrap().clone();
            if rows.len() == 3 {
                break rows;
            }
            tokio::task::yield_now().await;
        };
        let codes: Vec<&Value> = attempts.iter().map(|a| &a["status_code"]).collect();
        assert_eq!(codes, [&json!(502), &json!(503), &json!(500)]);
        assert_eq!(attempts[0]["next_attempt_at"], Value::Null);
        assert!(attempts[1]["next_attempt_at"].is_string());
        assert!(attempts.iter().all(|a| &a["event_id"] == wid && a["duration_ms"].is_i64()));
        assert_eq!(attempts[0]["attempt"], json!(3));
    }

    async fn gone_disables_the_endpoint(app) {
        let (app, t, rx) = setup(app.db.backend(), 4).await;
        rx.answer("gone", &[410]);
        let (id, _) = hook(&app, &t, &rx.url("gone"), json!(["*"])).await;
        upsert(&app, &t, "u1").await;
        rx.wait_for("gone", 1).await;
        loop {
            let r = app.get(&format!("/rest/v1/webhooks/{id}"), t.creds()).await;
            if r.assert_ok()["active"] == json!(false) {
                break;
            }
            tokio::task::yield_now().await;
        }
        // A later event is not sent: a marker endpoint created after it gets
        // it, and by then the disabled one still has its single request.
        upsert(&app, &t, "u2").await;
        let (_, _) = hook(&app, &t, &rx.url("marker"), json!(["*"])).await;
        upsert(&app, &t, "u3").await;
        rx.wait_for("marker", 1).await;
        assert_eq!(rx.got("gone").len(), 1);
        let r = app.call(Method::PATCH, &format!("/rest/v1/webhooks/{id}"), Some(t.body(json!({ "active": true })))).await;
        assert_eq!(r.assert_ok()["active"], json!(true));
    }

    async fn a_hanging_endpoint_holds_no_other(app) {
        let (app, t, rx) = setup(app.db.backend(), 1).await;
        rx.hang("slow");
        hook(&app, &t, &rx.url("slow"), json!(["*"])).await;
        hook(&app, &t, &rx.url("fast"), json!(["*"])).await;
        for i in 0..5 {
            upsert(&app, &t, &format!("u{i}")).await;
        }
        rx.wait_for("fast", 5).await;
        // The slow endpoint holds one request open (its bound) and no more.
        assert_eq!(rx.got("slow").len(), 1);
    }
}
