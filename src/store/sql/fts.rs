//! The knowledge search's dialect helper: the one place where SQLite (FTS5,
//! `bm25()`) and PostgreSQL (`tsvector`, `ts_rank`) differ. Both get the
//! same already-normalised terms and scope tokens (the company, and the agent
//! or "any agent"), match any term within the scope, weigh the heading path
//! four times the body, keep the best `$4` chunks per document and return
//! `$5` rows.
//!
//! Parameters, on both: `$1` the match expression, `$2` company id, `$3` the
//! cap on candidate chunks, `$4` chunks per document, `$5` the limit, `$6`
//! the window (how many matching chunks are ranked at most, when the caller
//! asks for one); PostgreSQL adds `$7`, the ranking query without the scope
//! (its `ts_rank` of an AND would rank by proximity).

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

pub(super) fn search_sql(backend: Backend, windowed: bool) -> String {
    let head = match backend {
        // bm25() is lower-is-better; its weights follow the FTS columns
        // (scope, heading_terms, body_terms). The window is a rowid range:
        // FTS5 walks a term's chunks in rowid order and starts at the
        // `$6`-th newest match, so only the chunks after it are scored.
        Backend::Sqlite => {
            let window = if windowed {
                "AND knowledge_fts.rowid >= COALESCE(( \
                   SELECT w.rowid FROM knowledge_fts w WHERE w.knowledge_fts MATCH $1 \
                   ORDER BY w.rowid DESC LIMIT 1 OFFSET $6 - 1), 0) "
            } else {
                ""
            };
            format!(
                "WITH hits AS ( \
                   SELECT knowledge_fts.rowid AS k, -bm25(knowledge_fts, 0.0, 4.0, 1.0) AS score \
                   FROM knowledge_fts WHERE knowledge_fts MATCH $1 {window}\
                   ORDER BY score DESC LIMIT $3 "
            )
        }
        // Weights are {D, C, B, A}: the scope (D) counts for nothing, the
        // heading (A) four times the body (B); normalisation 1 divides by
        // the log of the chunk's length, as BM25 discounts long chunks. The
        // window is a LIMIT before ranking (it binds only when more match).
        // Windowed, every term is common: the COALESCE keeps the GIN index
        // out (it would gather all the company's matches before the LIMIT;
        // 300 → 48 ms at 50 000 chunks), so the company's chunks are read
        // until the window is full.
        Backend::Postgres => {
            // Without a window no LIMIT: one of unknown size let a generic
            // plan read the whole table for a rare term.
            let (terms, window) = if windowed {
                ("COALESCE(m.terms, '')", "LIMIT $6")
            } else {
                ("m.terms", "")
            };
            format!(
                "WITH hits AS ( \
                   SELECT c.id AS k, \
                          CAST(ts_rank('{{0, 0, 0.25, 1}}', c.terms, to_tsquery('simple', $7), 1) AS DOUBLE PRECISION) AS score \
                   FROM (SELECT m.id, m.terms FROM knowledge_chunks m \
                         WHERE {terms} @@ to_tsquery('simple', $1) AND m.company_id = $2 {window}) c \
                   ORDER BY score DESC LIMIT $3 "
            )
        }
    };
    let chunk = match backend {
        Backend::Sqlite => "c.seq = h.k AND c.company_id = $2",
        Backend::Postgres => "c.company_id = $2 AND c.id = h.k",
    };
    head + &tail(chunk)
}

/// The match expression (`$1`) and, on PostgreSQL, the ranking query
/// (`$7`): the company's token, the agent's or "any agent" when an agent is
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
