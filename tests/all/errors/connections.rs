//! Errors over real connections: the body limit on a socket, unread and held-back bodies, and graceful shutdown.

use super::*;

backend_tests! {
    async fn oversized_body_over_a_real_socket_gets_413_and_the_server_keeps_serving(app) {
        let t = app.tenant("Acme").await;
        let served = app.serve().await;
        let client = reqwest::Client::new();
        let body = padded(&t.body(json!({ "userId": "u1", "agentId": t.agent })), 2 * MIB);
        let res = client
            .post(served.url("/rest/v1/auth/token"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(res.status(), 413);
        assert_eq!(res.headers()["content-type"], "application/json");
        // The unread rest of the body was drained: the connection stays usable.
        assert!(res.headers().get("connection").is_none());
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["statusCode"], json!(413));

        let health = client.get(served.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let token = client
            .post(served.url("/rest/v1/auth/token"))
            .json(&t.body(json!({ "userId": "u1", "agentId": t.agent })))
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200);
        served.shutdown().await.unwrap();
    }

    async fn unread_bodies_never_break_the_next_request_on_a_connection(app) {
        let t = app.tenant("Acme").await;
        let served = app.serve().await;
        let client = reqwest::Client::new();
        let big = vec![b' '; 2 * MIB];
        let user = format!("{USERS}/%FF");
        let requests = [
            (reqwest::Method::POST, "/nope", 404),
            (reqwest::Method::DELETE, USERS, 405),
            (reqwest::Method::POST, "/health", 405),
            (reqwest::Method::GET, "/health", 200),
            (reqwest::Method::GET, user.as_str(), 400),
            (reqwest::Method::POST, "/rest/v1/auth/token", 413),
        ];
        for _ in 0..3 {
            for (method, path, status) in &requests {
                let res = client
                    .request(method.clone(), served.url(path))
                    .header("content-type", "application/json")
                    .body(big.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                assert_eq!(res.status().as_u16(), *status, "{method} {path}");
                // The rest of the body was drained, so the connection stays usable.
                assert!(
                    res.headers().get("connection").is_none(),
                    "{method} {path} kept the connection"
                );
                res.bytes().await.unwrap();
                let next = client
                    .get(served.url(USERS))
                    .basic_auth(&t.key.0, Some(&t.key.1))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("request after {method} {path}: {e}"));
                assert_eq!(next.status(), 200);
            }
        }
        let token = client
            .post(served.url("/rest/v1/auth/token"))
            .json(&t.body(json!({ "userId": "u1", "agentId": t.agent })))
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200);
        assert!(token.headers().get("connection").is_none(), "kept alive when the body was read");
        served.shutdown().await.unwrap();
    }

    async fn an_early_answer_leaves_the_connection_usable(app) {
        let served = app.serve().await;
        let mut stream = tokio::net::TcpStream::connect(served.addr).await.unwrap();
        let body = vec![b'x'; 2 * MIB];
        let head = format!(
            "POST /nope HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        // The whole body goes out before the answer is read, as most clients do:
        // this only completes because the server reads what it does not need.
        let exchange = async {
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(&body).await.unwrap();
            let first = read_response(&mut stream).await;
            assert!(first.starts_with("HTTP/1.1 404"), "{first}");
            assert!(first.contains("Cannot POST /nope"), "{first}");
            assert!(!first.to_ascii_lowercase().contains("connection: close"), "{first}");
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .unwrap();
            let second = read_response(&mut stream).await;
            assert!(second.starts_with("HTTP/1.1 200"), "{second}");
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), exchange)
            .await
            .expect("the server read the unread body and answered");
        served.shutdown().await.unwrap();
    }

    async fn an_early_answer_does_not_invite_a_body_the_client_held_back(app) {
        let served = app.serve().await;
        let mut stream = tokio::net::TcpStream::connect(served.addr).await.unwrap();
        let head = format!(
            "POST /nope HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            2 * MIB
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(std::time::Duration::from_secs(60), read_response(&mut stream))
            .await
            .expect("answered without waiting for the body");
        assert!(answer.starts_with("HTTP/1.1 404"), "no 100 Continue first: {answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
        served.shutdown().await.unwrap();
    }

    async fn shutdown_lets_an_in_flight_request_finish(app) {
        let t = app.tenant("Acme").await;
        let served = app.serve().await;
        let addr = served.addr;
        let body = t.body(json!({ "userId": "slow", "agentId": t.agent })).to_string();

        // `Expect: 100-continue` makes the server say when the handler starts
        // reading the body, so the request is known to be in flight without
        // guessing with a sleep.
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /rest/v1/auth/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut interim = Vec::new();
        while !interim.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "connection closed early");
            interim.push(byte[0]);
        }
        assert!(interim.starts_with(b"HTTP/1.1 100"), "{}", String::from_utf8_lossy(&interim));

        let shutdown = tokio::spawn(served.shutdown());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!shutdown.is_finished(), "shutdown waits for the in-flight request");

        stream.write_all(body.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let response = String::from_utf8_lossy(&response);
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"token\""), "{response}");

        shutdown.await.unwrap().expect("clean shutdown");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no longer accepting");
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length` body, byte by byte so
/// nothing of a following response is consumed.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed early"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8_lossy(&body)
}
