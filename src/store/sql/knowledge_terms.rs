//! The per-company term counts of the knowledge base (`knowledge_terms`,
//! migration `search`): how many chunks hold each stem, and under the empty
//! term how many chunks the company has. A search reads them to rank with
//! its question's rarer terms only (docs/KNOWLEDGE.md, "Bounded work per
//! search"); they change in the transaction that writes or deletes chunks,
//! so a search never sees counts of a version it cannot see.

use std::collections::{BTreeMap, HashSet};

use super::{on_pool, SqlStore};
use crate::store::{StoreResult, TermCounts};

/// Term rows per upsert statement: two parameters each (the company is
/// `$1` of all), small enough that SQLite's by-name parameter lookup stays
/// cheap.
pub(super) const TERM_BATCH: usize = 100;

/// Adds, per distinct term of each chunk, `sign` to its count, and `sign` per
/// chunk to the company's total (the empty term). A map ordered by term, so
/// every writer updates rows in the same order and two concurrent writers
/// on PostgreSQL wait for each other instead of deadlocking.
pub(super) fn add_chunk_terms<'a>(
    counts: &mut BTreeMap<String, i64>,
    chunks: impl IntoIterator<Item = (&'a str, &'a str)>,
    sign: i64,
) {
    let mut seen = HashSet::new();
    for (heading_terms, body_terms) in chunks {
        seen.clear();
        for term in heading_terms.split(' ').chain(body_terms.split(' ')) {
            if !term.is_empty() && seen.insert(term) {
                *counts.entry(term.to_owned()).or_default() += sign;
            }
        }
        *counts.entry(String::new()).or_default() += sign;
    }
}

/// `INSERT … ON CONFLICT` adding each row's count to the stored one.
pub(super) fn upsert_counts_sql(rows: usize) -> String {
    let values = (0..rows)
        .map(|r| format!("($1, ${}, ${})", 2 * r + 2, 2 * r + 3))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO knowledge_terms (company_id, term, chunks) VALUES {values} \
         ON CONFLICT (company_id, term) DO UPDATE SET chunks = knowledge_terms.chunks + excluded.chunks"
    )
}

/// Applies the non-zero changes of `$counts` (a `BTreeMap<String, i64>`)
/// for company `$company` on `$tx`.
macro_rules! apply_term_counts {
    ($tx:expr, $company:expr, $counts:expr) => {{
        let counts: &std::collections::BTreeMap<String, i64> = &$counts;
        let changed: Vec<(&String, &i64)> = counts.iter().filter(|(_, n)| **n != 0).collect();
        for batch in changed.chunks(super::knowledge_terms::TERM_BATCH) {
            let sql = super::knowledge_terms::upsert_counts_sql(batch.len());
            let mut q = sqlx::query(&sql).bind($company);
            for (term, n) in batch {
                q = q.bind(*term).bind(**n);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}
pub(super) use apply_term_counts;

impl SqlStore {
    pub(super) async fn read_term_counts(
        &self,
        company_id: &str,
        terms: &[String],
    ) -> StoreResult<TermCounts> {
        // `$2` is the empty term, the company's chunk count.
        let list = (0..=terms.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT term, chunks FROM knowledge_terms WHERE company_id = $1 AND term IN ({list})"
        );
        let rows: Vec<(String, i64)> = on_pool!(self.pools(), read, |p| {
            let mut q = sqlx::query_as(&sql).bind(company_id).bind("");
            for t in terms {
                q = q.bind(t);
            }
            q.fetch_all(p).await
        })?;
        let found: BTreeMap<String, i64> = rows.into_iter().collect();
        Ok(TermCounts {
            chunks: found.get("").copied().unwrap_or(0).max(0),
            terms: terms
                .iter()
                .map(|t| found.get(t).copied().unwrap_or(0).max(0))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_term_once_per_chunk_and_the_chunks() {
        let mut counts = BTreeMap::new();
        add_chunk_terms(
            &mut counts,
            [("refund", "refund polici refund"), ("", "ship  box")],
            1,
        );
        let want: BTreeMap<String, i64> = [("", 2), ("box", 1), ("polici", 1), ("refund", 1)]
            .into_iter()
            .chain([("ship", 1)])
            .map(|(t, n)| (t.to_owned(), n))
            .collect();
        assert_eq!(counts, want);
        add_chunk_terms(&mut counts, [("", "ship")], -1);
        assert_eq!(counts["ship"], 0);
        assert_eq!(counts[""], 1);
    }

    #[test]
    fn upsert_numbers_two_parameters_a_row_after_the_company() {
        let sql = upsert_counts_sql(2);
        assert!(sql.contains("VALUES ($1, $2, $3), ($1, $4, $5) ON CONFLICT"));
    }
}
