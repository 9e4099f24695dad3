//! The README's quickstart, walked as a newcomer would in a fresh folder: its
//! commands exactly as printed (`cargo run --release --` stands for the binary
//! this test run built), then the lines `quickstart` prints — the curl
//! request and both `export` lines — must work too.

#[path = "support/nodes.rs"]
mod nodes;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use nodes::BIN;

/// The `sh` blocks that follow each `<!-- quickstart -->` marker.
fn quickstart_commands() -> Vec<String> {
    let readme = include_str!("../README.md");
    let mut commands = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find("<!-- quickstart -->") {
        rest = &rest[at..];
        let start = rest.find("```sh\n").expect("a sh block after the marker") + 6;
        let end = start + rest[start..].find("```").expect("the block ends");
        commands.extend(
            rest[start..end]
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned),
        );
        rest = &rest[end..];
    }
    commands
}

fn shell(dir: &Path, port: u16, line: &str) -> Command {
    let line = line.replace("cargo run --release --", BIN);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(line)
        .current_dir(dir)
        // The documented defaults, except the port (tests run side by side),
        // which both `serve` and `quickstart` read from the environment.
        .env("PERFORMCHAT_LISTEN", format!("127.0.0.1:{port}"))
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for var in [
        "PERFORMCHAT_DATABASE_URL",
        "PERFORMCHAT_URL",
        "PERFORMCHAT_KEY_ID",
        "PERFORMCHAT_KEY_SECRET",
        "PERFORMCHAT_JWT_SECRET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(dir: &Path, port: u16, line: &str) -> String {
    let out = shell(dir, port, line).output().expect("run sh");
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_readme_quickstart_gets_a_token_and_its_export_lines_work() {
    let commands = quickstart_commands();
    assert_eq!(commands.len(), 2, "serve, then quickstart: {commands:?}");
    assert!(commands[0].ends_with(" serve"), "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // `exec`, so the child this test kills is the server itself, not a shell
    // that would leave it running.
    let _server = Server(
        shell(dir.path(), port, &format!("exec {}", commands[0]))
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = http.get(format!("{base}/health")).send().await;
        if health.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "the server never became healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.path().join("performchat.db").exists(),
        "data in ./performchat.db"
    );

    let printed = run(dir.path(), port, &commands[1]);
    let line = |prefix: &str| {
        printed
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{printed}"))
            .to_owned()
    };

    let issued: Value = serde_json::from_str(&run(dir.path(), port, &line("curl "))).unwrap();
    assert!(
        issued["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{issued}"
    );
    assert_eq!(issued["customerUser"]["externalId"], "user_123");

    let cli_env = line("export PERFORMCHAT_URL=");
    assert!(cli_env.contains(&base), "{cli_env}");
    let listed: Value = serde_json::from_str(&run(
        dir.path(),
        port,
        &format!("{cli_env}; cargo run --release -- users list --json"),
    ))
    .unwrap();
    assert_eq!(listed["data"][0]["external_id"], "user_123", "{listed}");

    let client_env = line("export API_KEY_ID=");
    let status = run(
        dir.path(),
        port,
        &format!(
            "{client_env}; curl -s -o /dev/null -w '%{{http_code}}' -u \"$API_KEY_ID:$API_KEY_SECRET\" {base}/rest/v1/customer-users"
        ),
    );
    assert_eq!(status, "200");

    // The chat link: the demo page, and a token in its fragment that opens
    // a chat as user_123 with the quickstart's agent.
    let link = printed
        .lines()
        .find(|l| l.starts_with(&format!("{base}/chat-demo#token=")))
        .unwrap_or_else(|| panic!("no chat link in:\n{printed}"));
    let (page, token) = link.split_once("#token=").unwrap();
    let demo = http.get(page).send().await.unwrap();
    assert_eq!(demo.status(), 200);
    assert!(demo.text().await.unwrap().contains("widget.js"));
    let session: Value = http
        .get(format!("{base}/rest/v1/chat/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        session["customerUser"]["external_id"], "user_123",
        "{session}"
    );
    assert_eq!(session["agent"]["id"], issued["agent"]["id"], "{session}");
}

/// `quickstart`'s printed lines, run in `dir` with `listen` in the
/// environment, as an operator of a server on every interface would.
fn quickstart_lines(dir: &Path, listen: &str, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["--database-url", "sqlite://pc.db", "quickstart"])
        .args(extra)
        .current_dir(dir)
        .env("PERFORMCHAT_LISTEN", listen)
        .env_remove("PERFORMCHAT_PUBLIC_URL")
        .env_remove("PERFORMCHAT_DATABASE_URL")
        .env_remove("PERFORMCHAT_JWT_SECRET")
        .output()
        .expect("run quickstart");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn quickstart_never_prints_an_unspecified_address() {
    let dir = tempfile::tempdir().unwrap();
    let printed = quickstart_lines(dir.path(), "0.0.0.0:18080", &[]);
    assert!(!printed.contains("0.0.0.0"), "{printed}");
    for start in [
        "http://127.0.0.1:18080/chat-demo#token=",
        "export PERFORMCHAT_URL=http://127.0.0.1:18080 ",
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(start)),
            "{start} in:\n{printed}"
        );
    }
    assert!(
        printed.contains(" http://127.0.0.1:18080/rest/v1/auth/token"),
        "{printed}"
    );
}

#[test]
fn quickstart_prints_the_public_url_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let printed = quickstart_lines(
        dir.path(),
        "0.0.0.0:18080",
        &["--public-url", "https://chat.example.com/"],
    );
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("https://chat.example.com/chat-demo#token=")),
        "{printed}"
    );
    assert!(
        printed.contains("export PERFORMCHAT_URL=https://chat.example.com "),
        "{printed}"
    );
    assert!(!printed.contains("18080"), "{printed}");

    // An address no client can reach is refused before anything is created.
    let out = Command::new(BIN)
        .args(["--database-url", "sqlite://other.db", "quickstart"])
        .args(["--public-url", "http://0.0.0.0:8080"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--public-url"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
