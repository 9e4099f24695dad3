//! SQL for knowledge documents and chunks, shared by SQLite and PostgreSQL;
//! the search statement itself is in fts.rs, the dialect helper.
//!
//! A document's chunks are written in the transaction that writes the
//! document, so a reader (on its snapshot) sees a whole version of it: the
//! old one, the new one, or, once deleted, nothing.

use async_trait::async_trait;

use std::collections::BTreeMap;

use super::knowledge_terms::{add_chunk_terms, apply_term_counts};
use super::{fts, on_pool, storable, SqlStore};
use crate::domain::{
    agent_ids_from_stored, agent_ids_to_stored, agent_like_pattern, new_id, ContentType, Document,
    IdKind, Metadata,
};
use crate::store::{
    ChunkHit, ChunkQuery, KnowledgeStore, NewChunk, NewDocument, PageRequest, StoreError,
    StoreResult, TermCounts, UniqueKey,
};

const DOC_COLUMNS: &str = "company_id, id, title, url, external_id, content_type, agent_ids, \
     metadata, chars, chunk_count, created_at, updated_at";

/// Chunks per INSERT: ten values each, well under both databases' limits.
const CHUNK_BATCH: usize = 50;

#[derive(sqlx::FromRow)]
struct DocumentRow {
    company_id: String,
    id: String,
    title: String,
    url: Option<String>,
    external_id: Option<String>,
    content_type: String,
    agent_ids: String,
    metadata: String,
    chars: i64,
    chunk_count: i64,
    created_at: i64,
    updated_at: i64,
    #[sqlx(default)]
    content: Option<String>,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            content_type: ContentType::from_stored(&r.content_type),
            agent_ids: agent_ids_from_stored(&r.agent_ids),
            metadata: Metadata::from_stored(&r.metadata),
            company_id: r.company_id,
            id: r.id,
            title: r.title,
            url: r.url,
            external_id: r.external_id,
            chars: r.chars,
            chunk_count: r.chunk_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
            content: r.content,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    document_id: String,
    title: String,
    url: Option<String>,
    heading: String,
    text: String,
    score: f64,
}

fn insert_document_sql() -> String {
    format!(
        "INSERT INTO knowledge_documents (company_id, id, title, url, external_id, content_type, \
         agent_ids, metadata, content, chars, chunk_count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING {DOC_COLUMNS}"
    )
}

fn insert_chunks_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO knowledge_chunks (company_id, id, document_id, position, agent_ids, heading, \
         text, scope, heading_terms, body_terms) VALUES ",
    );
    for r in 0..rows {
        let b = r * 10;
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(
            &(1..=10)
                .map(|i| format!("${}", b + i))
                .collect::<Vec<_>>()
                .join(", "),
        );
        sql.push(')');
    }
    sql
}

/// Inserts `$chunks` of document `$doc_id` on `$tx`, in batches.
macro_rules! insert_chunks {
    ($tx:expr, $company:expr, $doc_id:expr, $agents:expr, $scope:expr, $chunks:expr) => {
        for (batch_no, batch) in $chunks.chunks(CHUNK_BATCH).enumerate() {
            let sql = insert_chunks_sql(batch.len());
            let mut q = sqlx::query(&sql);
            for (i, c) in batch.iter().enumerate() {
                let position = (batch_no * CHUNK_BATCH + i) as i64;
                q = q
                    .bind($company)
                    .bind(format!("{}-{position:05}", $doc_id))
                    .bind($doc_id)
                    .bind(position)
                    .bind($agents)
                    .bind(&c.heading)
                    .bind(&c.text)
                    .bind($scope)
                    .bind(&c.heading_terms)
                    .bind(&c.body_terms);
            }
            q.execute(&mut *$tx).await?;
        }
    };
}

/// The term counts `chunks` add to their company's.
fn new_counts(chunks: &[NewChunk]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    let terms = chunks.iter().map(|c| (&*c.heading_terms, &*c.body_terms));
    add_chunk_terms(&mut counts, terms, 1);
    counts
}

