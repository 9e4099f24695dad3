//! `GET /customer-users/{id}/data-export`: everything stored about one
//! customer user as one JSON document (docs/API.md §12.2), streamed: the
//! user object first, then their conversations a page at a time, each with
//! its messages a page at a time, so the server holds a page and a chunk of
//! output whatever the user's history. The document is read in pages on the
//! reader pool, not from one snapshot: a message written while it streams
//! may or may not be in it; nothing is listed twice (the pages are keyset).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::list::UsersRead;
use crate::app::SharedState;
use crate::domain::{format_ms, now_ms, CustomerUser};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, PathId};
use crate::http::views::{ConversationView, ErrorBody, MessageView, UserView};
use crate::store::{Store, StoreError};

/// Conversations per query.
const CONVERSATIONS: u32 = 100;
/// Messages per query.
const MESSAGES: u32 = 500;
/// Output is handed to the connection in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;

/// The document's shape, for the OpenAPI document; the handler writes it
/// piece by piece in this order.
#[derive(Serialize, ToSchema)]
pub struct DataExport {
    /// When the export was made.
    pub exported_at: String,
    /// The user as `GET /customer-users/{id}` shows them.
    pub customer_user: UserView,
    /// Their conversations in `created_at, id` order.
    pub conversations: Vec<ExportedConversation>,
}

/// A conversation as `GET /conversations/{id}` shows it, with all its messages.
#[derive(Serialize, ToSchema)]
pub struct ExportedConversation {
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// Every message, oldest first, as `GET /conversations/{id}/messages` shows them.
    pub messages: Vec<MessageView>,
}

#[utoipa::path(get, path = "/customer-users/{id}/data-export", tag = "customer-users",
    params(("id" = String, Path, description = "Customer user id (cu_…)")),
    responses(
        (status = 200, body = DataExport, description = "The whole document, as an attachment (`Content-Disposition`), streamed"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such user in the key's company")))]
pub async fn data_export(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UsersRead>,
) -> ApiResult<Response> {
    let company_id = call.key.company_id;
    let user = state
        .store
        .get_user(&company_id, &id)
        .await?
        .ok_or(ApiError::NotFound("Customer user not found"))?;
    let disposition = format!("attachment; filename=\"customer-user-{}.json\"", user.id);
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(write_document(
        Arc::clone(&state.store),
        company_id,
        user,
        tx,
    ));
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async {
        let item = rx.recv().await?;
        Some((item, rx))
    }));
    // Personal data: no cache on the way may keep a copy.
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, body).into_response())
}

type Chunks = mpsc::Sender<std::io::Result<Bytes>>;

/// Why the writer stopped early: the client left, or the store failed.
enum Stop {
    Gone,
    Store(StoreError),
}

/// Writes the document into `tx`. The status line has gone out already, so
/// a store failure ends the stream with an error item: the server aborts the
/// response and the client sees a truncated transfer, not a document that
/// looks complete.
async fn write_document(store: Arc<dyn Store>, company_id: String, user: CustomerUser, tx: Chunks) {
    let mut out = Output {
        tx,
        buf: Vec::with_capacity(CHUNK + 4096),
    };
    if let Err(Stop::Store(e)) = document(store.as_ref(), &company_id, user, &mut out).await {
        tracing::error!(error = %crate::error::chain(&e), company = %company_id, "data export stopped mid-stream");
        let _ = out
            .tx
            .send(Err(std::io::Error::other("export failed")))
            .await;
    }
}

struct Output {
    tx: Chunks,
    buf: Vec<u8>,
}

impl Output {
    fn json(&mut self, value: &impl Serialize) {
        // Serialising our own views into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, value);
    }

    /// Hands the buffer over once it holds a chunk (or, with `all`, whatever it holds).
    async fn flush(&mut self, all: bool) -> Result<(), Stop> {
        let wanted = self.buf.len() >= CHUNK || (all && !self.buf.is_empty());
        if !wanted {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK + 4096),
        ));
        self.tx.send(Ok(chunk)).await.map_err(|_| Stop::Gone)
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

async fn document(
    store: &dyn Store,
    company_id: &str,
    user: CustomerUser,
    out: &mut Output,
) -> Result<(), Stop> {
    let user_id = user.id.clone();
    out.buf.extend_from_slice(b"{\"exported_at\":");
    out.json(&format_ms(now_ms()));
    out.buf.extend_from_slice(b",\"customer_user\":");
    out.json(&UserView::from(user));
    out.buf.extend_from_slice(b",\"conversations\":[");
    let mut after: Option<(i64, String)> = None;
    let mut first = true;
    loop {
        let key = after.as_ref().map(|(t, id)| (*t, id.as_str()));
        let page = store
            .user_conversations_after(company_id, &user_id, key, CONVERSATIONS)
            .await?;
        let full = page.len() == CONVERSATIONS as usize;
        for conversation in page {
            if !first {
                out.buf.push(b',');
            }
            first = false;
            after = Some((conversation.created_at, conversation.id.clone()));
            conversation_with_messages(store, company_id, conversation, out).await?;
        }
        if !full {
            break;
        }
    }
    out.buf.extend_from_slice(b"]}");
    out.flush(true).await
}

/// The conversation's view with a `messages` member added: the view is
/// written without its closing brace, then the messages, then the brace.
async fn conversation_with_messages(
    store: &dyn Store,
    company_id: &str,
    conversation: crate::domain::Conversation,
    out: &mut Output,
) -> Result<(), Stop> {
    let conversation_id = conversation.id.clone();
    let view = serde_json::to_vec(&ConversationView::from(conversation)).unwrap_or_default();
    // A struct serialises as an object: `{...}`, never empty.
    out.buf
        .extend_from_slice(&view[..view.len().saturating_sub(1)]);
    out.buf.extend_from_slice(b",\"messages\":[");
    let mut after: Option<(i64, String)> = None;
    let mut first = true;
    loop {
        let key = after.as_ref().map(|(t, id)| (*t, id.as_str()));
        let page = store
            .conversation_messages_after(company_id, &conversation_id, key, MESSAGES)
            .await?;
        let full = page.len() == MESSAGES as usize;
        for message in page {
            if !first {
                out.buf.push(b',');
            }
            first = false;
            after = Some((message.created_at, message.id.clone()));
            out.json(&MessageView::from(message));
        }
        out.flush(false).await?;
        if !full {
            break;
        }
    }
    out.buf.extend_from_slice(b"]}");
    Ok(())
}
