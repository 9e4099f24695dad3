//! Store operations for the knowledge base: documents, their chunks, and the
//! full-text search over chunks (docs/KNOWLEDGE.md). The terms to index and
//! to look for come in already normalised (src/knowledge/terms.rs), so both
//! databases index and match the same tokens.

use async_trait::async_trait;

use super::{PageRequest, StoreResult};
use crate::domain::{ContentType, Document, Metadata};

/// A document to store, its text already extracted.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub content_type: ContentType,
    pub agent_ids: Vec<String>,
    pub metadata: Metadata,
    pub content: String,
    pub chars: i64,
}

/// One chunk to store, with its index terms (space-separated stems).
#[derive(Debug, Clone)]
pub struct NewChunk {
    pub heading: String,
    pub text: String,
    pub heading_terms: String,
    pub body_terms: String,
}

/// A search: any of `terms` in the company's chunks, ranked heading above
/// body, at most `per_document` chunks of one document, `limit` in all.
#[derive(Debug, Clone)]
pub struct ChunkQuery<'a> {
    /// The company's index token.
    pub scope: &'a str,
    pub terms: &'a [String],
    /// Only documents for every agent or naming this agent (its index token).
    pub agent: Option<&'a str>,
    /// The token of documents for every agent.
    pub any_agent: &'a str,
    pub limit: u32,
    pub per_document: u32,
    /// When more chunks may match than a search should rank: rank only this
    /// many of them (on SQLite the newest, on PostgreSQL the first the index
    /// yields). `None` ranks every match.
    pub window: Option<i64>,
}

/// How many of a company's chunks hold each term of a question.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TermCounts {
    /// The company's chunks.
    pub chunks: i64,
    /// Per term, in the order asked; 0 for a term no chunk holds.
    pub terms: Vec<i64>,
}

/// A ranked chunk with its document's title and URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    pub heading: String,
    pub text: String,
    /// Higher is more relevant; comparable within one search only.
    pub score: f64,
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Stores a document and its chunks in one transaction. A taken
    /// `external_id` is `StoreError::Duplicate` (`UniqueKey::DocumentExternalId`).
    async fn create_document(
        &self,
        company_id: &str,
        doc: &NewDocument,
        chunks: &[NewChunk],
        scope: &str,
        now: i64,
    ) -> StoreResult<Document>;

    /// Creates the document with this `external_id`, or replaces it and its
    /// chunks, in one transaction: a reader sees the old version or the new
    /// one, never a mix and never none. True when it was created.
    async fn upsert_document(
        &self,
        company_id: &str,
        doc: &NewDocument,
        chunks: &[NewChunk],
        scope: &str,
        now: i64,
    ) -> StoreResult<(Document, bool)>;

    /// The company's documents in `created_at, id` order, with the total;
    /// with `agent_id`, those that agent may use.
    async fn list_documents(
        &self,
        company_id: &str,
        agent_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Document>, i64)>;

    /// One document with its `content`.
    async fn get_document(
        &self,
        company_id: &str,
        document_id: &str,
    ) -> StoreResult<Option<Document>>;

    /// Deletes a document and its chunks in one transaction; false when it
    /// is not this company's.
    async fn delete_document(&self, company_id: &str, document_id: &str) -> StoreResult<bool>;

    /// How many of the company's chunks hold each of `terms`, and how many
    /// chunks it has: kept with the chunks, read before a search to choose
    /// the terms it ranks with.
    async fn term_counts(&self, company_id: &str, terms: &[String]) -> StoreResult<TermCounts>;

    /// The best chunks for `query` in `company_id`, best first.
    async fn search_chunks(
        &self,
        company_id: &str,
        query: &ChunkQuery<'_>,
    ) -> StoreResult<Vec<ChunkHit>>;
}
