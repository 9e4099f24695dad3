//! The tables `migrate-store` copies, column by column, and the check that
//! this list still matches the migrated schema: a column added by a
//! migration but not here would otherwise be dropped silently by a copy.

use sqlx::Row;

use crate::store::dialect::Pools;
use crate::store::SqlStore;

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Text,
    Int,
    Bool,
    Bytes,
}

pub(super) struct Table {
    pub name: &'static str,
    /// The primary key, all text columns: the keyset the batches walk.
    pub key: &'static [&'static str],
    pub columns: &'static [(&'static str, Kind)],
}

/// Parents before children, so foreign keys hold at every insert.
pub(super) const TABLES: &[Table] = &[
    Table {
        name: "companies",
        key: &["id"],
        columns: &[
            ("id", Kind::Text),
            ("name", Kind::Text),
            ("active", Kind::Bool),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
        ],
    },
    Table {
        name: "agents",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("name", Kind::Text),
            ("prompt_template", Kind::Text),
            ("llm_url", Kind::Text),
            ("llm_model", Kind::Text),
            ("active", Kind::Bool),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
        ],
    },
    Table {
        name: "api_keys",
        key: &["id"],
        columns: &[
            ("id", Kind::Text),
            ("company_id", Kind::Text),
            ("name", Kind::Text),
            ("environment", Kind::Text),
            ("permissions", Kind::Text),
            ("secret_hash", Kind::Bytes),
            ("expires_at", Kind::Int),
            ("revoked_at", Kind::Int),
            ("created_at", Kind::Int),
            ("last_used_at", Kind::Int),
        ],
    },
    Table {
        name: "customer_users",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("external_id", Kind::Text),
            ("name", Kind::Text),
            ("name_folded", Kind::Text),
            ("email", Kind::Text),
            ("email_folded", Kind::Text),
            ("metadata", Kind::Text),
            ("active", Kind::Bool),
            ("token_version", Kind::Int),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
            ("last_seen_at", Kind::Int),
        ],
    },
    Table {
        name: "conversations",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("customer_user_id", Kind::Text),
            ("agent_id", Kind::Text),
            ("title", Kind::Text),
            ("message_count", Kind::Int),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
            ("lease_owner", Kind::Text),
            ("lease_until", Kind::Int),
        ],
    },
    Table {
        name: "messages",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("conversation_id", Kind::Text),
            ("role", Kind::Text),
            ("content", Kind::Text),
            ("created_at", Kind::Int),
            ("sources", Kind::Text),
            ("tool", Kind::Text),
        ],
    },
    Table {
        name: "knowledge_documents",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("title", Kind::Text),
            ("url", Kind::Text),
            ("external_id", Kind::Text),
            ("content_type", Kind::Text),
            ("agent_ids", Kind::Text),
            ("metadata", Kind::Text),
            ("content", Kind::Text),
            ("chars", Kind::Int),
            ("chunk_count", Kind::Int),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
        ],
    },
    Table {
        name: "knowledge_chunks",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("document_id", Kind::Text),
            ("position", Kind::Int),
            ("agent_ids", Kind::Text),
            ("heading", Kind::Text),
            ("text", Kind::Text),
            ("scope", Kind::Text),
            ("heading_terms", Kind::Text),
            ("body_terms", Kind::Text),
        ],
    },
    // Kept by the store as it writes chunks, not by triggers: copied as is.
    Table {
        name: "knowledge_terms",
        key: &["company_id", "term"],
        columns: &[
            ("company_id", Kind::Text),
            ("term", Kind::Text),
            ("chunks", Kind::Int),
        ],
    },
    Table {
        name: "user_activity",
        key: &["company_id", "day", "customer_user_id"],
        columns: &[
            ("company_id", Kind::Text),
            ("day", Kind::Text),
            ("customer_user_id", Kind::Text),
        ],
    },
    // After the tables whose triggers write events: `copy_store` deletes
    // what those triggers wrote on the target before copying the source's.
    Table {
        name: "events",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("type", Kind::Text),
            ("customer_user_id", Kind::Text),
            ("data", Kind::Text),
            ("created_at", Kind::Int),
        ],
    },
    // Agent tools are the company's settings, secrets included: a copy
    // keeps calling the same endpoints with the same signatures.
    Table {
        name: "tools",
        key: &["company_id", "id"],
        columns: &[
            ("company_id", Kind::Text),
            ("id", Kind::Text),
            ("agent_id", Kind::Text),
            ("name", Kind::Text),
            ("description", Kind::Text),
            ("parameters", Kind::Text),
            ("url", Kind::Text),
            ("timeout_ms", Kind::Int),
            ("active", Kind::Bool),
            ("secret", Kind::Text),
            ("previous_secret", Kind::Text),
            ("previous_until", Kind::Int),
            ("created_at", Kind::Int),
            ("updated_at", Kind::Int),
        ],
    },
];

