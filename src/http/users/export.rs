//! `GET /customer-users/export`: every user of the company as CSV or NDJSON,
//! streamed in keyset batches so the server holds one batch at a time
//! however many users there are.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use utoipa::ToSchema;

use super::list::filter;
use crate::app::SharedState;
use crate::domain::{format_ms, Metadata};
use crate::domain::{UserFilter, UserFilterBody};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, QueryNames};
use crate::http::views::{ErrorBody, UserView};
use crate::store::{ExportRow, Store};

/// Rows per query and per chunk written.
const BATCH: u32 = 500;

const CSV_HEADER: [&str; 8] = [
    "id",
    "external_id",
    "name",
    "email",
    "active",
    "created_at",
    "last_seen_at",
    "metadata",
];

/// The export's query: the format and the list's filters.
pub struct ExportQuery;

impl QueryNames for ExportQuery {
    const NAMES: &'static [&'static [&'static str]] = &[&["format"], UserFilter::NAMES];
}

#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
enum Format {
    Csv,
    Ndjson,
}

impl Format {
    fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("csv") => Ok(Format::Csv),
            Some("ndjson") => Ok(Format::Ndjson),
            Some(other) => Err(ApiError::bad_request(format!(
                "format must be csv or ndjson, got {other:?}"
            ))),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Format::Csv => "attachment; filename=\"customer-users.csv\"",
            Format::Ndjson => "attachment; filename=\"customer-users.ndjson\"",
        }
    }

    fn encode(self, users: Vec<ExportRow>, header: bool) -> std::io::Result<Bytes> {
        match self {
            Format::Csv => csv_chunk(users, header),
            Format::Ndjson => ndjson_chunk(users),
        }
    }
}

/// RFC 4180 via the `csv` crate: CRLF ends, quoting only where needed.
fn csv_chunk(users: Vec<ExportRow>, header: bool) -> std::io::Result<Bytes> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(users.len() * 200));
    if header {
        w.write_record(CSV_HEADER)?;
    }
    for u in users {
        let active = if u.active { "true" } else { "false" };
        w.write_record([
            u.id.as_str(),
            &u.external_id,
            u.name.as_deref().unwrap_or_default(),
            u.email.as_deref().unwrap_or_default(),
            active,
            &format_ms(u.created_at),
            &u.last_seen_at.map(format_ms).unwrap_or_default(),
            &u.metadata,
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(Bytes::from(bytes))
}

fn ndjson_chunk(users: Vec<ExportRow>) -> std::io::Result<Bytes> {
    let mut out = Vec::new();
    for u in users {
        let view = UserView {
            metadata: Metadata::from_stored(&u.metadata).into_value(),
            id: u.id,
            external_id: u.external_id,
            name: u.name,
            email: u.email,
            active: u.active,
            created_at: format_ms(u.created_at),
            updated_at: format_ms(u.updated_at),
            last_seen_at: u.last_seen_at.map(format_ms),
        };
        serde_json::to_writer(&mut out, &view)?;
        out.push(b'\n');
    }
    Ok(Bytes::from(out))
}

/// Where the stream is: the key of the last row sent, and whether the last
/// batch was short (so there is nothing after it).
struct Cursor {
    store: Arc<dyn Store>,
    company_id: String,
    filter: UserFilter,
    format: Format,
    after: Option<(i64, String)>,
    done: bool,
}

impl Cursor {
    fn advance(&mut self, users: &[ExportRow]) {
        self.done = users.len() < BATCH as usize;
        if let Some(last) = users.last() {
            self.after = Some((last.created_at, last.id.clone()));
        }
    }

    async fn next(mut self) -> Option<(std::io::Result<Bytes>, Self)> {
        if self.done {
            return None;
        }
        let after = self.after.as_ref().map(|(t, id)| (*t, id.as_str()));
        let batch = self
            .store
            .export_users(&self.company_id, &self.filter, after, BATCH)
            .await;
        match batch {
            Ok(users) if users.is_empty() => None,
            Ok(users) => {
                self.advance(&users);
                Some((self.format.encode(users, false), self))
            }
            Err(e) => {
                // The status line is gone; an error item makes the server
                // abort the response, so the client sees a truncated
                // transfer rather than a file that looks complete.
                tracing::error!(error = %crate::error::chain(&e), company = %self.company_id, "export stopped mid-stream");
                self.done = true;
                Some((Err(std::io::Error::other("export failed")), self))
            }
        }
    }
}

/// Streams every matching user, in list order (`created_at`, `id`). Filters
/// come from the body or the query string, the body winning, as in the list.
#[utoipa::path(get, path = "/customer-users/export", tag = "customer-users",
    params(
        ("format" = inline(Option<Format>), Query, description = "`csv` (default) or `ndjson`."),
        UserFilter,
    ),
    request_body(content = Option<UserFilterBody>, description = "Optional filters (and credentials)"),
    responses(
        (status = 200, description = "CSV with header `id,external_id,name,email,active,created_at,last_seen_at,metadata`, or one user object per line",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn export(
    State(state): State<SharedState>,
    call: Call<UserFilterBody, ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(call.query.get("format"))?;
    let filter = filter(call.body, &call.query)?;
    // The first batch is read before answering, so a failing database still
    // gets a proper error response.
    let first = state
        .store
        .export_users(&call.key.company_id, &filter, None, BATCH)
        .await?;
    let mut cursor = Cursor {
        store: Arc::clone(&state.store),
        company_id: call.key.company_id,
        filter,
        format,
        after: None,
        done: false,
    };
    cursor.advance(&first);
    let head = format
        .encode(first, true)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let rest = stream::unfold(cursor, Cursor::next);
    let body = Body::from_stream(stream::once(async { Ok(head) }).chain(rest));
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::CONTENT_DISPOSITION, format.file_name()),
        ],
        body,
    )
        .into_response())
}
