//! Persistence. [`Store`] is the seam the HTTP layer and the CLI talk to; the
//! one implementation, [`SqlStore`], runs the same SQL on SQLite and PostgreSQL.
//! Connecting, pool settings and the error mapping of each database live in
//! `dialect.rs`. Where the two are best served differently, the choice is
//! one `match` on `Backend` next to the statement it concerns (placeholders in
//! `sql/bulk.rs`, a planner hint in `sql/lookup.rs`, the name search in
//! `sql.rs`, the export in `sql/recipes.rs`); SQLite's own paths (point reads
//! off the pool in `sql/fast.rs`, group commit in `sql/group.rs`) and
//! PostgreSQL's streamed export (`sql/export_pg.rs`) have modules of their own.
//!
//! Every tenant-scoped method takes the company id first, and every
//! per-tenant index leads with `company_id`, so a query never touches another
//! company's rows. The only global lookups are by an API key's id (before the
//! company is known) and the operator's company listing.

mod chat;
mod copy;
mod dialect;
mod error;
mod events;
mod idempotency;
mod knowledge;
mod private_file;
mod recipes;
mod rights;
mod rows;
mod sql;
mod tenants;
mod tools;
mod usage;
mod webhooks;
// Operations: backups.
mod backup;

use async_trait::async_trait;

use crate::domain::{CustomerUser, Field, UserChanges};

pub use crate::domain::UserFilter;

pub use backup::{backup_sqlite, BackupReport};
pub use chat::{BeginReply, ChatOwner, ChatStore, Lease, NewToolMessage, ToolMessages};
pub use copy::{copy_store, schema_drift, CopyReport, Progress};
pub use dialect::{Backend, ConnectError, ConnectOptions};
pub use error::{StoreError, StoreResult, UniqueKey};
pub use events::{EventStore, FeedPage};
pub use idempotency::{ClaimOutcome, ClaimRequest, IdempotencyScope, IdempotencyStore};
pub use knowledge::{ChunkHit, ChunkQuery, KnowledgeStore, NewChunk, NewDocument, TermCounts};
pub use recipes::{DailyStats, MergeOutcome, UserKey, UserRecipes, UserStats};
pub use recipes::{EncodeUser, ExportChunks, ExportRow, ExportUser, EXPORT_CHUNK};
pub use rights::{After, UserRights};
pub use sql::SqlStore;
pub use tenants::TenantStore;
pub use tools::{ToolChanges, ToolStore};
pub use usage::{PoolUsage, PoolWatch};
pub use webhooks::{
    AttemptOutcome, DeliveryQueue, DeliveryTarget, FannedOut, LeasedDelivery, WebhookChanges,
    WebhookStore,
};

/// One page of a listing: `page` is 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

impl PageRequest {
    pub fn offset(self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.limit)
    }
}

/// Changes to an agent (operator CLI); absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub prompt_template: Field<String>,
    pub llm_url: Field<String>,
    pub llm_model: Field<String>,
    pub active: Option<bool>,
}

/// What token generation found, decided in the store in one statement.
#[derive(Debug)]
pub enum TokenUser {
    /// The agent exists and is active (that is what let the user through).
    Issued {
        agent_name: String,
        user: Box<CustomerUser>,
    },
    AgentNotFound,
    UserInactive,
    /// The [`KeyProof`] given no longer holds: nothing was written.
    KeyRefused,
}

/// An API key this node authenticated from memory (its secret against a
/// cached hash; see `auth::KeyCache`). A statement given one reads the key
/// again in the same round trip and reads or writes nothing unless the key
/// still exists for this company with this hash, unrevoked, under an active
/// company: so a revocation or a deactivation made anywhere is seen at the
/// next request, without a round trip of its own.
#[derive(Debug, Clone, Copy)]
pub struct KeyProof<'a> {
    pub key_id: &'a str,
    pub company_id: &'a str,
    pub secret_hash: &'a [u8],
}

#[async_trait]
/// The recipes' operations (docs/API.md §4.4, §4.5) live in their own trait, [`UserRecipes`].
/// Conversations and messages (docs/API.md §6, §8) live in [`ChatStore`]; companies,
/// agents and API keys in [`TenantStore`]; the knowledge base in [`KnowledgeStore`];
/// events, webhook endpoints and their deliveries in [`EventStore`],
/// [`WebhookStore`] and [`DeliveryQueue`]; erasure and the data export's
/// reads (docs/API.md §12) in [`UserRights`]; `Idempotency-Key` answers in
/// [`IdempotencyStore`]; agent tools in
/// [`ToolStore`].
pub trait Store:
    UserRecipes
    + UserRights
    + ChatStore
    + ToolMessages
    + TenantStore
    + KnowledgeStore
    + EventStore
    + WebhookStore
    + DeliveryQueue
    + IdempotencyStore
    + ToolStore
    + Send
    + Sync
    + 'static
{
    /// Answers when the database does (for `/health`).
    async fn ping(&self) -> StoreResult<()>;

    /// The JWT signing secret shared by every node on this database: `candidate`
    /// is stored if none is yet, and the stored one is returned.
    async fn shared_jwt_secret(&self, candidate: &str) -> StoreResult<String>;

    /// Find-or-create by `(company, external_id)` and stamp `last_seen_at`, in
    /// one statement that concurrent calls cannot race. With a `key`, that
    /// statement writes nothing unless the key still holds.
    async fn user_for_token(
        &self,
        company_id: &str,
        agent_id: &str,
        external_id: &str,
        now: i64,
        key: Option<KeyProof<'_>>,
    ) -> StoreResult<TokenUser>;
    /// Bumps `token_version`; `None` when the user is not this company's.
    async fn invalidate_tokens(&self, company_id: &str, user_id: &str) -> StoreResult<Option<i64>>;
    async fn list_users(
        &self,
        company_id: &str,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CustomerUser>, i64)>;
    /// [`Store::list_users`], checking the remembered `key` (when given) in
    /// the same statement: `None` when that key no longer holds. A lookup by
    /// external id checks the key in its own statement; other filters check
    /// it in one statement before.
    async fn list_users_checking_key(
        &self,
        company_id: &str,
        key: Option<KeyProof<'_>>,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<CustomerUser>, i64)>>;
    async fn get_user(&self, company_id: &str, user_id: &str) -> StoreResult<Option<CustomerUser>>;
    async fn update_user(
        &self,
        company_id: &str,
        user_id: &str,
        changes: &UserChanges,
        now: i64,
    ) -> StoreResult<Option<CustomerUser>>;
}
