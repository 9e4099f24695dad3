//! The knowledge search's dialect helper: the one place where SQLite (FTS5,
//! `bm25()`) and PostgreSQL (`tsvector`, `ts_rank`) differ. Both get the
//! same already-normalised terms and the company's scope token, match any
//! term within the company, weigh the heading path four times the body, keep
//! the best `$5` chunks per document and return `$6` rows.
//!
//! Parameters, on both: `$1` the match expression, `$2` company id, `$3` the
//! agent `LIKE` pattern or NULL, `$4` the cap on candidate chunks, `$5` chunks
//! per document, `$6` the limit; PostgreSQL adds `$7`, the ranking query
//! without the scope (its `ts_rank` of an AND would rank by proximity).

use crate::store::dialect::Backend;

/// Candidates ranked before the per-document cap: enough that the cap never
/// starves a result of `limit` ≤ 20 rows in practice, while a term found in
/// most of a large company's chunks costs one bounded sort.
pub(super) const CANDIDATES: i64 = 400;

const AGENT: &str = "($3 IS NULL OR c.agent_ids = '' OR c.agent_ids LIKE $3 ESCAPE '\\')";

/// The per-document cap, then the chunks' text and their documents' titles
/// for the rows kept: candidates carry only their key and score, so ranking
/// many matches never sorts their text. `chunk` joins a kept row's key.
fn tail(chunk: &str) -> String {
    format!(
        "), ranked AS ( \
           SELECT h.*, ROW_NUMBER() OVER (PARTITION BY h.document_id ORDER BY h.score DESC, h.position) AS n \
           FROM hits h \
         ) \
         SELECT r.document_id, d.title, d.url, c.heading, c.text, r.score \
         FROM ranked r JOIN knowledge_chunks c ON {chunk} \
         JOIN knowledge_documents d ON d.company_id = $2 AND d.id = r.document_id \
         WHERE r.n <= $5 ORDER BY r.score DESC, r.document_id, r.position LIMIT $6"
    )
}

pub(super) fn search_sql(backend: Backend) -> String {
    let (head, chunk) = match backend {
        // bm25() is lower-is-better; its weights follow the FTS columns
        // (scope, heading_terms, body_terms).
        Backend::Sqlite => (
            format!(
            "WITH hits AS ( \
               SELECT c.seq AS k, c.document_id, c.position, \
                      -bm25(knowledge_fts, 0.0, 4.0, 1.0) AS score \
               FROM knowledge_fts JOIN knowledge_chunks c ON c.seq = knowledge_fts.rowid \
               WHERE knowledge_fts MATCH $1 AND c.company_id = $2 AND {AGENT} \
               ORDER BY score DESC LIMIT $4 "
            ),
            "c.seq = r.k",
        ),
        // Weights are {D, C, B, A}: the scope (D) counts for nothing, the
        // heading (A) four times the body (B); normalisation 1 divides by
        // the log of the chunk's length, as BM25 discounts long chunks.
        Backend::Postgres => (
            format!(
            "WITH hits AS ( \
               SELECT c.id AS k, c.document_id, c.position, \
                      CAST(ts_rank('{{0, 0, 0.25, 1}}', c.terms, to_tsquery('simple', $7), 1) AS DOUBLE PRECISION) AS score \
               FROM knowledge_chunks c \
               WHERE c.terms @@ to_tsquery('simple', $1) AND c.company_id = $2 AND {AGENT} \
               ORDER BY score DESC LIMIT $4 "
            ),
            "c.company_id = $2 AND c.id = r.k",
        ),
    };
    head + &tail(chunk)
}

/// The match expression (`$1`) and, on PostgreSQL, the ranking query
/// (`$7`). Terms and scope are alphanumeric (terms.rs), so they need no
/// quoting beyond FTS5's phrase quotes.
pub(super) fn match_expression(
    backend: Backend,
    scope: &str,
    terms: &[String],
) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => {
            let any = terms
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "")))
                .collect::<Vec<_>>()
                .join(" OR ");
            (format!("scope : \"{scope}\" AND ({any})"), None)
        }
        Backend::Postgres => {
            let any = terms
                .iter()
                .map(|t| format!("'{}'", t.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(" | ");
            (format!("'{scope}' & ({any})"), Some(any))
        }
    }
}
