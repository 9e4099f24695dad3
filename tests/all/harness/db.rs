//! A fresh database per test: a SQLite file in a temporary directory, or a
//! PostgreSQL database of its own (dropped afterwards, and any left by a
//! crashed run dropped once an hour old).

use performchat::domain::now_ms;
use performchat::store::{Backend, ConnectOptions, SqlStore};

const PG_ENV: &str = "PERFORMCHAT_TEST_POSTGRES_URL";

/// A database that exists for one test only.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                // Created (and migrated) as the server does on first start;
                // admin commands refuse a file that does not exist.
                let options = ConnectOptions {
                    create: true,
                    ..ConnectOptions::default()
                };
                SqlStore::connect(&url, &options)
                    .await
                    .expect("create the test database")
                    .close()
                    .await;
                TestDb {
                    url,
                    backend,
                    _dir: Some(dir),
                    pg_admin: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var(PG_ENV).unwrap_or_else(|_| {
                    panic!("{PG_ENV} must name a PostgreSQL server for the postgres tests")
                });
                let name = format!(
                    "pct_{}_{}",
                    now_ms() / 1000,
                    ulid::Ulid::new().to_string().to_lowercase()
                );
                let mut conn = admin_connection(&admin).await;
                drop_stale_databases(&mut conn).await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = replace_database(&admin, &name);
                TestDb {
                    url,
                    backend,
                    _dir: None,
                    pg_admin: Some((admin, name)),
                }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs raw SQL on a connection of its own (for seeding rows the API
    /// would not write, such as chosen timestamps).
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    pub async fn store(&self) -> SqlStore {
        SqlStore::connect(
            &self.url,
            &ConnectOptions {
                pool_size: 4,
                create: true,
                ..ConnectOptions::default()
            },
        )
        .await
        .expect("connect test store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop runs outside async code: use a thread with its own runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = admin_connection(&admin).await;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

async fn admin_connection(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .expect("connect to the PostgreSQL admin database")
}

/// Databases left by crashed runs are dropped once they are an hour old.
async fn drop_stale_databases(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'pct\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let cutoff = now_ms() / 1000 - 3600;
    for name in names {
        let created = name.split('_').nth(1).and_then(|s| s.parse::<i64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// The same server URL with another database name.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}
