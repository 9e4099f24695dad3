//! The knowledge base: documents an agent answers from, search hits, and the
//! sources an assistant message cites.

use serde::{Deserialize, Serialize};

use super::Metadata;

/// A document of the knowledge base. `content` (the extracted text) is only
/// filled by [`Client::get_document`](crate::Client::get_document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Document {
    /// `doc_…`.
    pub id: String,
    pub title: String,
    /// The http(s) link end users see for this source.
    pub url: Option<String>,
    /// The company's own id for the document, unique per company.
    pub external_id: Option<String>,
    /// `text/plain`, `text/markdown`, `text/html` or `application/pdf`.
    pub content_type: String,
    /// The agents that may use it; empty means every agent of the company.
    #[serde(default)]
    pub agent_ids: Vec<String>,
    #[serde(default)]
    pub metadata: Metadata,
    /// Code points of the extracted text.
    pub chars: u64,
    pub chunk_count: u64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub content: Option<String>,
}

/// What a document is made of: text sent as JSON, or a file sent as
/// `multipart/form-data`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentBody {
    /// Text in one of the text types (`text/plain` unless told).
    Text {
        content: String,
        content_type: Option<String>,
    },
    /// A file; without a content type the server goes by the name's extension.
    File {
        file_name: String,
        bytes: Vec<u8>,
        content_type: Option<String>,
    },
}

/// A document to create or replace.
///
/// ```
/// use performchat_client::NewDocument;
/// let doc = NewDocument::text("Refunds", "# Refunds\n\nWithin 30 days.")
///     .content_type("text/markdown")
///     .url("https://help.example.com/refunds");
/// assert_eq!(doc.title, "Refunds");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewDocument {
    /// 1–300 code points.
    pub title: String,
    pub body: DocumentBody,
    pub url: Option<String>,
    /// Sent on create only; an upsert takes it from its path.
    pub external_id: Option<String>,
    /// Empty: every agent of the company may use it.
    pub agent_ids: Vec<String>,
    pub metadata: Option<Metadata>,
}

impl NewDocument {
    /// A document from text, `text/plain` unless [`NewDocument::content_type`] says otherwise.
    pub fn text(title: impl Into<String>, content: impl Into<String>) -> Self {
        Self::with_body(
            title,
            DocumentBody::Text {
                content: content.into(),
                content_type: None,
            },
        )
    }

    /// A document from a file's bytes (Markdown, HTML, PDF or plain text).
    pub fn file(title: impl Into<String>, file_name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self::with_body(
            title,
            DocumentBody::File {
                file_name: file_name.into(),
                bytes,
                content_type: None,
            },
        )
    }

    fn with_body(title: impl Into<String>, body: DocumentBody) -> Self {
        NewDocument {
            title: title.into(),
            body,
            url: None,
            external_id: None,
            agent_ids: Vec::new(),
            metadata: None,
        }
    }

    /// The content's type, e.g. `text/markdown` or `application/pdf`.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        let value = Some(content_type.into());
        match &mut self.body {
            DocumentBody::Text { content_type, .. } | DocumentBody::File { content_type, .. } => {
                *content_type = value
            }
        }
        self
    }

    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    pub fn agent_ids(mut self, agent_ids: Vec<String>) -> Self {
        self.agent_ids = agent_ids;
        self
    }

    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// What [`Client::upsert_document`](crate::Client::upsert_document) did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UpsertedDocument {
    pub document: Document,
    /// True when no document had that external id (HTTP 201).
    pub created: bool,
}

/// One chunk of a search result: what a reply for that agent would be given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchHit {
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    /// The chunk's whole heading path (`Title › Heading › Subheading`).
    #[serde(default)]
    pub heading: Option<String>,
    pub text: String,
    /// Higher is better; only comparable within one result.
    pub score: f64,
}

/// A document an assistant reply was given, as stored on the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Source {
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    #[serde(default)]
    pub heading: Option<String>,
}
