//! A chat message's two write transactions on SQLite, run by the
//! group-commit thread (group.rs) with the token writes: the question with
//! the reply lease, then the reply with the lease's release. Through sqlx
//! each was four trips to its worker thread (begin, update, insert, commit)
//! and a commit of its own, one message at a time on the single writer; here
//! the concurrent messages share one transaction and one commit.
//!
//! Each write runs in a savepoint of its own, so one that fails leaves
//! nothing behind and its caller takes the pool's path (chat.rs), which runs
//! the very same statements (chat_sql.rs) and reports the error in the
//! store's terms.

use rusqlite::{Connection, OptionalExtension};

use super::chat_sql::{finish_reply_sql, insert_message_sql, take_lease_sql, CONVERSATION_EXISTS};
use crate::domain::Role;
use crate::store::rows::{ConversationRow, MessageRow};
use crate::store::{BeginReply, ChatOwner, Lease};

/// A named parameter, as rusqlite binds them (`$N`).
type Named<'a> = (&'a str, &'a dyn rusqlite::ToSql);

/// The writes of one chat message, owned so the group thread can run them.
pub(super) enum ChatWrite {
    /// The question, with the reply lease (`ChatStore::begin_reply`).
    Begin {
        company_id: String,
        conversation_id: String,
        customer_user_id: String,
        agent_id: String,
        question: String,
        title: String,
        lease_owner: String,
        lease_until: i64,
        now: i64,
        message_id: String,
    },
    /// The reply, releasing the lease (`ChatStore::finish_reply`).
    Finish {
        company_id: String,
        conversation_id: String,
        lease_owner: String,
        reply: String,
        /// The sources as stored (JSON).
        sources: String,
        now: i64,
        message_id: String,
    },
}

impl ChatWrite {
    /// The question's write.
    pub(super) fn begin(
        owner: ChatOwner<'_>,
        conversation_id: &str,
        question: &str,
        title: &str,
        lease: &Lease,
        now: i64,
        message_id: &str,
    ) -> Self {
        ChatWrite::Begin {
            company_id: owner.company_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            customer_user_id: owner.customer_user_id.to_owned(),
            agent_id: owner.agent_id.to_owned(),
            question: question.to_owned(),
            title: title.to_owned(),
            lease_owner: lease.owner.clone(),
            lease_until: lease.until,
            now,
            message_id: message_id.to_owned(),
        }
    }

    /// The reply's write; `ids`: the company, the conversation, the lease's
    /// owner and the new message.
    pub(super) fn finish(ids: [&str; 4], reply: &str, sources: &str, now: i64) -> Self {
        let [company_id, conversation_id, lease_owner, message_id] = ids.map(str::to_owned);
        ChatWrite::Finish {
            company_id,
            conversation_id,
            lease_owner,
            reply: reply.to_owned(),
            sources: sources.to_owned(),
            now,
            message_id,
        }
    }
}

/// What a chat write found, sent once it is committed.
pub(super) enum ChatDone {
    Begin(BeginReply),
    Finish(MessageRow),
}

/// The statements, prepared once per connection (`prepare_cached`).
pub(super) struct ChatSql {
    take: String,
    insert: String,
    finish: String,
}

impl ChatSql {
    pub(super) fn new() -> Self {
        ChatSql {
            take: take_lease_sql(),
            insert: insert_message_sql(),
            finish: finish_reply_sql(),
        }
    }
}

/// Runs `write` inside the group's transaction, in a savepoint of its own.
pub(super) fn write(
    conn: &Connection,
    sql: &ChatSql,
    write: &ChatWrite,
) -> rusqlite::Result<ChatDone> {
    conn.execute_batch("SAVEPOINT chat_write")?;
    let done = match write {
        ChatWrite::Begin { .. } => begin(conn, sql, write).map(ChatDone::Begin),
        ChatWrite::Finish { .. } => finish(conn, sql, write).map(ChatDone::Finish),
    };
    match done {
        Ok(done) => {
            conn.execute_batch("RELEASE chat_write")?;
            Ok(done)
        }
        Err(e) => {
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK TO chat_write; RELEASE chat_write")?;
            }
            Err(e)
        }
    }
}

