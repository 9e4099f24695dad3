//! The API reference is browsable offline at `/docs`: the page, its script
//! and its pointer to the OpenAPI document are all served by the binary. And
//! the written docs hold together: every relative link in README.md,
//! DEVELOPERS.md and docs/*.md names a file of the repository (and, for a
//! Markdown file, one of its headings).

mod common;

use axum::body::Body;
use axum::http::Request;

use common::TestApp;
use performchat::store::Backend;

#[tokio::test]
async fn docs_page_and_its_assets_are_served_without_a_cdn() {
    let app = TestApp::new(Backend::Sqlite).await;
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let page = app.send(get("/docs/")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui-bundle.js"), "{}", page.text);
    assert!(
        !page.text.contains("https://"),
        "no asset from elsewhere: {}",
        page.text
    );
    let bundle = app.send(get("/docs/swagger-ui-bundle.js")).await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000, "the real bundle, embedded");
    let init = app.send(get("/docs/swagger-initializer.js")).await;
    assert!(
        init.text.contains("\"url\": \"/rest/v1/openapi.json\""),
        "{}",
        init.text
    );
    let redirect = app.send(get("/docs")).await;
    assert_eq!(redirect.headers["location"], "/docs/");
}

/// The Markdown files whose relative links must resolve.
fn documents() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("DEVELOPERS.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Link targets outside fenced code blocks: `[text](target)` and images.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            targets.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// The anchors GitHub gives a file's headings: lower case, punctuation
/// dropped, spaces as hyphens, repeats numbered.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let repeats = seen.iter().filter(|s| **s == slug).count();
        seen.push(slug.clone());
        if repeats > 0 {
            seen.push(format!("{slug}-{repeats}"));
        }
    }
    seen
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                doc.clone()
            } else {
                dir.join(path)
            };
            if !file.exists() {
                broken.push(format!("{}: {target} (no such file)", doc.display()));
                continue;
            }
            let is_markdown = file.extension().is_some_and(|x| x == "md");
            if !anchor.is_empty() && is_markdown {
                let headings = anchors(&std::fs::read_to_string(&file).unwrap());
                if !headings.iter().any(|h| h == anchor) {
                    broken.push(format!("{}: {target} (no such heading)", doc.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_sees_links_and_headings() {
    let text = "# A title\n[x](docs/API.md#0-conventions) ![i](a.png)\n```\n[no](skipped.md)\n```\n## 0.4 Rate limits, and more\n## A title\n";
    assert_eq!(link_targets(text), ["docs/API.md#0-conventions", "a.png"]);
    assert_eq!(
        anchors(text),
        ["a-title", "04-rate-limits-and-more", "a-title", "a-title-1"]
    );
}
