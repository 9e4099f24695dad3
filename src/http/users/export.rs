//! `GET /customer-users/export`: every user of the company as CSV or NDJSON,
//! streamed so the server holds a chunk or a batch at a time however many
//! users there are: on a SQLite file and on PostgreSQL the store reads one
//! snapshot and hands over encoded chunks (`export_chunks`); elsewhere (SQLite
//! in memory) this module pages with keyset batches. Both write rows with the same encoders (encode.rs).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use utoipa::ToSchema;

use super::encode;
use super::list::filter;
use crate::app::SharedState;
use crate::domain::{UserFilter, UserFilterBody};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, QueryNames};
use crate::http::views::ErrorBody;
use crate::store::{EncodeUser, ExportRow, Store, StoreError};

/// Rows per query and per chunk written, when paging.
const BATCH: u32 = 500;

/// The export's query: the format and the list's filters.
pub struct ExportQuery;

impl QueryNames for ExportQuery {
    const NAMES: &'static [&'static [&'static str]] =
        &[&["format", "csv_formulas"], UserFilter::NAMES];
}

/// What CSV does with a cell a spreadsheet would run as a formula (first
/// character `=`, `+`, `-`, `@`, tab or CR): `escape` (the default) prefixes
/// it with `'`, `raw` leaves it as stored. NDJSON is never altered.
#[derive(Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
enum CsvFormulas {
    Escape,
    Raw,
}

impl CsvFormulas {
    fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("escape") => Ok(CsvFormulas::Escape),
            Some("raw") => Ok(CsvFormulas::Raw),
            Some(other) => Err(ApiError::bad_request(format!(
                "csv_formulas must be escape or raw, got {other:?}"
            ))),
        }
    }
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

    fn encoder(self, formulas: CsvFormulas) -> EncodeUser {
        match (self, formulas) {
            (Format::Csv, CsvFormulas::Escape) => encode::csv_user,
            (Format::Csv, CsvFormulas::Raw) => encode::csv_user_raw,
            (Format::Ndjson, _) => encode::ndjson_user,
        }
    }

    /// What comes before the first user.
    fn header(self) -> &'static [u8] {
        match self {
            Format::Csv => encode::CSV_HEADER,
            Format::Ndjson => b"",
        }
    }

    fn encode(self, encode: EncodeUser, users: &[ExportRow], header: bool) -> Bytes {
        let mut out = Vec::with_capacity(users.len() * 200);
        if header {
            out.extend_from_slice(self.header());
        }
        for u in users {
            encode(&u.as_user(), &mut out);
        }
        Bytes::from(out)
    }
}

/// Where the stream is: the key of the last row sent, and whether the last
/// batch was short (so there is nothing after it).
struct Cursor {
    store: Arc<dyn Store>,
    company_id: String,
    filter: UserFilter,
    format: Format,
    encoder: EncodeUser,
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
                Some((Ok(self.format.encode(self.encoder, &users, false)), self))
            }
            Err(e) => {
                self.done = true;
                Some((Err(stopped(&e, &self.company_id)), self))
            }
        }
    }
}

/// The status line is gone; an error item makes the server abort the
/// response, so the client sees a truncated transfer rather than a file that
/// looks complete.
fn stopped(e: &StoreError, company_id: &str) -> std::io::Error {
    tracing::error!(error = %crate::error::chain(e), company = %company_id, "export stopped mid-stream");
    std::io::Error::other("export failed")
}

/// Streams every matching user, in list order (`created_at`, `id`). Filters
/// come from the body or the query string, the body winning, as in the list.
#[utoipa::path(get, path = "/customer-users/export", tag = "customer-users",
    params(
        ("format" = inline(Option<Format>), Query, description = "`csv` (default) or `ndjson`."),
        ("csv_formulas" = inline(Option<CsvFormulas>), Query, description = "`escape` (default): a CSV cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so a spreadsheet shows it as text; `raw`: cells as stored, for machine consumers. NDJSON is never altered."),
        UserFilter,
    ),
    request_body(content = Option<UserFilterBody>, description = "Optional filters (and credentials)"),
    responses(
        (status = 200, description = "CSV with header `id,external_id,name,email,active,created_at,last_seen_at,metadata`, or one user object per line",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export(
    State(state): State<SharedState>,
    call: Call<UserFilterBody, ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(call.query.get("format"))?;
    let encoder = format.encoder(CsvFormulas::parse(call.query.get("csv_formulas"))?);
    let filter = filter(call.body, &call.query)?;
    let headers = [
        (header::CONTENT_TYPE, format.content_type()),
        (header::CONTENT_DISPOSITION, format.file_name()),
    ];
    let company_id = call.key.company_id;
    let header = format.header();
    let head = stream::iter((!header.is_empty()).then(|| Ok(Bytes::from_static(header))));
    // SQLite on a file, PostgreSQL: one statement (so one snapshot), its rows
    // encoded as they are read, off the request (store::sql::export*).
    if let Some(chunks) = state
        .store
        .export_chunks(&company_id, &filter, encoder)
        .await?
    {
        let rest = stream::unfold(chunks, |mut chunks| async {
            let item = chunks.recv().await?;
            Some((item, chunks))
        })
        .map(move |item| item.map_err(|e| stopped(&e, &company_id)));
        let body = Body::from_stream(head.chain(rest));
        return Ok((headers, body).into_response());
    }
    // Elsewhere (SQLite in memory, or when that could not start) in keyset
    // batches through the pool. The first batch is read
    // before answering, so a failing database still gets a proper error response.
    let first = state
        .store
        .export_users(&company_id, &filter, None, BATCH)
        .await?;
    let mut cursor = Cursor {
        store: Arc::clone(&state.store),
        company_id,
        filter,
        format,
        encoder,
        after: None,
        done: false,
    };
    cursor.advance(&first);
    let first = format.encode(encoder, &first, true);
    let rest = stream::unfold(cursor, Cursor::next);
    let body = Body::from_stream(stream::once(async { Ok(first) }).chain(rest));
    Ok((headers, body).into_response())
}
