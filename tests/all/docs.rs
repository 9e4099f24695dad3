//! The API reference is browsable offline at `/docs`: the page, its script
//! and its pointer to the OpenAPI document are all served by the binary.

use crate::harness;

use axum::body::Body;
use axum::http::Request;

use harness::TestApp;
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
