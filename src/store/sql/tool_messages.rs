//! SQL for a reply's tool messages (docs/API.md §10), shared by SQLite and
//! PostgreSQL. Like every message write (see `chat.rs`), it goes through one
//! `UPDATE` of the conversation row first, which moves `message_count` and
//! hands out `created_at` values past the last one: `n` messages take the
//! next `n` times, so `created_at, id` keeps the order they were written in.

use async_trait::async_trait;

use super::{on_pool, SqlStore};
use crate::domain::{new_id, IdKind, Message, Role};
use crate::store::rows::{MessageRow, MESSAGE_COLUMNS};
use crate::store::{NewToolMessage, StoreResult, ToolMessages};

#[async_trait]
impl ToolMessages for SqlStore {
    async fn append_tool_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        messages: &[NewToolMessage],
        now: i64,
    ) -> StoreResult<Vec<Message>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        // The last of the n times: n past the last write, or now + n - 1.
        let update = "UPDATE conversations SET message_count = message_count + $4, \
                      updated_at = CASE WHEN updated_at >= $3 THEN updated_at + $4 ELSE $3 + $4 - 1 END \
                      WHERE company_id = $1 AND id = $2 RETURNING updated_at";
        let insert = format!(
            "INSERT INTO messages (company_id, id, conversation_id, role, content, created_at, tool) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {MESSAGE_COLUMNS}"
        );
        let n = messages.len() as i64;
        let rows: Vec<MessageRow> = on_pool!(self.pools(), write, |p| {
            let mut tx = p.begin().await?;
            let last: i64 = sqlx::query_scalar(update)
                .bind(company_id)
                .bind(conversation_id)
                .bind(now)
                .bind(n)
                .fetch_one(&mut *tx)
                .await?;
            let mut rows = Vec::with_capacity(messages.len());
            for (i, m) in messages.iter().enumerate() {
                // A tool's answer or a model's text may hold NUL, which
                // PostgreSQL's text refuses: it is shown as U+FFFD.
                let content = m.content.replace('\0', "\u{fffd}");
                let row: MessageRow = sqlx::query_as(&insert)
                    .bind(company_id)
                    .bind(new_id(IdKind::Message))
                    .bind(conversation_id)
                    .bind(Role::Tool.as_str())
                    .bind(content)
                    .bind(last - n + 1 + i as i64)
                    .bind(m.part.to_stored())
                    .fetch_one(&mut *tx)
                    .await?;
                rows.push(row);
            }
            tx.commit().await?;
            rows
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