/// Deletes the chunks of document `$doc_id` on `$tx` and takes their terms
/// off `$counts` (a `BTreeMap<String, i64>`).
macro_rules! delete_chunks {
    ($tx:expr, $company:expr, $doc_id:expr, $counts:expr) => {{
        let old: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM knowledge_chunks WHERE company_id = $1 AND document_id = $2 \
             RETURNING heading_terms, body_terms",
        )
        .bind($company)
        .bind($doc_id)
        .fetch_all(&mut *$tx)
        .await?;
        add_chunk_terms(&mut $counts, old.iter().map(|(h, b)| (&**h, &**b)), -1);
    }};
}

/// Inserts document `$doc` as `$doc_id` on `$tx` (with `$chunk_count`
/// chunks to follow) and evaluates to its row: the create route's insert
/// and the upsert's when nothing had the external id yet.
macro_rules! insert_document {
    ($tx:expr, $company:expr, $doc_id:expr, $doc:expr, $agents:expr, $chunk_count:expr, $now:expr) => {{
        let row: DocumentRow = sqlx::query_as(&insert_document_sql())
            .bind($company)
            .bind($doc_id)
            .bind(&$doc.title)
            .bind(&$doc.url)
            .bind(&$doc.external_id)
            .bind($doc.content_type.as_str())
            .bind($agents)
            .bind($doc.metadata.to_json_text())
            .bind(&$doc.content)
            .bind($doc.chars)
            .bind($chunk_count as i64)
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?;
        row
    }};
}

impl SqlStore {
    /// One attempt at an upsert, in one transaction.
    async fn upsert_once(
        &self,
        company_id: &str,
        doc: &NewDocument,
        chunks: &[NewChunk],
        scope: &str,
        now: i64,
    ) -> StoreResult<(Document, bool)> {
        let update = format!(
            "UPDATE knowledge_documents SET title = $3, url = $4, content_type = $5, agent_ids = $6, \
             metadata = $7, content = $8, chars = $9, chunk_count = $10, updated_at = $11 \
             WHERE company_id = $1 AND external_id = $2 RETURNING {DOC_COLUMNS}"
        );
        let agents = agent_ids_to_stored(&doc.agent_ids);
        let new_doc_id = new_id(IdKind::Document);
        on_pool!(self.pools(), write, |p| {
            let mut counts = new_counts(chunks);
            let mut tx = p.begin().await?;
            let updated: Option<DocumentRow> = sqlx::query_as(&update)
                .bind(company_id)
                .bind(&doc.external_id)
                .bind(&doc.title)
                .bind(&doc.url)
                .bind(doc.content_type.as_str())
                .bind(&agents)
                .bind(doc.metadata.to_json_text())
                .bind(&doc.content)
                .bind(doc.chars)
                .bind(chunks.len() as i64)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let (row, created) = match updated {
                Some(row) => {
                    delete_chunks!(tx, company_id, &row.id, counts);
                    (row, false)
                }
                None => {
                    let row = insert_document!(
                        tx,
                        company_id,
                        &new_doc_id,
                        doc,
                        &agents,
                        chunks.len(),
                        now
                    );
                    (row, true)
                }
            };
            let doc_id = row.id.clone();
            insert_chunks!(tx, company_id, &doc_id, &agents, scope, chunks);
            apply_term_counts!(tx, company_id, counts);
            tx.commit().await?;
            Ok::<_, StoreError>((row.into(), created))
        })
    }
}

#[async_trait]
impl KnowledgeStore for SqlStore {
    async fn create_document(
        &self,
        company_id: &str,
        doc: &NewDocument,
        chunks: &[NewChunk],
        scope: &str,
        now: i64,
    ) -> StoreResult<Document> {
        let agents = agent_ids_to_stored(&doc.agent_ids);
        let doc_id = new_id(IdKind::Document);
        on_pool!(self.pools(), write, |p| {
            let mut tx = p.begin().await?;
            let row = insert_document!(tx, company_id, &doc_id, doc, &agents, chunks.len(), now);
            insert_chunks!(tx, company_id, &doc_id, &agents, scope, chunks);
            let counts = new_counts(chunks);
            apply_term_counts!(tx, company_id, counts);
            tx.commit().await?;
            Ok(row.into())
        })
    }

