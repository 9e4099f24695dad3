//! The SQL text of token generation's find-or-create and of a remembered
//! key's check, shared by the pool's path (`lookup`) and SQLite's group
//! commit (`group`), so neither module needs the other for it.

use crate::store::rows::USER_COLUMNS;

/// A condition true while the key still holds (see `store::KeyProof`), with the
/// key id, company id and secret hash bound at placeholders `$first` onwards.
pub(super) fn key_holds(first: usize) -> String {
    let (id, company, hash) = (first, first + 1, first + 2);
    format!(
        "EXISTS (SELECT 1 FROM api_keys k JOIN companies c ON c.id = k.company_id \
         WHERE k.id = ${id} AND k.company_id = ${company} AND k.secret_hash = ${hash} \
         AND k.revoked_at IS NULL AND c.active)"
    )
}

/// The find-or-create of token issue, one statement. The SELECT yields a row
/// only while the agent is active and `condition` (an ` AND …` on the key, or
/// nothing) holds; the unique (company_id, external_id) constraint makes
/// concurrent first calls converge on one row; the update's WHERE leaves an
/// inactive user untouched. No row back means one of these refused.
/// `previous_seen_at` takes the `last_seen_at` it replaces, and comes back,
/// so the caller knows which day the user's latest activity leaves
/// ([`ARCHIVE_DAY_SQL`]).
pub(super) fn token_upsert_sql(condition: &str) -> String {
    format!(
        "INSERT INTO customer_users (company_id, id, external_id, metadata, active, token_version, \
         created_at, updated_at, last_seen_at) SELECT $1, $2, $3, '{{}}', TRUE, 0, $4, $4, $4 \
         WHERE EXISTS (SELECT 1 FROM agents WHERE company_id = $1 AND id = $5 AND active){condition} \
         ON CONFLICT (company_id, external_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
         previous_seen_at = customer_users.last_seen_at WHERE customer_users.active \
         RETURNING {USER_COLUMNS}, \
         (SELECT name FROM agents WHERE company_id = $1 AND id = $5) AS agent_name, previous_seen_at"
    )
}

/// Keeps a day a user was active on once their `last_seen_at` has moved past
/// it (docs/API.md, "Daily stats"): company, day (`YYYY-MM-DD`), user.
pub(super) const ARCHIVE_DAY_SQL: &str = "INSERT INTO user_activity \
    (company_id, day, customer_user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
