//! Early answers and unread bodies.
//!
//! Some answers go out before the request body was read to its end: a 413, or
//! a 404/405/400 that never looked at the body. If the server then closes the
//! connection with bytes still arriving, the kernel answers them with a reset,
//! and the client may see "connection reset" instead of our error body. So,
//! like nginx's lingering close, the rest of the body is read and thrown away
//! before the answer is released — bounded in bytes and time, because a client
//! may send without end. Within the bounds the connection stays usable; past
//! them the answer says `Connection: close` and the drain stops.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use futures::{Stream, StreamExt};

/// At most this much of an unread body is read and discarded.
const LINGER_BYTES: usize = 16 * 1024 * 1024;
/// And for at most this long.
const LINGER_TIME: Duration = Duration::from_secs(5);

/// The request body, shared between the handler and this layer, so that what
/// the handler left unread can still be drained after it has dropped its end.
#[derive(Clone)]
struct SharedBody {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    stream: BodyDataStream,
    /// Whether anyone asked for the body yet.
    polled: bool,
    ended: bool,
}

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.polled = true;
        if inner.ended {
            return Poll::Ready(None);
        }
        let next = inner.stream.poll_next_unpin(cx);
        if let Poll::Ready(None | Some(Err(_))) = next {
            inner.ended = true;
        }
        next
    }
}

impl SharedBody {
    /// (polled, ended)
    fn state(&self) -> (bool, bool) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.polled, inner.ended)
    }

    /// Reads what is left, within the bounds; true when the body ended.
    async fn drain(mut self) -> bool {
        let drained = async {
            let mut read = 0usize;
            while let Some(chunk) = self.next().await {
                match chunk {
                    Ok(bytes) => read += bytes.len(),
                    Err(_) => return false,
                }
                if read > LINGER_BYTES {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(LINGER_TIME, drained)
            .await
            .unwrap_or(false)
    }
}

pub async fn drain_unread_body(req: Request, next: Next) -> Response {
    use axum::body::HttpBody;

    let (parts, body) = req.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // A client that asked `Expect: 100-continue` sends its body only once the
    // server starts reading it: when the handler never did, nothing is on the
    // way, and reading now would only invite the upload we are refusing.
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let shared = SharedBody {
        inner: Arc::new(Mutex::new(Inner {
            stream: body.into_data_stream(),
            polled: false,
            ended: false,
        })),
    };
    let mut response = next
        .run(Request::from_parts(
            parts,
            Body::from_stream(shared.clone()),
        ))
        .await;
    let (polled, ended) = shared.state();
    if ended {
        return response;
    }
    let drained = if expects_continue && !polled {
        false
    } else {
        shared.drain().await
    };
    if !drained {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
