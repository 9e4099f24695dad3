//! How full the connection pools are, for `/metrics`.

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

impl SqlStore {
    pub fn pool_usage(&self) -> Vec<PoolUsage> {
        fn usage<DB: sqlx::Database>(pool: &'static str, p: &sqlx::Pool<DB>) -> PoolUsage {
            PoolUsage {
                pool,
                open: p.size(),
                idle: p.num_idle(),
                max: p.options().get_max_connections(),
            }
        }
        match self.pools() {
            Pools::Sqlite { read, write, .. } => vec![usage("read", read), usage("write", write)],
            Pools::Postgres(pool) => vec![usage("main", pool)],
        }
    }
}
