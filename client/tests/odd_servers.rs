//! Answers the real server never gives (proxies, outages, bugs): the client
//! must turn each into a clear error, never a panic.

use std::time::Duration;

use performchat_client::{Client, Error, UserFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request with `status` (e.g. `200 OK`),
/// `headers` and `body`; `content-length` is the body's unless `declared` says
/// otherwise (to cut a body short).
async fn canned(status: &str, headers: &str, body: &str, declared: Option<usize>) -> Client {
    let length = declared.unwrap_or(body.len());
    let response: &'static str = Box::leak(
        format!("HTTP/1.1 {status}\r\n{headers}content-length: {length}\r\nconnection: close\r\n\r\n{body}")
            .into_boxed_str(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Client::new(&url, "pk_x", "sk_y").unwrap()
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let client = canned(
        "429 Too Many Requests",
        "content-type: application/json\r\nretry-after: 42\r\n",
        "{\"statusCode\":429,\"message\":\"Too many requests, slow down\",\"error\":\"Too Many\"}",
        None,
    )
    .await;
    let err = client.get_user("cu_1").await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(42)));
            assert_eq!(message, "Too many requests, slow down");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_non_json_success_is_an_unexpected_response() {
    let client = canned(
        "200 OK",
        "content-type: text/html\r\n",
        "<html>hi</html>",
        None,
    )
    .await;
    let err = client.get_user("cu_1").await.unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedResponse { status: 200, detail } if detail.contains("<html>hi</html>")),
        "{err}"
    );
}

#[tokio::test]
async fn a_proxy_error_page_keeps_its_status() {
    let client = canned(
        "502 Bad Gateway",
        "content-type: text/plain\r\n",
        "upstream down",
        None,
    )
    .await;
    let err = client
        .list_users(&UserFilter::new(), 1, 20)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { status: 502, .. }), "{err}");
}

#[tokio::test]
async fn a_truncated_export_ends_with_an_error() {
    let client = canned(
        "200 OK",
        "content-type: application/x-ndjson\r\n",
        "{\"id\":\"cu_1\",\"external_id\":\"e\",\"name\":null,\"email\":null,\"metadata\":{},\"active\":true,\"created_at\":\"t\",\"updated_at\":\"t\",\"last_seen_at\":null}\n{\"id\":",
        Some(500),
    )
    .await;
    use futures_util::StreamExt;
    let items: Vec<_> = client
        .export_users(&UserFilter::new())
        .await
        .unwrap()
        .collect()
        .await;
    assert!(items[0].is_ok());
    assert!(items.last().unwrap().is_err(), "{items:?}");
}

#[tokio::test]
async fn no_server_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::new(&url, "a", "b")
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
}
