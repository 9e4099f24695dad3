//! The statements of a chat message's two write transactions (chat.rs),
//! shared by the pool's path and SQLite's group-commit thread (group_chat.rs)
//! so both write exactly the same rows.

use crate::store::rows::{CONVERSATION_COLUMNS, MESSAGE_COLUMNS};

/// The next message time: now, or one past the last write when that is later.
const NEXT_TIME: &str = "CASE WHEN updated_at >= $3 THEN updated_at + 1 ELSE $3 END";

/// `$1` company, `$2` conversation, `$3` id, `$4` role, `$5` content, `$6`
/// time, `$7` sources.
pub(super) fn insert_message_sql() -> String {
    format!(
        "INSERT INTO messages (company_id, id, conversation_id, role, content, created_at, sources) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {MESSAGE_COLUMNS}"
    )
}

/// Takes the reply lease and counts the question: `$1` company, `$2`
/// conversation, `$3` now, `$4` lease owner, `$5` lease end, `$6` title
/// when it has none, `$7` user, `$8` agent. Returns the conversation and
/// whether the company has knowledge documents; no row when the lease is
/// held or the conversation is not this user's with this agent.
pub(super) fn take_lease_sql() -> String {
    format!(
        "UPDATE conversations SET lease_owner = $4, lease_until = $5, \
         message_count = message_count + 1, updated_at = {NEXT_TIME}, \
         title = COALESCE(title, $6) \
         WHERE company_id = $1 AND id = $2 AND customer_user_id = $7 AND agent_id = $8 \
         AND (lease_until IS NULL OR lease_until <= $3) RETURNING {CONVERSATION_COLUMNS}, \
         EXISTS (SELECT 1 FROM knowledge_documents WHERE company_id = $1) AS has_documents"
    )
}

/// Whether the conversation is this user's with this agent, when taking the
/// lease found no row: `$1` company, `$2` conversation, `$3` user, `$4` agent.
pub(super) const CONVERSATION_EXISTS: &str = "SELECT COUNT(*) FROM conversations \
     WHERE company_id = $1 AND id = $2 AND customer_user_id = $3 AND agent_id = $4";

/// Counts the reply and releases the lease if `$4` still owns it: `$1`
/// company, `$2` conversation, `$3` now. Returns the reply's time.
/// Every expression of the SET sees the row as it was, so both CASEs test
/// the old owner.
pub(super) fn finish_reply_sql() -> String {
    format!(
        "UPDATE conversations SET message_count = message_count + 1, updated_at = {NEXT_TIME}, \
         lease_until = CASE WHEN lease_owner = $4 THEN NULL ELSE lease_until END, \
         lease_owner = CASE WHEN lease_owner = $4 THEN NULL ELSE lease_owner END \
         WHERE company_id = $1 AND id = $2 RETURNING updated_at"
    )
}