fn begin(conn: &Connection, sql: &ChatSql, write: &ChatWrite) -> rusqlite::Result<BeginReply> {
    let ChatWrite::Begin {
        company_id,
        conversation_id,
        customer_user_id,
        agent_id,
        question,
        title,
        lease_owner,
        lease_until,
        now,
        message_id,
    } = write
    else {
        unreachable!("called for Begin only")
    };
    let params: [Named; 8] = [
        ("$1", company_id),
        ("$2", conversation_id),
        ("$3", now),
        ("$4", lease_owner),
        ("$5", lease_until),
        ("$6", title),
        ("$7", customer_user_id),
        ("$8", agent_id),
    ];
    let taken = conn
        .prepare_cached(&sql.take)?
        .query_row(&params[..], |r| {
            Ok((conversation_row(r)?, r.get::<_, bool>(8)?))
        })
        .optional()?;
    let Some((conversation, has_documents)) = taken else {
        let params: [Named; 4] = [
            ("$1", company_id),
            ("$2", conversation_id),
            ("$3", customer_user_id),
            ("$4", agent_id),
        ];
        let found: i64 = conn
            .prepare_cached(CONVERSATION_EXISTS)?
            .query_row(&params[..], |r| r.get(0))?;
        return Ok(if found > 0 {
            BeginReply::Busy
        } else {
            BeginReply::NotFound
        });
    };
    let question = insert_message(
        conn,
        sql,
        [company_id, message_id, conversation_id],
        Role::User,
        question,
        conversation.updated_at,
        None,
    )?;
    Ok(BeginReply::Started {
        conversation: Box::new(conversation.into()),
        question: question.into(),
        has_documents,
    })
}

fn finish(conn: &Connection, sql: &ChatSql, write: &ChatWrite) -> rusqlite::Result<MessageRow> {
    let ChatWrite::Finish {
        company_id,
        conversation_id,
        lease_owner,
        reply,
        sources,
        now,
        message_id,
    } = write
    else {
        unreachable!("called for Finish only")
    };
    let params: [Named; 4] = [
        ("$1", company_id),
        ("$2", conversation_id),
        ("$3", now),
        ("$4", lease_owner),
    ];
    let at: i64 = conn
        .prepare_cached(&sql.finish)?
        .query_row(&params[..], |r| r.get(0))?;
    insert_message(
        conn,
        sql,
        [company_id, message_id, conversation_id],
        Role::Assistant,
        reply,
        at,
        Some(sources),
    )
}

/// `ids`: company, message, conversation.
fn insert_message(
    conn: &Connection,
    sql: &ChatSql,
    [company_id, message_id, conversation_id]: [&String; 3],
    role: Role,
    content: &str,
    at: i64,
    sources: Option<&String>,
) -> rusqlite::Result<MessageRow> {
    let role = role.as_str();
    let params: [Named; 7] = [
        ("$1", company_id),
        ("$2", message_id),
        ("$3", conversation_id),
        ("$4", &role),
        ("$5", &content),
        ("$6", &at),
        ("$7", &sources),
    ];
    conn.prepare_cached(&sql.insert)?
        .query_row(&params[..], |r| {
            Ok(MessageRow {
                id: r.get(0)?,
                conversation_id: r.get(1)?,
                role: r.get(2)?,
                content: r.get(3)?,
                created_at: r.get(4)?,
                sources: r.get(5)?,
                tool: r.get(6)?,
            })
        })
}

/// A row that starts with `CONVERSATION_COLUMNS`.
fn conversation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        company_id: r.get(0)?,
        id: r.get(1)?,
        customer_user_id: r.get(2)?,
        agent_id: r.get(3)?,
        title: r.get(4)?,
        message_count: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}