/// Tables the target's triggers also fill as the tables before them are
/// copied (the days of users' chat messages: migration `activity`), so a
/// copied row may already be there. The source holds every row the
/// triggers derive, so the counts still agree.
pub(super) const ALSO_DERIVED: &[&str] = &["user_activity"];

/// Copied on their own (`copy_settings`), before the tables above.
const SETTINGS: (&str, &[&str]) = ("settings", &["name", "value"]);

/// In the schema but not copied, on purpose: the migrations' bookkeeping,
/// SQLite's local row key for the name index, which the target assigns, and
/// what the target's triggers derive as companies and users are inserted:
/// the per-company user counts (migration 0004) and SQLite's company numbers
/// for the name index (migration 0005). Likewise the knowledge chunks'
/// index: SQLite's `seq` and FTS5 table are filled by the target's triggers,
/// PostgreSQL's `terms` is a generated column.
const NOT_COPIED: &[(&str, Option<&str>)] = &[
    ("_sqlx_migrations", None),
    ("customer_users", Some("seq")),
    // Only token issue reads it, in the statement that sets it (docs/API.md,
    // "Daily stats"): a stored value means nothing to a later reader.
    ("customer_users", Some("previous_seen_at")),
    ("knowledge_chunks", Some("seq")),
    ("knowledge_chunks", Some("terms")),
    ("customer_user_counts", None),
    ("name_search_companies", None),
    // The feed position is the target's own: it numbers the copied events
    // anew, in id (time) order.
    ("events", Some("seq")),
    ("events", Some("xid")),
    // Webhook endpoints hold a feed position of the source's numbering and
    // deliveries in flight: they are not copied (docs/EVENTS.md); endpoints
    // are made again on the new store.
    ("webhook_endpoints", None),
    ("webhook_deliveries", None),
    ("webhook_attempts", None),
    // Answers kept for a day for retries (docs/API.md §12): a retry after
    // the move runs again rather than replaying the old store's answer.
    ("idempotency_keys", None),
];

/// Whether the copy knows `table`: copied, or derived on purpose.
pub(super) fn known_table(table: &str) -> bool {
    table == SETTINGS.0
        || TABLES.iter().any(|t| t.name == table)
        || NOT_COPIED.iter().any(|(t, c)| *t == table && c.is_none())
}

/// Every (table, column) of the database's ordinary tables, sorted.
async fn catalogue(store: &SqlStore) -> anyhow::Result<Vec<(String, String)>> {
    let rows = match store.pools() {
        // Ordinary tables only: the FTS index and its shadow tables are
        // derived from customer_users and rebuilt by triggers.
        Pools::Sqlite { read, .. } => sqlx::query(
            "SELECT t.name, c.name FROM pragma_table_list t, pragma_table_info(t.name) c \
                 WHERE t.schema = 'main' AND t.type = 'table' \
                 AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .fetch_all(read)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?,
        Pools::Postgres(pool) => sqlx::query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema()",
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?,
    };
    let mut rows: Vec<(String, String)> = rows;
    rows.sort();
    Ok(rows)
}

/// Where the copy's column list and the database's catalogue differ, one
/// line per table or column; empty when they agree.
pub async fn schema_drift(store: &SqlStore) -> anyhow::Result<Vec<String>> {
    let skipped = |table: &str, column: &str| {
        NOT_COPIED
            .iter()
            .any(|(t, c)| *t == table && c.is_none_or(|c| c == column))
    };
    let mut copied: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|t| t.columns.iter().map(|(c, _)| (t.name, *c)))
        .chain(SETTINGS.1.iter().map(|c| (SETTINGS.0, *c)))
        .map(|(t, c)| (t.to_owned(), c.to_owned()))
        .collect();
    copied.sort();
    let live: Vec<(String, String)> = catalogue(store)
        .await?
        .into_iter()
        .filter(|(t, c)| !skipped(t, c))
        .collect();
    let mut drift = Vec::new();
    for (t, c) in &live {
        if !copied.contains(&(t.clone(), c.clone())) {
            drift.push(format!(
                "{t}.{c} is in the database but migrate-store does not copy it"
            ));
        }
    }
    for (t, c) in &copied {
        if !live.contains(&(t.clone(), c.clone())) {
            drift.push(format!(
                "{t}.{c} is copied by migrate-store but not in the database"
            ));
        }
    }
    Ok(drift)
}