    async fn upsert_document(
        &self,
        company_id: &str,
        doc: &NewDocument,
        chunks: &[NewChunk],
        scope: &str,
        now: i64,
    ) -> StoreResult<(Document, bool)> {
        match self.upsert_once(company_id, doc, chunks, scope, now).await {
            // Two first PUTs raced on PostgreSQL: the loser's insert met the
            // winner's row, which its second try updates.
            Err(StoreError::Duplicate {
                key: UniqueKey::DocumentExternalId,
                ..
            }) => self.upsert_once(company_id, doc, chunks, scope, now).await,
            other => other,
        }
    }

    async fn list_documents(
        &self,
        company_id: &str,
        agent_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Document>, i64)> {
        let pattern = agent_id.map(agent_like_pattern);
        let filter =
            "company_id = $1 AND ($2 IS NULL OR agent_ids = '' OR agent_ids LIKE $2 ESCAPE '\\')";
        let sql = format!(
            "SELECT {DOC_COLUMNS} FROM knowledge_documents WHERE {filter} \
             ORDER BY created_at, id LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM knowledge_documents WHERE {filter}");
        on_pool!(self.pools(), read, |p| {
            let total: i64 = sqlx::query_scalar(&count)
                .bind(company_id)
                .bind(&pattern)
                .fetch_one(p)
                .await?;
            let rows: Vec<DocumentRow> = sqlx::query_as(&sql)
                .bind(company_id)
                .bind(&pattern)
                .bind(i64::from(page.limit))
                .bind(page.offset())
                .fetch_all(p)
                .await?;
            Ok((rows.into_iter().map(Into::into).collect(), total))
        })
    }

    async fn get_document(
        &self,
        company_id: &str,
        document_id: &str,
    ) -> StoreResult<Option<Document>> {
        if !storable(document_id) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {DOC_COLUMNS}, content FROM knowledge_documents WHERE company_id = $1 AND id = $2"
        );
        let row: Option<DocumentRow> = on_pool!(self.pools(), read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(document_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn delete_document(&self, company_id: &str, document_id: &str) -> StoreResult<bool> {
        if !storable(document_id) {
            return Ok(false);
        }
        on_pool!(self.pools(), write, |p| {
            let mut tx = p.begin().await?;
            let mut counts = BTreeMap::new();
            delete_chunks!(tx, company_id, document_id, counts);
            apply_term_counts!(tx, company_id, counts);
            let gone =
                sqlx::query("DELETE FROM knowledge_documents WHERE company_id = $1 AND id = $2")
                    .bind(company_id)
                    .bind(document_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            Ok(gone > 0)
        })
    }

    async fn term_counts(&self, company_id: &str, terms: &[String]) -> StoreResult<TermCounts> {
        self.read_term_counts(company_id, terms).await
    }

    async fn search_chunks(
        &self,
        company_id: &str,
        query: &ChunkQuery<'_>,
    ) -> StoreResult<Vec<ChunkHit>> {
        if query.terms.is_empty() {
            return Ok(Vec::new());
        }
        let (expression, rank) = fts::match_expression(
            self.backend(),
            query.scope,
            query.agent,
            query.any_agent,
            query.terms,
        );
        let sql = fts::search_sql(self.backend(), query.window.is_some());
        let rows: Vec<HitRow> = on_pool!(self.pools(), read, |p| {
            let mut q = sqlx::query_as(&sql)
                .bind(&expression)
                .bind(company_id)
                .bind(fts::CANDIDATES)
                .bind(i64::from(query.per_document))
                .bind(i64::from(query.limit))
                .bind(query.window.unwrap_or(i64::MAX));
            if let Some(rank) = &rank {
                q = q.bind(rank);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| ChunkHit {
                document_id: r.document_id,
                title: r.title,
                url: r.url,
                heading: r.heading,
                text: r.text,
                score: r.score,
            })
            .collect())
    }
}
