//! Real server processes for multi-node and migration tests: each [`Node`] is
//! the built binary serving on a free port, killed when the handle drops (also
//! when a test panics), and [`cli`] runs the binary's admin commands.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_performchat");

pub struct Node {
    child: Child,
    pub base: String,
    client: reqwest::Client,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now. Another process may take it before the
/// node binds it, so [`Node::start`] retries with a new one.
/// The log file's text once it contains `needle`. The server writes its
/// lines in batches, so a line may land a moment after its answer.
pub fn wait_for_log(path: &std::path::Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} in the log: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

fn command(database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--database-url")
        .arg(database_url)
        // The nodes must agree through the database alone.
        .env_remove("PERFORMCHAT_JWT_SECRET")
        .env_remove("PERFORMCHAT_DATABASE_URL")
        .env_remove("PERFORMCHAT_RATE_LIMITS")
        .env_remove("PERFORMCHAT_RATE_LIMIT_STORE")
        .env_remove("PERFORMCHAT_LLM_URL")
        .env_remove("PERFORMCHAT_LLM_MODEL")
        .env_remove("PERFORMCHAT_LLM_API_KEY")
        .env("RUST_LOG", "warn");
    cmd
}

impl Node {
    /// Starts a node on `database_url` and waits until `/health` answers 200.
    pub async fn start(database_url: &str) -> Node {
        Node::start_with(database_url, &[]).await
    }

    /// [`Node::start`] with more `serve` arguments.
    pub async fn start_with(database_url: &str, serve_args: &[&str]) -> Node {
        Node::spawn(database_url, serve_args, None).await
    }

    /// [`Node::start_with`], its output (the log at `info`) written to `log`.
    pub async fn start_logging(
        database_url: &str,
        serve_args: &[&str],
        log: &std::fs::File,
    ) -> Node {
        Node::spawn(database_url, serve_args, Some(log)).await
    }

    async fn spawn(database_url: &str, serve_args: &[&str], log: Option<&std::fs::File>) -> Node {
        // No idle connections kept: tests of the connection cap count every one.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("HTTP client");
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = command(database_url);
            cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(serve_args)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            if let Some(log) = log {
                // The log goes to stdout; errors to stderr.
                let clone = || log.try_clone().expect("log file handle");
                cmd.stdout(clone())
                    .stderr(clone())
                    .env("RUST_LOG", "performchat=info");
            }
            let child = cmd.spawn().expect("spawn the performchat binary");
            let mut node = Node {
                child,
                base: format!("http://127.0.0.1:{port}"),
                client: client.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = node.child.try_wait() {
                    break; // exited: most likely the port was taken; try another
                }
                let health = client.get(format!("{}/health", node.base)).send().await;
                if health.is_ok_and(|r| r.status() == 200) {
                    return node;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("no node became healthy on {database_url}");
    }

    /// Sends SIGTERM and waits for the process to exit; its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "could not signal the server"
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process at once (no graceful shutdown), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server process's id (for reading its memory use).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GETs `/health`'s JSON body.
    pub async fn health(&self) -> Value {
        let res = self
            .client
            .get(format!("{}/health", self.base))
            .send()
            .await
            .expect("GET /health");
        assert_eq!(res.status(), 200, "/health");
        res.json().await.expect("health JSON")
    }

    /// POSTs JSON; returns the status and the JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("POST to node");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// GETs with HTTP Basic credentials; returns the status and the JSON body.
    pub async fn get(&self, path: &str, key: &(String, String)) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(&key.0, Some(&key.1))
            .send()
            .await
            .expect("GET from node");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Every customer user, walking the pages.
    pub async fn all_users(&self, key: &(String, String)) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 1.. {
            let (status, body) = self
                .get(
                    &format!("/rest/v1/customer-users?limit=100&page={page}"),
                    key,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            let data = body["data"].as_array().expect("data").clone();
            if data.is_empty() {
                break;
            }
            all.extend(data);
        }
        all
    }

    /// Every message of a conversation as (id, role, content), oldest first,
    /// walking the company-side pages.
    pub async fn all_messages(
        &self,
        key: &(String, String),
        conversation: &str,
    ) -> Vec<(String, String, String)> {
        let mut all = Vec::new();
        for page in 1.. {
            let path =
                format!("/rest/v1/conversations/{conversation}/messages?limit=100&page={page}");
            let (status, body) = self.get(&path, key).await;
            assert_eq!(status, 200, "{body}");
            let data = body["data"].as_array().expect("data");
            if data.is_empty() {
                break;
            }
            all.extend(data.iter().map(|m| {
                let field = |name: &str| m[name].as_str().expect("message field").to_owned();
                (field("id"), field("role"), field("content"))
            }));
        }
        all
    }
}

/// Creates a SQLite database file the way an operator does before any admin
/// command can use it (admin commands never create one): with `quickstart`.
pub fn create_database(database_url: &str) {
    cli(database_url, &["quickstart", "--company", "Setup"]);
}

/// Runs an admin command with `--json`; returns its output, success or not.
pub fn cli_output(database_url: &str, args: &[&str]) -> Output {
    command(database_url)
        .arg("--json")
        .args(args)
        .output()
        .expect("run the performchat binary")
}

/// Runs an admin command that must succeed; returns its JSON output.
pub fn cli(database_url: &str, args: &[&str]) -> Value {
    let out = cli_output(database_url, args);
    assert!(
        out.status.success(),
        "performchat {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the CLI")
}

/// A company with one agent and one key, made through the CLI as an operator would.
pub struct CliTenant {
    pub company: String,
    pub agent: String,
    pub key: (String, String),
}

impl CliTenant {
    pub fn create(database_url: &str, name: &str) -> CliTenant {
        let company = cli(database_url, &["company", "create", "--name", name])["id"]
            .as_str()
            .expect("company id")
            .to_owned();
        let agent = cli(
            database_url,
            &[
                "agent",
                "create",
                "--company",
                &company,
                "--name",
                "Support",
            ],
        )["id"]
            .as_str()
            .expect("agent id")
            .to_owned();
        let key = new_key(database_url, &company);
        CliTenant {
            company,
            agent,
            key,
        }
    }

    /// `fields` plus this tenant's credentials.
    pub fn body(&self, fields: Value) -> Value {
        let mut body = serde_json::json!({ "keyId": self.key.0, "keySecret": self.key.1 });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), fields) {
            b.extend(extra);
        }
        body
    }
}

pub fn new_key(database_url: &str, company: &str) -> (String, String) {
    let key = cli(
        database_url,
        &["api-key", "create", "--company", company, "--name", "test"],
    );
    (
        key["keyId"].as_str().expect("keyId").to_owned(),
        key["keySecret"].as_str().expect("keySecret").to_owned(),
    )
}
