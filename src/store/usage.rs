//! How full the connection pools are, for `/metrics`.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use super::dialect::Pools;
use super::SqlStore;

/// One pool's connections at one moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    /// `read`/`write` (SQLite) or `main` (PostgreSQL).
    pub pool: &'static str,
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// Handles on a store's pools (they are shared, not copied), so a metrics
/// endpoint can read their use without holding the store itself.
#[derive(Clone)]
pub struct PoolWatch(Vec<(&'static str, Handle)>);

#[derive(Clone)]
enum Handle {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl SqlStore {
    pub fn pool_watch(&self) -> PoolWatch {
        PoolWatch(match self.pools() {
            Pools::Sqlite { read, write, .. } => vec![
                ("read", Handle::Sqlite(read.clone())),
                ("write", Handle::Sqlite(write.clone())),
            ],
            Pools::Postgres(pool) => vec![("main", Handle::Postgres(pool.clone()))],
        })
    }
}

impl PoolWatch {
    pub fn usage(&self) -> Vec<PoolUsage> {
        fn usage<DB: sqlx::Database>(pool: &'static str, p: &sqlx::Pool<DB>) -> PoolUsage {
            PoolUsage {
                pool,
                open: p.size(),
                idle: p.num_idle(),
                max: p.options().get_max_connections(),
            }
        }
        self.0
            .iter()
            .map(|(name, handle)| match handle {
                Handle::Sqlite(p) => usage(name, p),
                Handle::Postgres(p) => usage(name, p),
            })
            .collect()
    }
}
