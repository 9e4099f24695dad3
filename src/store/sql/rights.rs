//! The erasure and the data export's pages in SQL, shared by SQLite and
//! PostgreSQL (docs/API.md §12).
//!
//! The erasure is one transaction on the writer. On PostgreSQL it first
//! locks, in this order, the user row, the user's conversations and the
//! company's webhook endpoints: a chat write or a new conversation racing it
//! waits and then finds its rows gone (instead of adding a message the
//! deletes below would trip over), and a webhook fan-out either finished
//! before (its deliveries are scrubbed here) or starts after (it reads the
//! scrubbed events). Every other writer takes these locks in an order that
//! cannot close a cycle with this one: the chat store locks one conversation,
//! the fan-out one endpoint. SQLite has one writer, so the transaction sees
//! nothing change under it.

use async_trait::async_trait;
use serde_json::Value;

use super::{on_pool, storable, SqlStore};
use crate::domain::{Conversation, Message};
use crate::store::dialect::{erased_event_data, for_update};
use crate::store::rights::{After, UserRights};
use crate::store::rows::{ConversationRow, MessageRow, CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::store::StoreResult;

/// A webhook delivery body with its event's `data` replaced by the scrubbed
/// data, the rest (`type`, `timestamp`) kept. A body that is not a JSON
/// object (none is ever written) is replaced whole.
fn scrubbed_body(body: &str, data: &str) -> String {
    let data: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            map.insert("data".into(), data);
            Value::Object(map).to_string()
        }
        _ => serde_json::json!({ "data": data }).to_string(),
    }
}

#[async_trait]
impl UserRights for SqlStore {
    async fn erase_user(&self, company_id: &str, user_id: &str) -> StoreResult<bool> {
        if !storable(user_id) {
            return Ok(false);
        }
        let lock = for_update(self.backend);
        let lock_user =
            format!("SELECT id FROM customer_users WHERE company_id = $1 AND id = $2{lock}");
        let lock_conversations = format!(
            "SELECT id FROM conversations WHERE company_id = $1 AND customer_user_id = $2 \
             ORDER BY id{lock}"
        );
        let lock_endpoints =
            format!("SELECT id FROM webhook_endpoints WHERE company_id = $1 ORDER BY id{lock}");
        let scrub_events = format!(
            "UPDATE events SET data = {} WHERE company_id = $1 AND customer_user_id = $2",
            erased_event_data(self.backend)
        );
        let deliveries = "SELECT d.id, d.body, e.data FROM webhook_deliveries d \
                          JOIN events e ON e.company_id = d.company_id AND e.id = d.event_id \
                          WHERE d.company_id = $1 AND e.customer_user_id = $2";
        on_pool!(&self.pools, write, |p| {
            let mut tx = p.begin().await?;
            let found: Option<String> = sqlx::query_scalar(&lock_user)
                .bind(company_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(&lock_conversations)
                .bind(company_id)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(&lock_endpoints)
                .bind(company_id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM messages WHERE company_id = $1 AND conversation_id IN \
                 (SELECT id FROM conversations WHERE company_id = $1 AND customer_user_id = $2)",
            )
            .bind(company_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM conversations WHERE company_id = $1 AND customer_user_id = $2",
            )
            .bind(company_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&scrub_events)
                .bind(company_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            // Bodies are kept as sent (signed at each attempt), so each is
            // rewritten here; an erased user has as many as their events
            // times the company's endpoints.
            let bodies: Vec<(String, String, String)> = sqlx::query_as(deliveries)
                .bind(company_id)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
            for (id, body, data) in bodies {
                sqlx::query(
                    "UPDATE webhook_deliveries SET body = $3 WHERE company_id = $1 AND id = $2",
                )
                .bind(company_id)
                .bind(&id)
                .bind(scrubbed_body(&body, &data))
                .execute(&mut *tx)
                .await?;
            }
            // Every chat message that wrote one of these days held its
            // conversation's lock, which this transaction has waited for:
            // none is still to commit.
            sqlx::query(
                "DELETE FROM user_activity WHERE company_id = $1 AND customer_user_id = $2",
            )
            .bind(company_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            // Its triggers write `customer_user.deleted` and take the user
            // out of the company's counts.
            sqlx::query("DELETE FROM customer_users WHERE company_id = $1 AND id = $2")
                .bind(company_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    async fn user_conversations_after(
        &self,
        company_id: &str,
        user_id: &str,
        after: After<'_>,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>> {
        if !storable(user_id) {
            return Ok(Vec::new());
        }
        let (at, id) = after.unwrap_or((i64::MIN, ""));
        // The (company_id, customer_user_id, created_at, id) index answers.
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE company_id = $1 AND customer_user_id = $2 AND (created_at, id) > ($3, $4) \
             ORDER BY created_at, id LIMIT $5"
        );
        let rows: Vec<ConversationRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(user_id)
            .bind(at)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn conversation_messages_after(
        &self,
        company_id: &str,
        conversation_id: &str,
        after: After<'_>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let (at, id) = after.unwrap_or((i64::MIN, ""));
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE company_id = $1 AND conversation_id = $2 AND (created_at, id) > ($3, $4) \
             ORDER BY created_at, id LIMIT $5"
        );
        let rows: Vec<MessageRow> = on_pool!(&self.pools, read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(conversation_id)
            .bind(at)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::scrubbed_body;
    use serde_json::{json, Value};

    #[test]
    fn a_scrubbed_body_keeps_its_type_and_timestamp() {
        let body = json!({ "type": "message.created", "timestamp": "t", "data": { "id": "msg_1", "content": "secret" } });
        let out: Value = serde_json::from_str(&scrubbed_body(
            &body.to_string(),
            r#"{"id":"msg_1","erased":true}"#,
        ))
        .unwrap();
        assert_eq!(
            out,
            json!({ "type": "message.created", "timestamp": "t", "data": { "id": "msg_1", "erased": true } })
        );
        assert!(!scrubbed_body("not json secret", "{}").contains("secret"));
    }
}
