//! The knowledge base as a use case (docs/KNOWLEDGE.md): documents in,
//! extracted (extract.rs), chunked (chunk.rs) and indexed as normalised
//! terms (terms.rs); searches ranked by the store. The API's search and a
//! reply's retrieval are one function, [`search`], so what a company sees
//! in `/knowledge/search` is what a reply is given.

pub mod chunk;
pub mod extract;
pub mod plan;
pub mod terms;

use crate::domain::{check_text, ContentType, Document, Metadata};
use crate::store::{ChunkHit, ChunkQuery, NewChunk, NewDocument, Store, StoreError, UniqueKey};

/// At most this many chunks of one document in one result.
pub const PER_DOCUMENT: u32 = 2;
/// A question is reduced to at most this many distinct terms.
const MAX_QUERY_TERMS: usize = 32;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_AGENT_IDS: usize = 100;

/// Why a knowledge request was refused; `src/error.rs` maps it to a status.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// A field is wrong (400), the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Not one of the four content types (415).
    #[error("{0}")]
    UnsupportedType(String),
    /// Readable type, but no usable text (422).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for KnowledgeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate {
                key: UniqueKey::DocumentExternalId,
                ..
            } => KnowledgeError::Conflict("A document with this external_id already exists"),
            other => KnowledgeError::Store(other),
        }
    }
}

pub type KnowledgeResult<T> = Result<T, KnowledgeError>;

/// A document as a client sends it, before extraction.
#[derive(Debug, Clone)]
pub struct DocumentInput {
    pub title: String,
    pub body: Vec<u8>,
    pub content_type: ContentType,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub agent_ids: Vec<String>,
    pub metadata: Metadata,
}

/// The field rules of docs/API.md §9, each failure naming its field.
pub fn check_fields(input: &DocumentInput) -> KnowledgeResult<()> {
    let invalid = KnowledgeError::Invalid;
    let title_len = input.title.chars().count();
    if input.title.trim().is_empty() || title_len > MAX_TITLE_CHARS {
        return Err(invalid(format!(
            "title must be between 1 and {MAX_TITLE_CHARS} characters and not blank"
        )));
    }
    check_text("title", &input.title).map_err(invalid)?;
    if let Some(url) = &input.url {
        check_url(url).map_err(invalid)?;
    }
    if let Some(id) = &input.external_id {
        crate::domain::ExternalId::parse("external_id", id.clone()).map_err(invalid)?;
    }
    if input.agent_ids.len() > MAX_AGENT_IDS {
        return Err(invalid(format!(
            "agent_ids must hold at most {MAX_AGENT_IDS} agents"
        )));
    }
    for id in &input.agent_ids {
        if id.is_empty()
            || id.len() > 128
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(format!("agent_ids: {id:?} is not an agent id")));
        }
    }
    Ok(())
}

/// An absolute http(s) URL of at most 2 048 characters.
fn check_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("url must be an absolute http or https URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("url must be an absolute http or https URL of at most 2048 characters".into());
    }
    Ok(())
}

/// Extraction, chunking and terms: CPU work, run off the async threads.
pub async fn prepare(input: DocumentInput) -> KnowledgeResult<(NewDocument, Vec<NewChunk>)> {
    tokio::task::spawn_blocking(move || prepare_now(input))
        .await
        .map_err(|e| {
            KnowledgeError::Unprocessable(format!("Could not extract the document: {e}"))
        })?
}

fn prepare_now(input: DocumentInput) -> KnowledgeResult<(NewDocument, Vec<NewChunk>)> {
    let blocks = extract::extract(input.content_type, &input.body)?;
    let content = extract::joined(&blocks);
    if content.trim().is_empty() {
        return Err(KnowledgeError::Unprocessable(
            "The document has no text after extraction".into(),
        ));
    }
    let chunks = chunk::chunk(&input.title, &blocks)
        .into_iter()
        .map(|c| NewChunk {
            heading_terms: terms::indexed(&c.heading),
            body_terms: terms::indexed(&c.text),
            heading: c.heading,
            text: c.text,
        })
        .collect();
    let doc = NewDocument {
        chars: content.chars().count() as i64,
        title: input.title,
        url: input.url,
        external_id: input.external_id,
        content_type: input.content_type,
        agent_ids: input.agent_ids,
        metadata: input.metadata,
        content,
    };
    Ok((doc, chunks))
}

/// Every named agent must be the company's: a typo would otherwise hide
/// the document from every agent.
async fn check_agents(store: &dyn Store, company_id: &str, ids: &[String]) -> KnowledgeResult<()> {
    for id in ids {
        if store
            .get_agent(company_id, id)
            .await
            .map_err(KnowledgeError::Store)?
            .is_none()
        {
            return Err(KnowledgeError::Invalid(format!(
                "agent_ids: agent {id} not found"
            )));
        }
    }
    Ok(())
}

/// Stores a new document (201).
pub async fn create(
    store: &dyn Store,
    company_id: &str,
    input: DocumentInput,
    now: i64,
) -> KnowledgeResult<Document> {
    check_fields(&input)?;
    check_agents(store, company_id, &input.agent_ids).await?;
    let scope = terms::chunk_scope(company_id, &input.agent_ids);
    let (doc, chunks) = prepare(input).await?;
    Ok(store
        .create_document(company_id, &doc, &chunks, &scope, now)
        .await?)
}

/// Creates (true) or replaces (false) the document with `input.external_id`.
pub async fn upsert(
    store: &dyn Store,
    company_id: &str,
    input: DocumentInput,
    now: i64,
) -> KnowledgeResult<(Document, bool)> {
    check_fields(&input)?;
    check_agents(store, company_id, &input.agent_ids).await?;
    let scope = terms::chunk_scope(company_id, &input.agent_ids);
    let (doc, chunks) = prepare(input).await?;
    Ok(store
        .upsert_document(company_id, &doc, &chunks, &scope, now)
        .await?)
}

/// The ranking a reply for `agent_id` uses (every document of the company
/// without one): any term of `text` the plan keeps (plan.rs), at most
/// [`PER_DOCUMENT`] chunks per document, `limit` chunks.
pub async fn search(
    store: &dyn Store,
    company_id: &str,
    text: &str,
    agent_id: Option<&str>,
    limit: u32,
) -> KnowledgeResult<Vec<ChunkHit>> {
    let terms = terms::query_terms(text, MAX_QUERY_TERMS);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let counts = store.term_counts(company_id, &terms).await?;
    let plan = plan::choose(&terms, &counts, plan::BUDGET);
    if plan.terms.is_empty() {
        return Ok(Vec::new());
    }
    let scope = terms::scope_token(company_id);
    let agent = agent_id.map(terms::agent_token);
    let query = ChunkQuery {
        scope: &scope,
        terms: &plan.terms,
        agent: agent.as_deref(),
        any_agent: terms::ANY_AGENT,
        limit,
        per_document: PER_DOCUMENT,
        window: plan.window,
    };
    Ok(store.search_chunks(company_id, &query).await?)
}
