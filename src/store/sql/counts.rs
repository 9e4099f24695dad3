//! The exact total of a user listing (every page of a listing carries one),
//! without counting rows where the database already keeps the answer:
//!
//! - no filter, or `active` alone: the per-company counts the triggers of
//!   migration 0004 keep. A sync that pages through a million users no
//!   longer counts them all again for every page.
//! - a name alone: the count remembered with the company's names version
//!   (SQLite 0006, PostgreSQL 0005). Every write that may change the
//!   company's names moves that version in its own transaction, and the
//!   version and the total are read in one statement, so a remembered total
//!   is used only while the names it counted are still the company's names,
//!   whichever process wrote since. A client paging through a search pays
//!   for the count once.
//! - anything else: `COUNT(*)` over the listing's condition.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use super::{dialect, on_pool, user_where, NameLookup, Params, SqlStore, SqlValue};
use crate::domain::NameQuery;
use crate::store::dialect::Backend;
use crate::store::{StoreResult, UserFilter};

/// At most this many (company, search) totals are remembered; when full,
/// the memory starts again empty. Under 2 MiB even if every search were as
/// long as a name may be.
const REMEMBERED: usize = 1024;

/// Name-search totals by (company id, the search's `LIKE` pattern), with
/// the names version each was counted at, and the locks counting is done
/// under.
#[derive(Default)]
pub(super) struct NameTotals {
    totals: Mutex<HashMap<(String, String), Counted>>,
    counting: [tokio::sync::Mutex<()>; COUNTING_LOCKS],
}

/// Locks a search's count is done under, chosen by its hash: searches that
/// share one only wait for each other's first count.
const COUNTING_LOCKS: usize = 16;

#[derive(Clone, Copy)]
struct Counted {
    version: i64,
    total: i64,
}

impl NameTotals {
    fn get(&self, company_id: &str, pattern: &str) -> Option<Counted> {
        let map = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(company_id.to_owned(), pattern.to_owned()))
            .copied()
    }

    fn put(&self, company_id: &str, pattern: &str, counted: Counted) {
        let mut map = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= REMEMBERED {
            map.clear();
        }
        map.insert((company_id.to_owned(), pattern.to_owned()), counted);
    }

    async fn lock(&self, company_id: &str, pattern: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::hash::DefaultHasher::new();
        (company_id, pattern).hash(&mut hasher);
        let slot = hasher.finish() as usize % COUNTING_LOCKS;
        self.counting[slot].lock().await
    }
}

/// The statement answering a listing's total from migration 0004's counts,
/// if the filter is one they keep (`$1` is the company id).
fn kept_count(filter: &UserFilter) -> Option<&'static str> {
    let UserFilter {
        name: None,
        email: None,
        external_id: None,
        active,
    } = filter
    else {
        return None;
    };
    Some(match active {
        None => "SELECT COALESCE((SELECT total FROM customer_user_counts WHERE company_id = $1), 0)",
        Some(true) => {
            "SELECT COALESCE((SELECT active FROM customer_user_counts WHERE company_id = $1), 0)"
        }
        Some(false) => {
            "SELECT COALESCE((SELECT total - active FROM customer_user_counts WHERE company_id = $1), 0)"
        }
    })
}

/// Whether the listing filters on the name and nothing else.
fn name_only(filter: &UserFilter) -> Option<&NameQuery> {
    match filter {
        UserFilter {
            name: Some(name),
            email: None,
            external_id: None,
            active: None,
        } => Some(name),
        _ => None,
    }
}

impl SqlStore {
    pub(super) async fn user_total(
        &self,
        company_id: &str,
        filter: &UserFilter,
    ) -> StoreResult<i64> {
        let mut params = Params::default();
        let count = match kept_count(filter) {
            Some(sql) => {
                params.push(SqlValue::Text(company_id.into()));
                sql.to_owned()
            }
            None => self.count_sql(company_id, filter, &mut params),
        };
        if let Some(name) = name_only(filter) {
            return self
                .name_total(company_id, name.like_pattern(), count, params)
                .await;
        }
        let total: i64 = on_pool!(&self.pools, read, |p| bind_params!(
            sqlx::query_scalar(&count),
            params
        )
        .fetch_one(p)
        .await)?;
        Ok(total)
    }

    /// The statement counting a listing's matches. On SQLite a name alone
    /// (of three or more characters) is counted on the trigram index, without
    /// reading a row.
    fn count_sql(&self, company_id: &str, filter: &UserFilter, params: &mut Params) -> String {
        let sqlite = self.backend == Backend::Sqlite;
        let lookup = if sqlite {
            NameLookup::Trigram
        } else {
            NameLookup::Like
        };
        let phrase = name_only(filter).and_then(NameQuery::trigram_phrase);
        match phrase.filter(|_| sqlite) {
            Some(phrase) => {
                let company = params.push(SqlValue::Text(company_id.into()));
                let phrase = params.push(SqlValue::Text(phrase));
                dialect::sqlite_name_count(&phrase, &company)
            }
            None => format!(
                "SELECT COUNT(*) FROM customer_users WHERE {}",
                user_where(company_id, filter, params, lookup)
            ),
        }
    }

    /// A name search's total: the remembered one while the company's names
    /// version still reads as it did, else `count`'s. One statement reads
    /// the version and the total together, so the version remembered is the
    /// one the total belongs to. Counting is done under a lock (one of a
    /// few, by the search's hash), so clients asking the same new search at
    /// once wait for one count instead of each running their own.
    async fn name_total(
        &self,
        company_id: &str,
        pattern: &str,
        count: String,
        params: Params,
    ) -> StoreResult<i64> {
        if let Some(known) = self.name_totals.get(company_id, pattern) {
            match self
                .versioned_total(company_id, Some(known), None, Params::default())
                .await?
            {
                Some((_, Some(total))) => return Ok(total),
                Some((_, None)) => {}
                None => return Ok(0),
            }
        }
        let _counting = self.name_totals.lock(company_id, pattern).await;
        let known = self.name_totals.get(company_id, pattern);
        match self
            .versioned_total(company_id, known, Some(&count), params)
            .await?
        {
            Some((version, Some(total))) => {
                self.name_totals
                    .put(company_id, pattern, Counted { version, total });
                Ok(total)
            }
            // `None`: the company has never had a user. The total is never
            // NULL here: with a count to fall back on, the CASE has a value.
            Some((_, None)) | None => Ok(0),
        }
    }

    /// The company's names version and, if it is `known`'s, `known`'s total;
    /// else `count`'s total, or NULL without one. `None`: the company has
    /// never had a user (its counts row does not exist), so no names.
    async fn versioned_total(
        &self,
        company_id: &str,
        known: Option<Counted>,
        count: Option<&str>,
        mut params: Params,
    ) -> StoreResult<Option<(i64, Option<i64>)>> {
        let company = params.push(SqlValue::Text(company_id.into()));
        let version = params.push(SqlValue::OptInt(known.map(|k| k.version)));
        let total = params.push(SqlValue::OptInt(known.map(|k| k.total)));
        let otherwise = count.map(|c| format!(" ELSE ({c})")).unwrap_or_default();
        let sql = format!(
            "SELECT names_version, CASE WHEN names_version = {version} THEN {total}{otherwise} END \
             FROM customer_user_counts WHERE company_id = {company}"
        );
        let row = on_pool!(&self.pools, read, |p| bind_params!(
            sqlx::query_as(&sql),
            params
        )
        .fetch_optional(p)
        .await)?;
        Ok(row)
    }
}
