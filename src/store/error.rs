//! The store's own error: what went wrong in storage terms, with the
//! driver's error kept as the source so a log line or the CLI can print the
//! whole chain. Callers decide what it means for them: the HTTP layer maps it
//! to a status in one place (the crate-level `error` module), the CLI prints it.

/// A uniqueness rule of the schema that a write ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// A company's customer users have distinct `external_id`s.
    UserExternalId,
    /// A company's knowledge documents have distinct `external_id`s.
    DocumentExternalId,
    /// An agent's tools have distinct names.
    ToolName,
    /// Any other key: the ids we mint are unique, so meeting one is a bug.
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the operation needs does not exist (the message says which).
    #[error("{0}")]
    NotFound(&'static str),
    /// A write would break a uniqueness rule.
    #[error("duplicate key ({key:?})")]
    Duplicate {
        key: UniqueKey,
        #[source]
        source: sqlx::Error,
    },
    /// Concurrent writers kept changing the same row; a retry may succeed.
    #[error("{0}")]
    Contention(&'static str),
    /// Every connection stayed busy for the pool's whole wait.
    #[error("the database is busy")]
    Busy(#[source] sqlx::Error),
    /// The database could not be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else the driver reported.
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut => StoreError::Busy(err),
            sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                StoreError::Unavailable(err)
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let key = unique_key(db.constraint(), db.message());
                StoreError::Duplicate { key, source: err }
            }
            _ => StoreError::Other(err),
        }
    }
}

/// Which rule a unique violation broke. PostgreSQL names the constraint;
/// SQLite names none but lists the columns in its message
/// ("UNIQUE constraint failed: customer_users.company_id, customer_users.external_id").
fn unique_key(constraint: Option<&str>, message: &str) -> UniqueKey {
    let by_name = constraint == Some("customer_users_company_id_external_id_key");
    let by_columns = constraint.is_none()
        && message.ends_with("customer_users.company_id, customer_users.external_id");
    if by_name || by_columns {
        UniqueKey::UserExternalId
    } else if constraint == Some("knowledge_documents_by_external_id")
        || (constraint.is_none()
            && message.ends_with("knowledge_documents.company_id, knowledge_documents.external_id"))
    {
        UniqueKey::DocumentExternalId
    } else if constraint == Some("tools_name_per_agent")
        || (constraint.is_none() && message.ends_with("tools.agent_id, tools.name"))
    {
        UniqueKey::ToolName
    } else {
        UniqueKey::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_rules_are_told_apart_on_both_backends() {
        let sqlite =
            "UNIQUE constraint failed: customer_users.company_id, customer_users.external_id";
        assert_eq!(unique_key(None, sqlite), UniqueKey::UserExternalId);
        assert_eq!(
            unique_key(
                Some("customer_users_company_id_external_id_key"),
                "duplicate key"
            ),
            UniqueKey::UserExternalId
        );
        assert_eq!(
            unique_key(None, "UNIQUE constraint failed: companies.id"),
            UniqueKey::Other
        );
        let documents = "UNIQUE constraint failed: knowledge_documents.company_id, knowledge_documents.external_id";
        assert_eq!(unique_key(None, documents), UniqueKey::DocumentExternalId);
        assert_eq!(
            unique_key(Some("knowledge_documents_by_external_id"), "duplicate key"),
            UniqueKey::DocumentExternalId
        );
        assert_eq!(
            unique_key(Some("companies_pkey"), "duplicate key"),
            UniqueKey::Other
        );
    }
}
