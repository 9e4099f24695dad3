//! Time limits inside a request: how long the client may take to send its
//! body, and how long the server may take to start its answer.
//!
//! The request timeout bounds the time to the response head only: once a
//! handler has returned its response, a streamed body (an export, a chat
//! reply) flows for as long as it needs, under its own limits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

pub use crate::app::TimeLimits;
use crate::error::error_response;

pub async fn limit_time(State(limits): State<TimeLimits>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let body = Body::new(DeadlineBody {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(limits.body)),
        limit: limits.body,
    });
    let req = Request::from_parts(parts, body);
    match tokio::time::timeout(limits.request, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            // The handler (and any transaction it held) is dropped here.
            let message = format!(
                "The server did not answer within {}s; try again",
                limits.request.as_secs()
            );
            let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, &message);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The body did not arrive within the body time limit.
#[derive(Debug)]
pub struct BodyTimedOut(pub Duration);

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Request body not received within {}s", self.0.as_secs())
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether a body read failed because the client was too slow.
pub fn body_timed_out<'a>(
    mut err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a BodyTimedOut> {
    loop {
        if let Some(timeout) = err.downcast_ref::<BodyTimedOut>() {
            return Some(timeout);
        }
        err = err.source()?;
    }
}

/// The request body with one deadline for all of it: a client trickling a
/// byte at a time cannot reset it, as it could a per-read timeout.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    limit: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(self.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::{Body, Bytes};
    use axum::http::Request;
    use axum::routing::get;
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::{limit_time, TimeLimits};

    const LIMIT: Duration = Duration::from_millis(300);

    fn app() -> Router {
        let limits = TimeLimits {
            request: LIMIT,
            ..TimeLimits::default()
        };
        Router::new()
            .route(
                "/slow-head",
                get(|| async {
                    tokio::time::sleep(LIMIT * 3).await;
                    "late"
                }),
            )
            .route(
                "/slow-stream",
                get(|| async {
                    // The head goes out at once; the body's one chunk comes
                    // well after the request timeout.
                    let chunk = futures::stream::once(async {
                        tokio::time::sleep(LIMIT * 3).await;
                        Ok::<_, std::convert::Infallible>(Bytes::from_static(b"streamed"))
                    });
                    Body::from_stream(chunk)
                }),
            )
            .layer(axum::middleware::from_fn_with_state(limits, limit_time))
    }

    #[tokio::test]
    async fn a_late_head_gets_503() {
        let req = Request::get("/slow-head").body(Body::empty()).unwrap();
        let res = app().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 503);
    }

    #[tokio::test]
    async fn a_stream_outlives_the_request_timeout() {
        let req = Request::get("/slow-stream").body(Body::empty()).unwrap();
        let res = app().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"streamed");
    }
}
