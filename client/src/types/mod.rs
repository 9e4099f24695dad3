//! Request and response bodies, in the casing of docs/API.md §0: camelCase for `auth/*`,
//! snake_case for resources. Timestamps are kept as the RFC 3339 text the
//! server sends (`2025-01-15T14:30:00.123Z`), so no date library is imposed.
//!
//! Response types ignore fields they do not know, so a newer server does not
//! break an older client.

mod auth;
mod conversations;
mod knowledge;

pub use auth::{
    AgentBrief, ApiKeyInfo, Invalidated, IssuedToken, TokenRequest, TokenUser, VerifiedToken,
};
pub use conversations::{Conversation, ConversationBrief, Message, MessagePage};
pub use knowledge::{Document, DocumentBody, NewDocument, SearchHit, Source, UpsertedDocument};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A JSON object, as stored in a user's `metadata`.
pub type Metadata = Map<String, Value>;

/// A customer user: the full shape every customer-user endpoint returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerUser {
    /// Internal id, `cu_…`, time-ordered.
    pub id: String,
    /// The caller's own id for this user (the `userId` of token generation).
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Always an object; `{}` when empty.
    #[serde(default)]
    pub metadata: Metadata,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// When a token was last issued for this user.
    pub last_seen_at: Option<String>,
}

/// Where a page sits in the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    /// `ceil(total / limit)`, `0` when `total` is 0.
    pub total_pages: u64,
}

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// Filters for listing and exporting customer users; they combine with AND.
///
/// ```
/// use performchat_client::UserFilter;
/// let premium_active = UserFilter::new().name("smith").active(true);
/// assert_eq!(premium_active.active, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// Case-insensitive substring of the name (`%`, `_`, `\` are literal).
    pub name: Option<String>,
    /// Case-insensitive exact e-mail address.
    pub email: Option<String>,
    /// Exact external id.
    pub external_id: Option<String>,
    pub active: Option<bool>,
}

impl UserFilter {
    /// No filter: every user.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    pub fn active(mut self, active: bool) -> Self {
        self.active = Some(active);
        self
    }

    /// As query parameters: docs/API.md §4.1 accepts filters there, which spares a
    /// body on GET (some proxies drop GET bodies).
    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        let text = [
            ("name", &self.name),
            ("email", &self.email),
            ("external_id", &self.external_id),
        ];
        for (key, value) in text {
            if let Some(v) = value {
                q.push((key, v.clone()));
            }
        }
        if let Some(a) = self.active {
            q.push(("active", a.to_string()));
        }
        q
    }
}

/// Changes to a customer user. Fields left `None` are not sent and stay as
/// they are; `Some(None)` clears `name` or `email`.
///
/// With [`Client::update_user`](crate::Client::update_user) (PUT) `metadata`
/// replaces the stored object; with
/// [`Client::patch_user`](crate::Client::patch_user) (PATCH) it is merged into
/// it as a JSON Merge Patch (a key set to `null` is removed).
///
/// ```
/// use performchat_client::UserUpdate;
/// use serde_json::json;
/// let update = UserUpdate::new()
///     .name("Ann Lee")
///     .clear_email()
///     .metadata(json!({ "plan": "premium" }).as_object().unwrap().clone());
/// assert_eq!(
///     serde_json::to_value(&update).unwrap(),
///     json!({ "name": "Ann Lee", "email": null, "metadata": { "plan": "premium" } })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl UserUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(Some(name.into()));
        self
    }

    pub fn clear_name(mut self) -> Self {
        self.name = Some(None);
        self
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(Some(email.into()));
        self
    }

    pub fn clear_email(mut self) -> Self {
        self.email = Some(None);
        self
    }

    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    pub fn active(mut self, active: bool) -> Self {
        self.active = Some(active);
        self
    }

    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// What [`Client::upsert_user`](crate::Client::upsert_user) did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Upserted {
    pub user: CustomerUser,
    /// True when the user did not exist and was created (HTTP 201).
    pub created: bool,
}

/// Format of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header line:
    /// `id,external_id,name,email,active,created_at,last_seen_at,metadata`.
    /// Cells a spreadsheet would run as a formula (first character `=`, `+`,
    /// `-`, `@`, tab or CR) come with a leading `'`.
    #[default]
    Csv,
    /// The same CSV with every cell as stored (`csv_formulas=raw`), for
    /// programs rather than spreadsheets.
    CsvRaw,
    /// One customer-user JSON object per line.
    Ndjson,
}

impl ExportFormat {
    /// The export's query parameters for this format.
    pub(crate) fn query(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ExportFormat::Csv => &[("format", "csv")],
            ExportFormat::CsvRaw => &[("format", "csv"), ("csv_formulas", "raw")],
            ExportFormat::Ndjson => &[("format", "ndjson")],
        }
    }
}

/// Activity counts over every user of the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserStats {
    pub total: u64,
    pub active: u64,
    /// Users seen (a token issued) within the last 24 hours.
    pub last_day: u64,
    /// Users seen within the last 7 days.
    pub last_week: u64,
}

/// One item of a bulk update, addressed by external id.
///
/// ```
/// use performchat_client::BulkUpdate;
/// use serde_json::json;
/// let item = BulkUpdate::new("user_1")
///     .metadata_merge(json!({ "plan": "enterprise" }).as_object().unwrap().clone());
/// assert_eq!(
///     serde_json::to_value(&item).unwrap(),
///     json!({ "external_id": "user_1", "metadata_merge": { "plan": "enterprise" } })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdate {
    pub external_id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub email: Option<Option<String>>,
    /// Merged into the stored metadata (JSON Merge Patch), atomically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_merge: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Create the user when it does not exist, instead of reporting it missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<bool>,
}

impl BulkUpdate {
    pub fn new(external_id: impl Into<String>) -> Self {
        BulkUpdate {
            external_id: external_id.into(),
            ..Self::default()
        }
    }

    pub fn metadata_merge(mut self, merge: Metadata) -> Self {
        self.metadata_merge = Some(merge);
        self
    }

    pub fn create(mut self, create: bool) -> Self {
        self.create = Some(create);
        self
    }
}

/// The outcome of one [`BulkUpdate`], in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BulkResult {
    pub external_id: String,
    pub success: bool,
    /// True when the item created the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<CustomerUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An agent. `prompt_template` is only filled by
/// [`Client::get_agent`](crate::Client::get_agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub prompt_template: Option<String>,
}

/// Answer of `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    pub status: String,
}

/// Tells `null` (`Some(None)`: clear) from a missing field (`None`: keep).
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bulk_items_tell_null_from_absent() {
        let item: BulkUpdate =
            serde_json::from_value(json!({ "external_id": "u", "name": null })).unwrap();
        assert_eq!(item.name, Some(None));
        assert_eq!(item.email, None);
        let typo = serde_json::from_value::<BulkUpdate>(json!({ "external_id": "u", "nmae": 1 }));
        assert!(typo.is_err());
    }

    #[test]
    fn filters_become_query_pairs() {
        let q = UserFilter::new().email("a@b.c").active(false).query();
        assert_eq!(
            q,
            vec![
                ("email", "a@b.c".to_owned()),
                ("active", "false".to_owned())
            ]
        );
    }
}
