//! docs/API.md §8.1: the widget script and the demo page are served from the binary,
//! without credentials, with caching that lets a browser revalidate cheaply.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};

use common::TestApp;
use performchat::store::Backend;

async fn get(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> common::Reply {
    let mut req = Request::builder().method(Method::GET).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn header<'a>(r: &'a common::Reply, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing {name}"))
}

#[tokio::test]
async fn widget_js_is_served_with_a_validator_and_a_long_cache() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = get(&app, "/widget.js", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert!(r.text.contains("global.PerformChat"));
    // The three source files arrive as one script, in order.
    let core = r.text.find("createTokenManager").unwrap();
    let ui = r.text.find("ns.init = init").unwrap();
    assert!(core < ui);
    let cache = header(&r, "cache-control");
    assert!(cache.contains("max-age=86400"), "{cache}");
    let etag = header(&r, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );

    let again = get(&app, "/widget.js", &[]).await;
    assert_eq!(header(&again, "etag"), etag, "the ETag is stable");

    let not_modified = get(&app, "/widget.js", &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.text.is_empty());
    assert_eq!(header(&not_modified, "etag"), etag);
    assert!(header(&not_modified, "cache-control").contains("max-age"));

    let weak = format!("\"stale\", W/{etag}");
    assert_eq!(
        get(&app, "/widget.js", &[("if-none-match", &weak)])
            .await
            .status,
        304
    );
    let stale = get(&app, "/widget.js", &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.text, r.text);
}

#[tokio::test]
async fn demo_page_embeds_the_widget_and_keeps_the_token_out_of_requests() {
    let app = TestApp::new(Backend::Sqlite).await;
    let page = get(&app, "/chat-demo", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(page.text.contains(r#"<script src="/widget.js"></script>"#));
    assert!(page
        .text
        .contains(r#"<script src="/chat-demo.js"></script>"#));
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "no inline script or style: {csp}");
    assert!(
        csp.contains("style-src 'sha256-"),
        "the page's own style by digest: {csp}"
    );

    let script = get(&app, "/chat-demo.js", &[]).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        header(&script, "content-type"),
        "text/javascript; charset=utf-8"
    );
    // The token is read from the fragment, never from the query string.
    assert!(script.text.contains("location.hash"));
    assert!(!script.text.contains("location.search"));
}

#[tokio::test]
async fn widget_routes_need_no_credentials_and_refuse_other_methods() {
    let app = TestApp::new(Backend::Sqlite).await;
    for path in ["/widget.js", "/chat-demo", "/chat-demo.js"] {
        let r = app.call(Method::POST, path, None).await;
        r.assert_error(405);
        assert!(header(&r, "allow").contains("GET"), "{path}");
        let head = app
            .send(
                Request::builder()
                    .method(Method::HEAD)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(head.status, 200, "HEAD {path}");
    }
    // Only the root serves them: the API prefix does not.
    app.call(Method::GET, "/rest/v1/widget.js", None)
        .await
        .assert_error(404);
}
