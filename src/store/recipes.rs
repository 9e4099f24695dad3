//! Store operations behind the server-side recipes (docs/API.md §4.4, §4.5): merge,
//! upsert by external id, export in keyset batches, and activity stats.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::UserFilter;
use crate::domain::{CustomerUser, UserChanges};
use crate::store::StoreResult;

/// How a customer user is named by the caller.
#[derive(Debug, Clone, Copy)]
pub enum UserKey<'a> {
    Id(&'a str),
    ExternalId(&'a str),
}

/// What a merge found.
#[derive(Debug)]
pub enum MergeOutcome {
    Updated(Box<CustomerUser>),
    NotFound,
    /// The merged metadata would break the limits; nothing was written.
    Invalid(String),
}

/// A user as the export writes it: the stored metadata text is passed on as
/// it is (every write stores compact JSON), not parsed and written again.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: String,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub metadata: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
}

impl ExportRow {
    pub fn as_user(&self) -> ExportUser<'_> {
        ExportUser {
            id: &self.id,
            external_id: &self.external_id,
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            metadata: &self.metadata,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_seen_at: self.last_seen_at,
        }
    }
}

/// An [`ExportRow`] borrowed from wherever the reader holds it (on SQLite,
/// the statement's current row), so writing it out allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct ExportUser<'a> {
    pub id: &'a str,
    pub external_id: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub metadata: &'a str,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
}

/// Appends one user to an export's bytes; the caller's choice of format.
pub type EncodeUser = fn(&ExportUser<'_>, &mut Vec<u8>);

/// An export as encoded chunks of about [`EXPORT_CHUNK`] bytes, in list
/// order; an `Err` item ends it (the export is incomplete). Dropping the
/// receiver stops the reader.
pub type ExportChunks = tokio::sync::mpsc::Receiver<StoreResult<bytes::Bytes>>;

/// Bytes per chunk of [`ExportChunks`].
pub const EXPORT_CHUNK: usize = 64 * 1024;

/// Counts for `GET /customer-users/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStats {
    pub total: i64,
    pub active: i64,
    pub last_day: i64,
    pub last_week: i64,
}

#[async_trait]
pub trait UserRecipes: Send + Sync {
    /// Applies `changes` and, when given, `metadata_patch` as an RFC 7396
    /// merge onto the stored metadata, without losing concurrent merges.
    /// `changes.metadata` is ignored when a patch is given.
    async fn merge_user(
        &self,
        company_id: &str,
        key: UserKey<'_>,
        changes: &UserChanges,
        metadata_patch: Option<&Map<String, Value>>,
        now: i64,
    ) -> StoreResult<MergeOutcome>;

    /// Creates the user with `changes` or, if the external id exists, applies
    /// them (metadata replaces). Returns the user and whether it was created.
    async fn upsert_user(
        &self,
        company_id: &str,
        external_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<(CustomerUser, bool)>;

    /// Creates the user unless the external id exists (then `None`).
    async fn insert_user(
        &self,
        company_id: &str,
        external_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<Option<CustomerUser>>;

    /// Creates, in one go, each user whose external id does not exist yet;
    /// the answer is aligned with `users`, `None` where the user existed.
    /// The external ids must be distinct.
    async fn insert_users(
        &self,
        company_id: &str,
        users: &[(&str, &UserChanges)],
        now: i64,
    ) -> StoreResult<Vec<Option<CustomerUser>>>;

    /// Up to `limit` users after `after` (`created_at`, `id`) in list order.
    async fn export_users(
        &self,
        company_id: &str,
        filter: &UserFilter,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<ExportRow>>;

    /// The whole export read from one snapshot and encoded with `encode`
    /// where it is read, when the store can do that (SQLite on a file);
    /// `None` otherwise, and the caller pages with [`Self::export_users`].
    /// Errors before the first chunk are returned here.
    async fn export_chunks(
        &self,
        company_id: &str,
        filter: &UserFilter,
        encode: EncodeUser,
    ) -> StoreResult<Option<ExportChunks>>;

    async fn user_stats(&self, company_id: &str, now: i64) -> StoreResult<UserStats>;
}
