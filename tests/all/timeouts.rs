//! Time limits and the connection cap, against a real server over raw
//! sockets: a client that sends its headers or body too slowly is cut off, a
//! handler that cannot answer in time gives way, and connections beyond the
//! cap wait until one closes.
//!
//! The server's own timers are what is tested; the test never sleeps to
//! synchronise. Its waits are generous upper bounds that only a broken
//! server reaches.

use crate::harness;
use crate::harness::nodes;

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use harness::TestDb;
use nodes::{CliTenant, Node};
use performchat::store::Backend;

/// Far beyond any limit under test: reaching it means the server never acted.
const NEVER: Duration = Duration::from_secs(60);

async fn connect(node: &Node) -> TcpStream {
    let addr = node.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Reads one response (head and `Content-Length` body); `None` when the server
/// closed the connection without one.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String, Value)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let body =
                serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap_or(Value::Null);
            return Some((status, head, body));
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(NEVER, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing happened within {NEVER:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_headers_are_cut_off() {
    let db = TestDb::new(Backend::Sqlite).await;
    let node = Node::start_with(&db.url, &["--header-timeout", "1"]).await;

    // Half a request head, then silence.
    let mut partial = connect(&node).await;
    partial
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // And a client that connects and sends nothing at all.
    let mut silent = connect(&node).await;

    let started = std::time::Instant::now();
    let answer = within("partial headers", read_response(&mut partial)).await;
    assert!(
        answer.as_ref().is_none_or(|(status, ..)| *status == 408),
        "a client stuck in its headers got {answer:?}"
    );
    let answer = within("no headers", read_response(&mut silent)).await;
    assert!(
        answer.as_ref().is_none_or(|(status, ..)| *status == 408),
        "a silent client got {answer:?}"
    );
    println!("slow-loris clients cut off after {:?}", started.elapsed());

    // The server itself is fine.
    let mut ok = connect(&node).await;
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, ..) = within("health", read_response(&mut ok)).await.unwrap();
    assert_eq!(status, 200);
}

/// A token request whose head says 200 bytes of body follow, with 10 sent.
async fn stalled_body(node: &Node) -> TcpStream {
    let mut stream = connect(node).await;
    stream
        .write_all(
            b"POST /rest/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 200\r\n\r\n{\"keyId\": ",
        )
        .await
        .unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_too_slowly_gets_408() {
    let db = TestDb::new(Backend::Sqlite).await;
    let node = Node::start_with(
        &db.url,
        &["--body-timeout", "1", "--request-timeout", "120"],
    )
    .await;
    let mut stream = stalled_body(&node).await;
    let (status, _, body) = within("slow body", read_response(&mut stream))
        .await
        .expect("an answer, not a silent close");
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["statusCode"], 408, "{body}");
    assert_eq!(body["error"], "Request Timeout", "{body}");
    assert_eq!(body["message"], "Request body not received within 1s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_request_timeout_gets_503() {
    let db = TestDb::new(Backend::Sqlite).await;
    let node = Node::start_with(
        &db.url,
        &["--request-timeout", "1", "--body-timeout", "120"],
    )
    .await;
    let mut stream = stalled_body(&node).await;
    let (status, head, body) = within("request timeout", read_response(&mut stream))
        .await
        .expect("an answer, not a silent close");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["statusCode"], 503, "{body}");
    assert_eq!(body["error"], "Service Unavailable", "{body}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let db = TestDb::new(Backend::Sqlite).await;
    let tenant = CliTenant::create(&db.url, "Capped");
    let node = Node::start_with(
        &db.url,
        &["--max-connections", "2", "--header-timeout", "120"],
    )
    .await;
    let request = format!(
        "GET /rest/v1/agents HTTP/1.1\r\nHost: x\r\nX-Api-Key-Id: {}\r\nX-Api-Key-Secret: {}\r\n\r\n",
        tenant.key.0, tenant.key.1
    );

    // Two keep-alive connections, each proven open by a full exchange.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&node).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, ..) = within("held", read_response(&mut stream)).await.unwrap();
        assert_eq!(status, 200);
        held.push(stream);
    }

    // A third is not served while both stay open...
    let mut third = connect(&node).await;
    third.write_all(request.as_bytes()).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_secs(1), third.peek(&mut byte)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond a cap of 2: {early:?}"
    );

    // ...and is served as soon as one closes.
    drop(held.pop());
    let (status, _, body) = within("third after a slot freed", read_response(&mut third))
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{body}");
}
