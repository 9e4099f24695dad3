//! What the store's unique violations become, on each backend: the driver's
//! errors are real ones, so the constraint names the mapping relies on
//! (PostgreSQL's, SQLite's column list) are checked, not assumed.

use crate::harness;

use axum::http::StatusCode;
use sqlx::Connection;

use harness::TestDb;
use performchat::error::ApiError;
use performchat::store::{Backend, StoreError, UniqueKey};

const COMPANY: &str = "INSERT INTO companies (id, name, active, created_at, updated_at) \
                       VALUES ('co_1', 'Acme', TRUE, 0, 0)";
const USER: &str = "INSERT INTO customer_users (company_id, id, external_id, metadata, active, \
                    token_version, created_at, updated_at) \
                    VALUES ('co_1', $1, 'ext-1', '{}', TRUE, 0, 0, 0)";

/// Runs the statements in order; returns the error of the last one.
async fn last_error(db: &TestDb, statements: &[(&str, Option<&str>)]) -> sqlx::Error {
    // Connecting through the store brings the schema up to date.
    db.store().await.close().await;
    macro_rules! run {
        ($conn:expr) => {{
            let mut conn = $conn;
            let (last, first) = statements.split_last().unwrap();
            for (sql, arg) in first {
                let mut q = sqlx::query(sql);
                if let Some(a) = arg {
                    q = q.bind(*a);
                }
                q.execute(&mut conn).await.unwrap();
            }
            let mut q = sqlx::query(last.0);
            if let Some(a) = last.1 {
                q = q.bind(a);
            }
            q.execute(&mut conn).await.unwrap_err()
        }};
    }
    match db.backend() {
        Backend::Sqlite => run!(sqlx::SqliteConnection::connect(&db.url).await.unwrap()),
        Backend::Postgres => run!(sqlx::PgConnection::connect(&db.url).await.unwrap()),
    }
}

async fn unique_violations_map_per_constraint(backend: Backend) {
    let db = TestDb::new(backend).await;
    let same_external_id = last_error(
        &db,
        &[(COMPANY, None), (USER, Some("cu_1")), (USER, Some("cu_2"))],
    )
    .await;
    let err = StoreError::from(same_external_id);
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                key: UniqueKey::UserExternalId,
                ..
            }
        ),
        "{backend:?}: {err:?}"
    );
    assert_eq!(ApiError::from(err).status(), StatusCode::CONFLICT);

    let db = TestDb::new(backend).await;
    let same_company_id = last_error(&db, &[(COMPANY, None), (COMPANY, None)]).await;
    let err = StoreError::from(same_company_id);
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                key: UniqueKey::Other,
                ..
            }
        ),
        "{backend:?}: {err:?}"
    );
    // An id we minted twice is our bug, not the client's conflict.
    let api = ApiError::from(err);
    assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(api.public_message(), "Internal server error");
}

#[tokio::test]
async fn sqlite_unique_violations_map_per_constraint() {
    unique_violations_map_per_constraint(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
async fn postgres_unique_violations_map_per_constraint() {
    unique_violations_map_per_constraint(Backend::Postgres).await;
}
