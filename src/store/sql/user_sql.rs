//! The clauses of customer-user statements: a listing's WHERE (its filters,
//! the name search looked up as the backend and the match count suit) and an
//! update's SET.

use super::{Params, SqlValue};
use crate::domain::{Field, UserChanges};
use crate::store::dialect;
use crate::store::UserFilter;

/// Above this many matches a name search pages by walking the company's users
/// in list order (a page fills within a few thousand rows); at or below it,
/// SQLite answers from the trigram index and sorts the few matches, and
/// PostgreSQL's planner chooses.
pub(super) const DENSE_NAME_MATCHES: i64 = 2000;

/// How a listing's name filter is looked up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NameLookup {
    /// In SQLite's trigram index (a name of three or more characters; SQLite
    /// only).
    Trigram,
    /// `name_folded LIKE`: SQLite tests the rows the other conditions leave;
    /// PostgreSQL's planner may use its trigram index.
    Like,
    /// Matches are known to be many: the name is tested on an expression no
    /// index holds, so both backends walk the company's users in list order
    /// and a page fills within a few thousand rows. Without statistics (just
    /// after a bulk load) PostgreSQL's planner otherwise fetched and sorted
    /// every match from its trigram index: 240 ms a page at a million users.
    Walk,
}

/// The WHERE clause of a user listing, its name filter looked up as `lookup` says.
pub(super) fn user_where(
    company_id: &str,
    filter: &UserFilter,
    params: &mut Params,
    lookup: NameLookup,
) -> String {
    let phrase = filter
        .name
        .as_ref()
        .and_then(|n| n.trigram_phrase())
        .filter(|_| lookup == NameLookup::Trigram);
    // The unary `+` stops SQLite from preferring the company index to the
    // trigram lookup, which would check every user of the company.
    let company_column = if phrase.is_some() {
        "+company_id"
    } else {
        "company_id"
    };
    let company = params.push(SqlValue::Text(company_id.into()));
    let mut sql = format!("{company_column} = {company}");
    if let Some(phrase) = phrase {
        let p = params.push(SqlValue::Text(phrase));
        sql += &format!(" AND {}", dialect::sqlite_name_search(&p, &company));
    }
    if let Some(name) = &filter.name {
        let p = params.push(SqlValue::Text(name.like_pattern().into()));
        let column = match lookup {
            NameLookup::Walk => "(name_folded || '')",
            NameLookup::Trigram | NameLookup::Like => "name_folded",
        };
        sql += &format!(" AND {column} LIKE {p} ESCAPE '\\'");
    }
    if let Some(email) = &filter.email {
        let p = params.push(SqlValue::Text(email.folded().into()));
        sql += &format!(" AND email_folded = {p}");
    }
    if let Some(external_id) = &filter.external_id {
        let p = params.push(SqlValue::Text(external_id.as_str().into()));
        sql += &format!(" AND external_id = {p}");
    }
    if let Some(active) = filter.active {
        let p = params.push(SqlValue::Bool(active));
        sql += &format!(" AND active = {p}");
    }
    sql
}

/// `SET` clauses for the fields `changes` gives (not `updated_at`).
pub(super) fn user_sets(changes: &UserChanges, params: &mut Params) -> Vec<String> {
    let mut sets = Vec::new();
    match &changes.name {
        Field::Absent => {}
        Field::Null => sets.push("name = NULL, name_folded = NULL".into()),
        Field::Set(name) => {
            let a = params.push(SqlValue::Text(name.as_str().into()));
            let b = params.push(SqlValue::Text(name.folded()));
            sets.push(format!("name = {a}, name_folded = {b}"));
        }
    }
    match &changes.email {
        Field::Absent => {}
        Field::Null => sets.push("email = NULL, email_folded = NULL".into()),
        Field::Set(email) => {
            let a = params.push(SqlValue::Text(email.as_str().into()));
            let b = params.push(SqlValue::Text(email.folded()));
            sets.push(format!("email = {a}, email_folded = {b}"));
        }
    }
    if let Some(metadata) = &changes.metadata {
        let p = params.push(SqlValue::Text(metadata.to_json_text()));
        sets.push(format!("metadata = {p}"));
    }
    if let Some(active) = changes.active {
        let p = params.push(SqlValue::Bool(active));
        sets.push(format!("active = {p}"));
        if !active {
            // Deactivation ends every token issued so far, in the same
            // statement: re-activating the user later must not revive them.
            // The right-hand side reads the row as it was before this SET.
            sets.push(
                "token_version = customer_users.token_version \
                 + CASE WHEN customer_users.active THEN 1 ELSE 0 END"
                    .into(),
            );
        }
    }
    sets
}
