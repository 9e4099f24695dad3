//! The knowledge base's routes (docs/KNOWLEDGE.md): documents in (JSON or a
//! multipart file, see upload.rs), listed, read, deleted, and searched with
//! the ranking a reply uses. The work is in `crate::knowledge`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

mod bodies;

pub use bodies::{
    DocumentList, DocumentView, NewDocumentBody, SearchHit, SearchResult, UploadForm,
};

use super::extract::{Call, Endpoint, PathId, QueryNames};
use super::query::PAGE;
use super::upload::DocumentRequest;
use super::views::{ErrorBody, Pagination};
use crate::app::SharedState;
use crate::domain::{now_ms, Permission};
use crate::error::{ApiError, ApiResult};
use crate::knowledge::{self, DocumentInput};

/// A question's longest form: 1 000 code points stay far below the 64 KiB
/// request line the HTTP layer reads, even as 4-byte characters
/// percent-encoded (12 bytes each); 8 000 did not, and a long question got a
/// bare 414 from the connection instead of an answer.
const MAX_QUERY_CHARS: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeRead {}

impl Endpoint for KnowledgeRead {
    const PERMISSION: Permission = Permission::KnowledgeRead;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeWrite {}

impl Endpoint for KnowledgeWrite {
    const PERMISSION: Permission = Permission::KnowledgeWrite;
}

pub struct ListQuery;

impl QueryNames for ListQuery {
    const NAMES: &'static [&'static [&'static str]] = &[PAGE, &["agent_id"]];
}

pub struct SearchQuery;

impl QueryNames for SearchQuery {
    const NAMES: &'static [&'static [&'static str]] = &[&["q", "agent_id", "limit"]];
}

/// `agent_id` when given: non-empty, and an agent of the company (404 like any unknown agent).
async fn agent_filter(
    state: &SharedState,
    company_id: &str,
    value: Option<&str>,
) -> ApiResult<Option<String>> {
    let Some(id) = value else { return Ok(None) };
    if id.is_empty() {
        return Err(ApiError::bad_request("agent_id must not be empty"));
    }
    state
        .store
        .get_agent(company_id, id)
        .await?
        .ok_or(ApiError::NotFound("Agent not found"))?;
    Ok(Some(id.to_owned()))
}

type NewDocument = DocumentRequest<NewDocumentBody, UploadForm>;

fn input_of(
    request: NewDocument,
    external_id: Option<String>,
) -> ApiResult<(String, DocumentInput)> {
    match request {
        DocumentRequest::Json(call) => {
            Ok((call.key.company_id, call.body.into_input(external_id)?))
        }
        DocumentRequest::Form(call, file) => Ok((
            call.key.company_id,
            call.body.into_input(file, external_id)?,
        )),
    }
}

#[utoipa::path(post, path = "/knowledge/documents", tag = "knowledge",
    request_body(content(
        (NewDocumentBody = "application/json"),
        (UploadForm = "multipart/form-data"),
    )),
    responses((status = 201, body = DocumentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "external_id already taken", body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, description = "Unsupported document type", body = ErrorBody),
        (status = 422, description = "No text after extraction, or a PDF without a text layer", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn create(
    State(state): State<SharedState>,
    request: NewDocument,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let (company_id, input) = input_of(request, None)?;
    let doc = knowledge::create(&*state.store, &company_id, input, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

#[utoipa::path(put, path = "/knowledge/documents/by-external-id/{external_id}", tag = "knowledge",
    params(("external_id" = String, Path, description = "Your own id for the document (1–255 characters)")),
    request_body(content(
        (NewDocumentBody = "application/json"),
        (UploadForm = "multipart/form-data"),
    )),
    responses((status = 200, description = "Replaced", body = DocumentView), (status = 201, description = "Created", body = DocumentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, description = "Unsupported document type", body = ErrorBody),
        (status = 422, description = "No text after extraction, or a PDF without a text layer", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn upsert(
    State(state): State<SharedState>,
    PathId(external_id): PathId,
    request: NewDocument,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let (company_id, mut input) = input_of(request, None)?;
    if input
        .external_id
        .as_ref()
        .is_some_and(|e| *e != external_id)
    {
        return Err(ApiError::bad_request(
            "external_id in the body must match the path's, or be left out",
        ));
    }
    input.external_id = Some(external_id);
    let (doc, created) = knowledge::upsert(&*state.store, &company_id, input, now_ms()).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(doc.into())))
}

#[utoipa::path(get, path = "/knowledge/documents", tag = "knowledge",
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
        ("agent_id" = Option<String>, Query, min_length = 1, description = "Only the documents this agent may use (its own and those for every agent)"),
    ),
    responses((status = 200, body = DocumentList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    call: Call<KnowledgeRead, ListQuery>,
) -> ApiResult<Json<DocumentList>> {
    let page = call.query.page(20)?;
    let company_id = &call.key.company_id;
    let agent = agent_filter(&state, company_id, call.query.get("agent_id")).await?;
    let (docs, total) = state
        .store
        .list_documents(company_id, agent.as_deref(), page)
        .await?;
    Ok(Json(DocumentList {
        data: docs.into_iter().map(Into::into).collect(),
        pagination: Pagination::new(page, total),
    }))
}

#[utoipa::path(get, path = "/knowledge/documents/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "Document id (doc_…)")),
    responses((status = 200, body = DocumentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<KnowledgeRead>,
) -> ApiResult<Json<DocumentView>> {
    let doc = state
        .store
        .get_document(&call.key.company_id, &id)
        .await?
        .ok_or(ApiError::NotFound("Document not found"))?;
    Ok(Json(doc.into()))
}

#[utoipa::path(delete, path = "/knowledge/documents/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "Document id (doc_…)")),
    responses((status = 204, description = "Deleted, with its chunks"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn delete(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<KnowledgeWrite>,
) -> ApiResult<StatusCode> {
    if state
        .store
        .delete_document(&call.key.company_id, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("Document not found"))
    }
}

#[utoipa::path(get, path = "/knowledge/search", tag = "knowledge",
    params(
        ("q" = String, Query, min_length = 1, max_length = 1000, description = "The question; any of its terms may match"),
        ("agent_id" = Option<String>, Query, min_length = 1, description = "Rank as a reply of this agent would (its documents and those for every agent); without it, every document"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 20, description = "1–20, default 5"),
    ),
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn search(
    State(state): State<SharedState>,
    call: Call<KnowledgeRead, SearchQuery>,
) -> ApiResult<Json<SearchResult>> {
    let q = call
        .query
        .get("q")
        .ok_or_else(|| ApiError::bad_request("q is required"))?;
    if q.trim().is_empty() || q.chars().count() > MAX_QUERY_CHARS || q.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "q must be between 1 and {MAX_QUERY_CHARS} characters, not blank, without NUL"
        )));
    }
    let limit = match call.query.get("limit") {
        None => 5,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=20).contains(n) && v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be an integer between 1 and 20, got {v:?}"
                ))
            })?,
    };
    let company_id = &call.key.company_id;
    let agent = agent_filter(&state, company_id, call.query.get("agent_id")).await?;
    let hits = knowledge::search(&*state.store, company_id, q, agent.as_deref(), limit).await?;
    Ok(Json(SearchResult {
        data: hits
            .into_iter()
            .map(|h| SearchHit {
                document_id: h.document_id,
                title: h.title,
                url: h.url,
                heading: h.heading,
                text: h.text,
                score: h.score,
            })
            .collect(),
    }))
}
