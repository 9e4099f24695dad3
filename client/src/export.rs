//! Streamed exports: the server sends every matching user in one answer, and
//! these streams hand it over piece by piece, so memory stays flat however
//! many users there are.
//!
//! An export that breaks off mid-way ends its stream with
//! [`Error::Transport`](crate::Error::Transport), never silently.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{Stream, StreamExt};
use reqwest::Method;

use crate::client::{send, Client};
use crate::error::{snippet, Error, Result};
use crate::types::{CustomerUser, ExportFormat, UserFilter};

type Chunks = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The raw body of an export, chunk by chunk, as the server wrote it.
pub struct ByteStream {
    inner: Chunks,
}

impl ByteStream {
    pub(crate) fn of(response: reqwest::Response) -> Self {
        ByteStream {
            inner: Box::pin(response.bytes_stream()),
        }
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .poll_next_unpin(cx)
            .map(|chunk| chunk.map(|r| r.map_err(Error::from)))
    }
}

/// Customer users decoded one by one from an NDJSON export.
pub struct UserStream {
    inner: Chunks,
    buf: Vec<u8>,
    /// Where the next unread line starts in `buf`.
    start: usize,
    /// Where the search for the next newline resumes.
    scanned: usize,
    /// The body has ended: only buffered lines remain.
    finished: bool,
    /// Nothing more will be yielded (end, or after an error).
    done: bool,
}

impl UserStream {
    fn new(inner: Chunks) -> Self {
        UserStream {
            inner,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            finished: false,
            done: false,
        }
    }

    /// The next complete line, if the buffer holds one.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        let found = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
        match found {
            Some(offset) => {
                let end = self.scanned + offset;
                let line = self.buf[self.start..end].to_vec();
                self.start = end + 1;
                self.scanned = self.start;
                Some(line)
            }
            None => {
                self.scanned = self.buf.len();
                None
            }
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        // Drop consumed lines before growing, so the buffer holds at most
        // one partial line plus one chunk.
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    fn parse(&mut self, line: &[u8]) -> Option<Result<CustomerUser>> {
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(serde_json::from_slice(text).map_err(|e| {
            self.done = true;
            Error::UnexpectedResponse {
                status: 200,
                detail: format!(
                    "export line is not a customer user: {e}; line: {}",
                    snippet(&String::from_utf8_lossy(text))
                ),
            }
        }))
    }
}

impl Stream for UserStream {
    type Item = Result<CustomerUser>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            while let Some(line) = this.next_line() {
                if let Some(item) = this.parse(&line) {
                    return Poll::Ready(Some(item));
                }
            }
            if this.finished {
                // A last line without its newline still counts.
                let rest = std::mem::take(&mut this.buf)[this.start..].to_vec();
                this.done = true;
                return Poll::Ready(this.parse(&rest));
            }
            match this.inner.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.push(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Transport(e))));
                }
                Poll::Ready(None) => this.finished = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Client {
    /// `GET /customer-users/export`: the raw export body in `format`.
    pub async fn export_bytes(
        &self,
        filter: &UserFilter,
        format: ExportFormat,
    ) -> Result<ByteStream> {
        let mut query = filter.query();
        query.extend(format.query().iter().map(|(k, v)| (*k, v.to_string())));
        let request = self
            .api(Method::GET, &["customer-users", "export"])
            .query(&query);
        let response = send(request).await?;
        Ok(ByteStream {
            inner: Box::pin(response.bytes_stream()),
        })
    }

    /// Every user matching `filter`, streamed in list order from one call.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use performchat_client::UserFilter;
    /// let mut users = client.export_users(&UserFilter::new()).await?;
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{} {}", user.id, user.external_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn export_users(&self, filter: &UserFilter) -> Result<UserStream> {
        let bytes = self.export_bytes(filter, ExportFormat::Ndjson).await?;
        Ok(UserStream::new(bytes.inner))
    }

    /// Every user matching `filter` as RFC 4180 CSV, streamed.
    pub async fn export_users_csv(&self, filter: &UserFilter) -> Result<ByteStream> {
        self.export_bytes(filter, ExportFormat::Csv).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    async fn users_from(chunks: Vec<&'static [u8]>) -> Vec<Result<CustomerUser>> {
        let chunks: Chunks = Box::pin(stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ));
        UserStream::new(chunks).collect().await
    }

    const LINE: &str = r#"{"id":"cu_1","external_id":"e","name":null,"email":null,"metadata":{},"active":true,"created_at":"t","updated_at":"t","last_seen_at":null}"#;

    #[tokio::test]
    async fn lines_split_across_chunks_decode() {
        let text: &'static str = Box::leak(format!("{LINE}\n\n{LINE}\r\n{LINE}").into_boxed_str());
        let bytes = text.as_bytes();
        let (a, rest) = bytes.split_at(10);
        let (b, c) = rest.split_at(LINE.len());
        let users = users_from(vec![a, b, c]).await;
        assert_eq!(users.len(), 3);
        assert!(users
            .iter()
            .all(|u| u.as_ref().is_ok_and(|u| u.id == "cu_1")));
    }

    #[tokio::test]
    async fn a_bad_line_ends_the_stream_with_an_error() {
        let users = users_from(vec![b"{\"oops\":1}\n", LINE.as_bytes()]).await;
        assert_eq!(users.len(), 1);
        assert!(matches!(users[0], Err(Error::UnexpectedResponse { .. })));
    }
}
