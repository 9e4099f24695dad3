//! SQL for conversations, messages and the reply lease, shared by SQLite and
//! PostgreSQL.
//!
//! Every write to a conversation's messages goes through one `UPDATE` of the
//! conversation row first: it serialises concurrent writers on that row (a row
//! lock on PostgreSQL, the single writer on SQLite), keeps `message_count`
//! exact, and hands out a `created_at` that is strictly greater than the last
//! one, so `created_at, id` is the order in which messages were written even
//! within one millisecond or across nodes whose clocks differ slightly.

use async_trait::async_trait;

use super::chat_sql::{finish_reply_sql, insert_message_sql, take_lease_sql, CONVERSATION_EXISTS};
use super::group_chat::{ChatDone, ChatWrite};
use super::{on_pool, storable, SqlStore};
use crate::domain::{new_id, Conversation, IdKind, Message, Role, Source};
use crate::store::rows::{ConversationRow, MessageRow, CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::store::StoreResult;
use crate::store::{BeginReply, ChatOwner, ChatStore, Lease, PageRequest};

/// The conversation as taking its lease left it, and whether the company has
/// any knowledge document: asked in the same statement, so a company without
/// documents pays no query to learn that a reply needs no retrieval.
#[derive(sqlx::FromRow)]
struct TakenRow {
    #[sqlx(flatten)]
    conversation: ConversationRow,
    has_documents: bool,
}

#[async_trait]
impl ChatStore for SqlStore {
    async fn create_conversation(
        &self,
        owner: ChatOwner<'_>,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<Conversation> {
        let sql = format!(
            "INSERT INTO conversations (company_id, id, customer_user_id, agent_id, title, \
             message_count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) \
             RETURNING {CONVERSATION_COLUMNS}"
        );
        let id = new_id(IdKind::Conversation);
        let row: ConversationRow = on_pool!(self.pools(), write, |p| sqlx::query_as(&sql)
            .bind(owner.company_id)
            .bind(&id)
            .bind(owner.customer_user_id)
            .bind(owner.agent_id)
            .bind(title)
            .bind(now)
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    async fn list_conversations(
        &self,
        company_id: &str,
        customer_user_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Conversation>, i64)> {
        if customer_user_id.is_some_and(|u| !storable(u)) {
            return Ok((Vec::new(), 0));
        }
        // `$2 IS NULL` lets one statement serve both; with a user the
        // (company_id, customer_user_id, created_at, id) index answers.
        let filter = "company_id = $1 AND ($2 IS NULL OR customer_user_id = $2)";
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {filter} \
             ORDER BY created_at, id LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM conversations WHERE {filter}");
        on_pool!(self.pools(), read, |p| {
            let total: i64 = sqlx::query_scalar(&count)
                .bind(company_id)
                .bind(customer_user_id)
                .fetch_one(p)
                .await?;
            let rows: Vec<ConversationRow> = sqlx::query_as(&sql)
                .bind(company_id)
                .bind(customer_user_id)
                .bind(i64::from(page.limit))
                .bind(page.offset())
                .fetch_all(p)
                .await?;
            Ok((rows.into_iter().map(Into::into).collect(), total))
        })
    }

    async fn list_recent_conversations(
        &self,
        owner: ChatOwner<'_>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Conversation>, i64)> {
        let filter = "company_id = $1 AND customer_user_id = $2 AND agent_id = $3";
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {filter} \
             ORDER BY updated_at DESC, id DESC LIMIT $4 OFFSET $5"
        );
        let count = format!("SELECT COUNT(*) FROM conversations WHERE {filter}");
        on_pool!(self.pools(), read, |p| {
            let total: i64 = sqlx::query_scalar(&count)
                .bind(owner.company_id)
                .bind(owner.customer_user_id)
                .bind(owner.agent_id)
                .fetch_one(p)
                .await?;
            let rows: Vec<ConversationRow> = sqlx::query_as(&sql)
                .bind(owner.company_id)
                .bind(owner.customer_user_id)
                .bind(owner.agent_id)
                .bind(i64::from(page.limit))
                .bind(page.offset())
                .fetch_all(p)
                .await?;
            Ok((rows.into_iter().map(Into::into).collect(), total))
        })
    }

    async fn get_conversation(
        &self,
        company_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        if !storable(conversation_id) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE company_id = $1 AND id = $2"
        );
        let row: Option<ConversationRow> = on_pool!(self.pools(), read, |p| sqlx::query_as(&sql)
            .bind(company_id)
            .bind(conversation_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn list_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        page: PageRequest,
    ) -> StoreResult<(Vec<Message>, i64)> {
        let filter = "company_id = $1 AND conversation_id = $2";
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE {filter} \
             ORDER BY created_at, id LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM messages WHERE {filter}");
        on_pool!(self.pools(), read, |p| {
            let total: i64 = sqlx::query_scalar(&count)
                .bind(company_id)
                .bind(conversation_id)
                .fetch_one(p)
                .await?;
            let rows: Vec<MessageRow> = sqlx::query_as(&sql)
                .bind(company_id)
                .bind(conversation_id)
                .bind(i64::from(page.limit))
                .bind(page.offset())
                .fetch_all(p)
                .await?;
            Ok((rows.into_iter().map(Into::into).collect(), total))
        })
    }

    async fn latest_messages(
        &self,
        company_id: &str,
        conversation_id: &str,
        limit: u32,
        before: Option<&str>,
    ) -> StoreResult<Option<(Vec<Message>, bool)>> {
        if before.is_some_and(|b| !storable(b)) {
            return Ok(None);
        }
        let fetch = i64::from(limit) + 1;
        let rows: Option<Vec<MessageRow>> = match before {
            None => {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE company_id = $1 AND conversation_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT $3"
                );
                Some(on_pool!(self.pools(), read, |p| sqlx::query_as(&sql)
                    .bind(company_id)
                    .bind(conversation_id)
                    .bind(fetch)
                    .fetch_all(p)
                    .await)?)
            }
            Some(before) => {
                let anchor_sql = "SELECT created_at FROM messages \
                                  WHERE company_id = $1 AND conversation_id = $2 AND id = $3";
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE company_id = $1 AND conversation_id = $2 \
                     AND (created_at, id) < ($3, $4) \
                     ORDER BY created_at DESC, id DESC LIMIT $5"
                );
                on_pool!(self.pools(), read, |p| {
                    let anchor: Option<i64> = sqlx::query_scalar(anchor_sql)
                        .bind(company_id)
                        .bind(conversation_id)
                        .bind(before)
                        .fetch_optional(p)
                        .await?;
                    match anchor {
                        None => None,
                        Some(at) => Some(
                            sqlx::query_as(&sql)
                                .bind(company_id)
                                .bind(conversation_id)
                                .bind(at)
                                .bind(before)
                                .bind(fetch)
                                .fetch_all(p)
                                .await?,
                        ),
                    }
                })
            }
        };
        Ok(rows.map(|mut rows| {
            let has_more = rows.len() as i64 > i64::from(limit);
            rows.truncate(limit as usize);
            rows.reverse();
            (rows.into_iter().map(Into::into).collect(), has_more)
        }))
    }

    async fn begin_reply(
        &self,
        owner: ChatOwner<'_>,
        conversation_id: &str,
        question: &str,
        derived_title: &str,
        lease: &Lease,
        now: i64,
    ) -> StoreResult<BeginReply> {
        if !storable(conversation_id) {
            return Ok(BeginReply::NotFound);
        }
        let message_id = new_id(IdKind::Message);
        if let Some(group) = &self.group {
            let write = ChatWrite::begin(
                owner,
                conversation_id,
                question,
                derived_title,
                lease,
                now,
                &message_id,
            );
            if let Some(ChatDone::Begin(begun)) = group.chat(write).await {
                return Ok(begun);
            }
        }
        let take = take_lease_sql();
        let exists = CONVERSATION_EXISTS;
        let insert = insert_message_sql();
        on_pool!(self.pools(), write, |p| {
            let mut tx = p.begin().await?;
            let row: Option<TakenRow> = sqlx::query_as(&take)
                .bind(owner.company_id)
                .bind(conversation_id)
                .bind(now)
                .bind(&lease.owner)
                .bind(lease.until)
                .bind(derived_title)
                .bind(owner.customer_user_id)
                .bind(owner.agent_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                let found: i64 = sqlx::query_scalar(exists)
                    .bind(owner.company_id)
                    .bind(conversation_id)
                    .bind(owner.customer_user_id)
                    .bind(owner.agent_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.rollback().await?;
                return Ok(if found > 0 {
                    BeginReply::Busy
                } else {
                    BeginReply::NotFound
                });
            };
            let TakenRow {
                conversation: row,
                has_documents,
            } = row;
            let message: MessageRow = sqlx::query_as(&insert)
                .bind(owner.company_id)
                .bind(&message_id)
                .bind(conversation_id)
                .bind(Role::User.as_str())
                .bind(question)
                .bind(row.updated_at)
                .bind(None::<String>)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(BeginReply::Started {
                conversation: Box::new(row.into()),
                question: message.into(),
                has_documents,
            })
        })
    }

    async fn renew_lease(
        &self,
        company_id: &str,
        conversation_id: &str,
        lease: &Lease,
    ) -> StoreResult<bool> {
        let done = on_pool!(self.pools(), write, |p| sqlx::query(
            "UPDATE conversations SET lease_until = $4 \
             WHERE company_id = $1 AND id = $2 AND lease_owner = $3"
        )
        .bind(company_id)
        .bind(conversation_id)
        .bind(&lease.owner)
        .bind(lease.until)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    async fn finish_reply(
        &self,
        company_id: &str,
        conversation_id: &str,
        owner: &str,
        reply: &str,
        sources: &[Source],
        now: i64,
    ) -> StoreResult<Message> {
        let sources = serde_json::to_string(sources).unwrap_or_else(|_| "[]".into());
        let message_id = new_id(IdKind::Message);
        if let Some(group) = &self.group {
            let ids = [company_id, conversation_id, owner, &message_id];
            let write = ChatWrite::finish(ids, reply, &sources, now);
            if let Some(ChatDone::Finish(row)) = group.chat(write).await {
                return Ok(row.into());
            }
        }
        let update = finish_reply_sql();
        let insert = insert_message_sql();
        let row: MessageRow = on_pool!(self.pools(), write, |p| {
            let mut tx = p.begin().await?;
            let at: i64 = sqlx::query_scalar(&update)
                .bind(company_id)
                .bind(conversation_id)
                .bind(now)
                .bind(owner)
                .fetch_one(&mut *tx)
                .await?;
            let row: MessageRow = sqlx::query_as(&insert)
                .bind(company_id)
                .bind(&message_id)
                .bind(conversation_id)
                .bind(Role::Assistant.as_str())
                .bind(reply)
                .bind(at)
                .bind(&sources)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        Ok(row.into())
    }

    async fn release_lease(
        &self,
        company_id: &str,
        conversation_id: &str,
        owner: &str,
    ) -> StoreResult<()> {
        on_pool!(self.pools(), write, |p| sqlx::query(
            "UPDATE conversations SET lease_owner = NULL, lease_until = NULL \
             WHERE company_id = $1 AND id = $2 AND lease_owner = $3"
        )
        .bind(company_id)
        .bind(conversation_id)
        .bind(owner)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
