//! The company console's files (docs/CONSOLE.md): served from the binary
//! under a strict Content-Security-Policy, every file the page and its
//! modules ask for is there, and `quickstart` prints the link. What the page
//! does is tested in Chromium (tests/browser/console.test.mjs).

use crate::harness;

use std::process::Command;

use harness::TestApp;
use performchat::store::Backend;

const CSP_START: &str = "default-src 'self'";

fn assert_strict(reply: &harness::Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text);
    let csp = reply.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with(CSP_START), "{what}: {csp}");
    assert!(!csp.contains("unsafe"), "{what}: {csp}");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{what}");
}

/// The `/console/…` paths a text refers to (in `src="…"`, `href="…"` or
/// `from './x.js'`).
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (open, close) in [("\"/console/", '"'), ("'./", '\'')] {
        let mut rest = text;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            let end = rest.find(close).unwrap();
            found.push(format!("/console/{}", &rest[..end]));
            rest = &rest[end..];
        }
    }
    found
}

#[tokio::test]
async fn the_page_and_every_file_it_loads_are_served_under_the_policy() {
    let app = TestApp::new(Backend::Sqlite).await;
    let page = app.call(axum::http::Method::GET, "/console", None).await;
    assert_strict(&page, "/console");
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // No inline script or style for the policy to refuse.
    assert!(!page.text.contains("<style"), "{}", page.text);
    assert!(!page.text.contains(" style="), "{}", page.text);
    assert!(!page.text.contains("<script>"), "{}", page.text);
    let mut todo = references(&page.text);
    let mut seen = Vec::new();
    while let Some(path) = todo.pop() {
        if seen.contains(&path) {
            continue;
        }
        let reply = app.call(axum::http::Method::GET, &path, None).await;
        assert_strict(&reply, &path);
        if path.ends_with(".js") {
            assert!(
                reply.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/javascript"),
                "{path}"
            );
            todo.extend(references(&reply.text));
        }
        seen.push(path);
    }
    for needed in [
        "/console/app.js",
        "/console/uPlot.iife.min.js",
        "/console/console.css",
        "/console/overview.js",
    ] {
        assert!(seen.iter().any(|p| p == needed), "{needed} in {seen:?}");
    }
    let missing = app
        .call(axum::http::Method::GET, "/console/nope.js", None)
        .await;
    assert_eq!(missing.status, 404);
}

#[test]
fn quickstart_prints_the_console_link() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_performchat"))
        .args(["--database-url", "sqlite://pc.db", "quickstart"])
        .current_dir(dir.path())
        .env("PERFORMCHAT_LISTEN", "127.0.0.1:18080")
        .env_remove("PERFORMCHAT_PUBLIC_URL")
        .env_remove("PERFORMCHAT_DATABASE_URL")
        .env_remove("PERFORMCHAT_JWT_SECRET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        printed
            .lines()
            .any(|l| l == "http://127.0.0.1:18080/console"),
        "{printed}"
    );
}
