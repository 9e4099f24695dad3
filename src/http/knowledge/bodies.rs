//! The knowledge routes' bodies (JSON and multipart form) and answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{format_ms, ContentType, Document, Metadata, Permission};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Endpoint;
use crate::http::upload::{unsupported, FilePart, UPLOAD_LIMIT};
use crate::http::views::Pagination;
use crate::knowledge::DocumentInput;

/// JSON `content` is text of at most 2 MiB; larger files come as multipart.
const MAX_JSON_CONTENT: usize = 2 * 1024 * 1024;

/// A document as JSON: its text in `content`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocumentBody {
    #[schema(min_length = 1, max_length = 300)]
    title: String,
    /// The document's text (up to 2 MiB), in `content_type`'s format.
    content: String,
    /// `text/plain` (default), `text/markdown` or `text/html`; PDFs come as a multipart file.
    content_type: Option<String>,
    /// An http(s) URL, shown to end users as the source's link.
    url: Option<String>,
    /// Your own id for the document, unique in the company (for sync).
    external_id: Option<String>,
    /// The agents that may use it; `[]` (default) = every agent.
    #[serde(default)]
    agent_ids: Vec<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
}

impl Endpoint for NewDocumentBody {
    const PERMISSION: Permission = Permission::KnowledgeWrite;
    const BODY_LIMIT: usize = UPLOAD_LIMIT;
}

/// A document as a multipart form: the `file` part and these text fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadForm {
    title: String,
    url: Option<String>,
    external_id: Option<String>,
    /// Comma-separated agent ids; empty or absent = every agent.
    agent_ids: Option<String>,
    /// A JSON object, as text.
    metadata: Option<String>,
    /// The file: its part's Content-Type, else its name's extension, gives its type.
    #[schema(value_type = String, format = Binary)]
    #[serde(default, skip_deserializing)]
    #[allow(dead_code)] // Documents the part in the OpenAPI schema; read by upload.rs.
    file: (),
}

impl Endpoint for UploadForm {
    const PERMISSION: Permission = Permission::KnowledgeWrite;
    const BODY_LIMIT: usize = UPLOAD_LIMIT;
}

fn metadata(value: Option<Value>) -> ApiResult<Metadata> {
    value.map_or(Ok(Metadata::default()), |v| {
        Metadata::parse(v).map_err(ApiError::BadRequest)
    })
}

impl NewDocumentBody {
    pub(super) fn into_input(self, external_id: Option<String>) -> ApiResult<DocumentInput> {
        let content_type = match self.content_type.as_deref() {
            None => ContentType::Plain,
            Some(t) => match ContentType::parse(t) {
                Some(ContentType::Pdf) => {
                    return Err(ApiError::UnsupportedMediaType(
                        "content_type application/pdf: upload PDFs as multipart/form-data with a `file` part".into(),
                    ))
                }
                Some(t) => t,
                None => return Err(unsupported(&format!("content_type {t}")).into()),
            },
        };
        if self.content.len() > MAX_JSON_CONTENT {
            return Err(ApiError::PayloadTooLarge(
                "content must be at most 2 MiB; upload larger documents as multipart/form-data"
                    .into(),
            ));
        }
        Ok(DocumentInput {
            title: self.title,
            body: self.content.into_bytes(),
            content_type,
            url: self.url,
            external_id: external_id.or(self.external_id),
            agent_ids: self.agent_ids,
            metadata: metadata(self.metadata)?,
        })
    }
}

impl UploadForm {
    pub(super) fn into_input(
        self,
        file: FilePart,
        external_id: Option<String>,
    ) -> ApiResult<DocumentInput> {
        let content_type = file.content_type?;
        let metadata = match self.metadata.as_deref().filter(|m| !m.trim().is_empty()) {
            None => Metadata::default(),
            Some(text) => {
                let value = serde_json::from_str(text).map_err(|e| {
                    ApiError::bad_request(format!("metadata must be a JSON object: {e}"))
                })?;
                metadata(Some(value))?
            }
        };
        let agent_ids = self
            .agent_ids
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(DocumentInput {
            title: self.title,
            body: file.bytes,
            content_type,
            url: self.url.filter(|u| !u.is_empty()),
            external_id: external_id.or(self.external_id.filter(|e| !e.is_empty())),
            agent_ids,
            metadata,
        })
    }
}

/// A document; `content` (the extracted text) on get-one only.
#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    #[schema(example = "doc_01JH0000000000000000000000")]
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub external_id: Option<String>,
    #[schema(example = "text/markdown")]
    pub content_type: &'static str,
    pub agent_ids: Vec<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// Code points of extracted text.
    pub chars: i64,
    pub chunk_count: i64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        DocumentView {
            id: d.id,
            title: d.title,
            url: d.url,
            external_id: d.external_id,
            content_type: d.content_type.as_str(),
            agent_ids: d.agent_ids,
            metadata: d.metadata.into_value(),
            chars: d.chars,
            chunk_count: d.chunk_count,
            created_at: format_ms(d.created_at),
            updated_at: format_ms(d.updated_at),
            content: d.content,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    pub data: Vec<DocumentView>,
    pub pagination: Pagination,
}

/// One ranked chunk.
#[derive(Serialize, ToSchema)]
pub struct SearchHit {
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    /// The chunk's heading path, `Title › Heading › Subheading`.
    pub heading: String,
    pub text: String,
    /// Relevance, higher is better; comparable within one search only.
    pub score: f64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub data: Vec<SearchHit>,
}
