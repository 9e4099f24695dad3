//! The knowledge search's dialect helper: the one place where SQLite (FTS5,
//! `bm25()`) and PostgreSQL (`tsvector`, `ts_rank`) differ. Both get the
//! same already-normalised terms and scope tokens (the company, and the agent
//! or "any agent"), match any term within the scope, weigh the heading path
//! four times the body, keep the best `$4` chunks per document and return
//! `$5` rows.
//!
//! Parameters, on both: `$1` the match expression, `$2` company id, `$3` the
//! cap on candidate chunks, `$4` chunks per document, `$5` the limit;
//! PostgreSQL adds `$6`, the ranking query without the scope (its `ts_rank`
//! of an AND would rank by proximity).

use crate::store::dialect::Backend;

/// Candidates ranked before the per-document cap: enough that the cap never
/// starves a result of `limit` ≤ 20 rows in practice, while a term found in
/// most of a large company's chunks costs one bounded sort.
pub(super) const CANDIDATES: i64 = 400;

/// The per-document cap, then the text and titles of the rows kept:
/// candidates are ranked from the index alone (on SQLite without reading a
/// chunk row), and only the kept ones are read. `chunk` joins a candidate.
fn tail(chunk: &str) -> String {
    format!(
        "), ranked AS ( \
           SELECT h.score, c.document_id, c.position, c.heading, c.text, \
                  ROW_NUMBER() OVER (PARTITION BY c.document_id ORDER BY h.score DESC, c.position) AS n \
           FROM hits h JOIN knowledge_chunks c ON {chunk} \
         ) \
         SELECT r.document_id, d.title, d.url, r.heading, r.text, r.score \
         FROM ranked r JOIN knowledge_documents d ON d.company_id = $2 AND d.id = r.document_id \
         WHERE r.n <= $4 ORDER BY r.score DESC, r.document_id, r.position LIMIT $5"
    )
}

pub(super) fn search_sql(backend: Backend) -> String {
    let (head, chunk) = match backend {
        // bm25() is lower-is-better; its weights follow the FTS columns
        // (scope, heading_terms, body_terms).
        Backend::Sqlite => (
            "WITH hits AS ( \
               SELECT knowledge_fts.rowid AS k, -bm25(knowledge_fts, 0.0, 4.0, 1.0) AS score \
               FROM knowledge_fts WHERE knowledge_fts MATCH $1 \
               ORDER BY score DESC LIMIT $3 ",
            "c.seq = h.k AND c.company_id = $2",
        ),
        // Weights are {D, C, B, A}: the scope (D) counts for nothing, the
        // heading (A) four times the body (B); normalisation 1 divides by
        // the log of the chunk's length, as BM25 discounts long chunks.
        Backend::Postgres => (
            "WITH hits AS ( \
               SELECT c.id AS k, \
                      CAST(ts_rank('{0, 0, 0.25, 1}', c.terms, to_tsquery('simple', $6), 1) AS DOUBLE PRECISION) AS score \
               FROM knowledge_chunks c \
               WHERE c.terms @@ to_tsquery('simple', $1) AND c.company_id = $2 \
               ORDER BY score DESC LIMIT $3 ",
            "c.company_id = $2 AND c.id = h.k",
        ),
    };
    head.to_owned() + &tail(chunk)
}

/// The match expression (`$1`) and, on PostgreSQL, the ranking query
/// (`$6`): the company's token, the agent's or "any agent" when an agent is
/// given, and any of the terms in the heading or body only (never a scope
/// token). Terms and tokens are alphanumeric (terms.rs), so quoting them is
/// enough.
pub(super) fn match_expression(
    backend: Backend,
    scope: &str,
    agent: Option<&str>,
    any_agent: &str,
    terms: &[String],
) -> (String, Option<String>) {
    let clean = |t: &str| {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    match backend {
        Backend::Sqlite => {
            let any = terms
                .iter()
                .map(|t| format!("\"{}\"", clean(t)))
                .collect::<Vec<_>>()
                .join(" OR ");
            let agent = agent.map_or(String::new(), |a| {
                format!(" AND (scope : \"{any_agent}\" OR scope : \"{}\")", clean(a))
            });
            (
                format!(
                    "scope : \"{}\"{agent} AND {{heading_terms body_terms}} : ({any})",
                    clean(scope)
                ),
                None,
            )
        }
        Backend::Postgres => {
            let any = terms
                .iter()
                .map(|t| format!("'{}':AB", clean(t)))
                .collect::<Vec<_>>()
                .join(" | ");
            let agent = agent.map_or(String::new(), |a| {
                format!(" & ('{any_agent}':D | '{}':D)", clean(a))
            });
            (format!("'{}':D{agent} & ({any})", clean(scope)), Some(any))
        }
    }
}
