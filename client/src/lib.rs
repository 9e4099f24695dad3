//! Async client for the PerformChat-compatible HTTP API served by
//! `performchat`. The API itself (routes, fields, errors, limits) is described
//! in the repository's `docs/API.md`.
//!
//! ```no_run
//! use performchat_client::{Client, UserUpdate};
//!
//! # async fn run() -> performchat_client::Result<()> {
//! // PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET
//! let client = Client::from_env()?;
//! if let Some(user) = client.find_by_email("user@example.com").await? {
//!     let plan = serde_json::json!({ "plan": "premium" });
//!     client
//!         .patch_user(&user.id, &UserUpdate::new().metadata(plan.as_object().unwrap().clone()))
//!         .await?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! | endpoint | method |
//! | --- | --- |
//! | `POST /auth/token` | [`Client::issue_token`] |
//! | `POST /auth/invalidate-token` | [`Client::invalidate_tokens`] |
//! | `POST /auth/verify-token` | [`Client::verify_token`] |
//! | `GET /customer-users` | [`Client::list_users`] |
//! | `GET /customer-users/:id` | [`Client::get_user`] |
//! | `PUT /customer-users/:id` | [`Client::update_user`] |
//! | `PATCH /customer-users/:id` | [`Client::patch_user`] |
//! | `PUT /customer-users/by-external-id/:external_id` | [`Client::upsert_user`] |
//! | `GET /customer-users/export` | [`Client::export_users`] (NDJSON, decoded), [`Client::export_users_csv`], [`Client::export_bytes`] |
//! | `GET /customer-users/stats` | [`Client::user_stats`] |
//! | `POST /customer-users/bulk` | [`Client::bulk_update`] |
//! | `GET /agents` | [`Client::list_agents`] |
//! | `GET /agents/:id` | [`Client::get_agent`] |
//! | `GET /conversations` | [`Client::list_conversations`] |
//! | `GET /conversations/:id` | [`Client::get_conversation`] |
//! | `GET /conversations/:id/messages` | [`Client::list_messages`] |
//! | `POST /knowledge/documents` | [`Client::create_document`] (JSON text or a multipart file) |
//! | `PUT /knowledge/documents/by-external-id/:external_id` | [`Client::upsert_document`] |
//! | `GET /knowledge/documents` | [`Client::list_documents`] |
//! | `GET /knowledge/documents/:id` | [`Client::get_document`] |
//! | `DELETE /knowledge/documents/:id` | [`Client::delete_document`] |
//! | `GET /knowledge/search` | [`Client::search_knowledge`] |
//! | `POST /agents/:id/tools` | [`Client::create_tool`] |
//! | `GET /agents/:id/tools` | [`Client::list_tools`] |
//! | `GET /tools/:id` | [`Client::get_tool`] |
//! | `DELETE /tools/:id` | [`Client::delete_tool`] |
//! | `POST /tools/:id/rotate-secret` | [`Client::rotate_tool_secret`] |
//! | `GET /health` | [`Client::health`] |
//!
//! The end-user chat routes (`/chat/*`) take a chat token rather than an API
//! key; they are for the widget and the `performchat chat` command.
//!
//! # The docs' recipes
//!
//! The public docs' customer-users examples build these from `list` and
//! `update`; here each is one HTTP call (per 1000 users for the bulk one).
//!
//! | recipe | docs' calls | method | calls |
//! | --- | --- | --- | --- |
//! | `findByEmail` | 1 | [`Client::find_by_email`] | 1 |
//! | `findByExternalId` | 1 | [`Client::find_by_external_id`] | 1 |
//! | `syncUser` | 2 (and cannot create) | [`Client::sync_user`] | 1 |
//! | `exportAllUsers` | 1 per 100 users | [`Client::export_all_users`] (a stream) | 1 |
//! | `exportToCSV` | 1 per 100 users | [`Client::export_to_csv`], [`Client::export_users_csv`] | 1 |
//! | `getUserActivityStats` | 1 per 100 users | [`Client::activity_stats`] | 1 |
//! | `bulkUpdatePlan` | 2 per user | [`Client::bulk_update_plan`], [`Client::bulk_merge_metadata`] | 1 per 1000 users |
//!
//! # Errors
//!
//! Every method returns [`Error`], which tells apart not-found, unauthorized,
//! rate-limited (with the `Retry-After` delay), validation (with the server's
//! message naming the field), other server errors, transport failures and
//! answers that do not match the API. No server answer, however odd, makes
//! the client panic.
//!
//! # Safe retries
//!
//! Every write (`POST`, `PUT`, `PATCH`, `DELETE`) carries an
//! `Idempotency-Key`: a fresh random one per request, or your own through
//! [`Client::with_idempotency_key`], so that repeating a call whose answer
//! was lost gets the first answer instead of running it twice. The client
//! itself never retries.
//!
//! # Credentials
//!
//! The API key travels as HTTP Basic auth on every request, never in a body
//! or URL, and [`Client`]'s `Debug` output leaves the secret out.

mod agents;
mod auth;
mod client;
mod conversations;
mod error;
mod events;
mod export;
mod knowledge;
mod recipes;
mod rights;
mod tools;
mod types;
mod users;

pub use client::{Client, ENV_KEY_ID, ENV_KEY_SECRET, ENV_URL};
pub use error::{Error, Result};
pub use events::{Event, EventPage, List, Webhook, WebhookAttempt};
pub use export::{ByteStream, UserStream};
pub use tools::{NewTool, Tool};
pub use types::{
    Agent, AgentBrief, ApiKeyInfo, BulkResult, BulkUpdate, Conversation, ConversationBrief,
    CustomerUser, Document, DocumentBody, ExportFormat, Health, Invalidated, IssuedToken, Message,
    MessagePage, Metadata, NewDocument, Page, Pagination, SearchHit, Source, TokenRequest,
    TokenUser, Upserted, UpsertedDocument, UserFilter, UserStats, UserUpdate, VerifiedToken,
};
pub use users::BULK_MAX;

/// `docs/CLIENT.md`, compiled as doc tests so its examples cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/CLIENT.md")]
pub struct ClientGuide;

/// The project README's client example, compiled for the same reason.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;
