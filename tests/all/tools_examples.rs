//! docs/TOOLS.md's two example endpoints (Node + Express, Python + FastAPI,
//! both verifying with the official `standardwebhooks` library) run for
//! real and are called by `performchat tools try`, which calls as the server
//! does; `tools add`, `list`, `rotate-secret` and `remove` run on the way.
//! Their packages are installed once into `target/` (npm, PyPI); when that
//! cannot be done (no network), the example's check is skipped and says why.

use crate::harness;
use crate::harness::cli::run_api as run;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use harness::TestApp;
use performchat::app::Config;
use performchat::outbound::OutboundRule;
use performchat::store::Backend;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn examples() -> PathBuf {
    Path::new(ROOT).join("docs/examples/tools")
}

/// Installs once (a marker says it finished); `None`, with the reason
/// printed, when the installer fails.
fn install(dir: &Path, what: &str, steps: &[Vec<String>]) -> Option<()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if dir.join(".installed").exists() {
        return Some(());
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for step in steps {
        let out = Command::new(&step[0]).args(&step[1..]).output();
        let failed = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failed {
            let _ = std::fs::remove_dir_all(dir);
            eprintln!("SKIPPED the {what} example: cannot install its packages: {why}");
            return None;
        }
    }
    std::fs::write(dir.join(".installed"), what).unwrap();
    Some(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 60 s) until something listens on `port`.
fn wait_listening(port: u16, child: &mut Running) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the example exited before listening: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the example is not listening on {port} after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_node(secret: &str, port: u16) -> Option<Running> {
    let dir = Path::new(ROOT).join("target/tools-example-node");
    let prefix = dir.to_str().unwrap().to_owned();
    let npm = [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        &prefix,
        "express@5.3.0",
        "standardwebhooks@1.3.0",
    ];
    install(&dir, "Node", &[npm.iter().map(|s| s.to_string()).collect()])?;
    let mut child = Running(
        Command::new("node")
            .arg(examples().join("node/server.js"))
            .env("NODE_PATH", dir.join("node_modules"))
            .env("TOOL_SECRET", secret)
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("node"),
    );
    wait_listening(port, &mut child);
    Some(child)
}

fn start_python(secret: &str, port: u16) -> Option<Running> {
    let dir = Path::new(ROOT).join("target/tools-example-python");
    let python = dir.join("bin/python").to_str().unwrap().to_owned();
    let requirements = examples()
        .join("python/requirements.txt")
        .to_str()
        .unwrap()
        .to_owned();
    let venv = vec![
        "python3".into(),
        "-m".into(),
        "venv".into(),
        dir.to_str().unwrap().to_owned(),
    ];
    let pip = vec![
        python.clone(),
        "-m".into(),
        "pip".into(),
        "install".into(),
        "-q".into(),
        "-r".into(),
        requirements,
    ];
    install(&dir, "Python", &[venv, pip])?;
    let mut child = Running(
        Command::new(&python)
            .args([
                "-m",
                "uvicorn",
                "app:app",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--app-dir",
            ])
            .arg(examples().join("python"))
            .env("TOOL_SECRET", secret)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python"),
    );
    wait_listening(port, &mut child);
    Some(child)
}

async fn example_answers_tools_try(start: fn(&str, u16) -> Option<Running>) {
    let config = Config {
        outbound: OutboundRule::parse("127.0.0.0/8").unwrap(),
        ..Config::default()
    };
    let app = TestApp::with_config(Backend::Sqlite, config).await;
    let t = app.tenant("Acme").await;
    let dana = app
        .put(
            "/rest/v1/customer-users/by-external-id/dana-7",
            t.body(json!({ "name": "Dana" })),
        )
        .await;
    let dana = dana.body["id"].as_str().unwrap().to_owned();
    let served = app.serve().await;
    let url = &served.url("");
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}/tools/lookup-order");
    let schema = examples().join("lookup_order.schema.json");
    let (ok, out, err) = run(
        url,
        &t.key,
        &[
            "--json",
            "tools",
            "add",
            "--agent",
            &t.agent,
            "--name",
            "lookup_order",
            "--endpoint",
            &endpoint,
            "--parameters",
            schema.to_str().unwrap(),
            "--description",
            "An order's status.",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let made: Value = serde_json::from_str(&out).unwrap();
    let (id, secret) = (
        made["id"].as_str().unwrap(),
        made["secret"].as_str().unwrap(),
    );
    let owned = secret.to_owned();
    let Some(_example) = tokio::task::spawn_blocking(move || start(&owned, port))
        .await
        .unwrap()
    else {
        return;
    };

    let allow = ["--outbound-allow", "127.0.0.0/8"];
    let (ok, out, err) = run(
        url,
        &t.key,
        &[
            &[
                "--json",
                "tools",
                "try",
                id,
                r#"{"order_id": "a-1001"}"#,
                "--secret",
                secret,
                "--user",
                &dana,
            ][..],
            &allow,
        ]
        .concat(),
    )
    .await;
    assert!(ok, "{out} {err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["status"], json!("ok"));
    let answer: Value = serde_json::from_str(shown["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        answer,
        json!({ "order_id": "A-1001", "found": true, "state": "shipped", "eta": "2025-01-17" })
    );

    // The sample user is not the order's owner; by agent and name this time.
    let (ok, out, err) = run(
        url,
        &t.key,
        &[
            &[
                "tools",
                "try",
                "--agent",
                &t.agent,
                "--name",
                "lookup_order",
                r#"{"order_id": "A-1001"}"#,
                "--secret",
                secret,
            ][..],
            &allow,
        ]
        .concat(),
    )
    .await;
    assert!(ok && out.contains(r#""found":false"#), "{out} {err}");

    // A wrong secret: the example refuses the call, and so does `try`.
    let wrong = performchat::signing::new_secret("tsec_");
    let (ok, out, _) = run(
        url,
        &t.key,
        &[
            &[
                "tools",
                "try",
                id,
                r#"{"order_id": "A-1001"}"#,
                "--secret",
                &wrong,
            ][..],
            &allow,
        ]
        .concat(),
    )
    .await;
    assert!(!ok && out.contains("HTTP 401"), "{out}");
    // Arguments the schema refuses never reach the example.
    let (ok, out, _) = run(
        url,
        &t.key,
        &[
            &["tools", "try", id, r#"{"order": 1}"#, "--secret", secret][..],
            &allow,
        ]
        .concat(),
    )
    .await;
    assert!(!ok && out.contains("order_id"), "{out}");

    let (ok, out, err) = run(url, &t.key, &["tools", "list", "--agent", &t.agent]).await;
    assert!(
        ok && out.contains(id) && out.contains("lookup_order") && !out.contains(secret),
        "{out} {err}"
    );
    let (ok, out, err) = run(url, &t.key, &["--json", "tools", "rotate-secret", id]).await;
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(&out).unwrap();
    assert!(
        rotated["secret"].as_str().unwrap().starts_with("tsec_")
            && rotated["secret"] != json!(secret)
    );
    let (ok, _, err) = run(url, &t.key, &["tools", "remove", id]).await;
    assert!(ok, "{err}");
    let (ok, out, _) = run(
        url,
        &t.key,
        &["--json", "tools", "list", "--agent", &t.agent],
    )
    .await;
    assert!(ok && out.trim() == "[]", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_example_verifies_and_answers() {
    example_answers_tools_try(start_node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_verifies_and_answers() {
    example_answers_tools_try(start_python).await;
}
