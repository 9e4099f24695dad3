//! The sync recipe's lookup by external id in one statement.

use super::{on_pool, user_where, Params, SqlStore, SqlValue};
use crate::domain::CustomerUser;
use crate::store::rows::{UserRow, USER_COLUMNS};
use crate::store::StoreResult;
use crate::store::{PageRequest, UserFilter};

impl SqlStore {
    /// A listing filtered by external id matches at most one user (the
    /// unique (company_id, external_id) constraint), so one statement reads
    /// every match and the total is their number: the sync recipe's lookup
    /// costs one query instead of a count and a page.
    pub(super) async fn list_by_external_id(
        &self,
        company_id: &str,
        filter: &UserFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CustomerUser>, i64)> {
        let mut params = Params::default();
        let where_sql = user_where(company_id, filter, &mut params, false);
        let fast = self
            .fast
            .as_ref()
            .and_then(|f| f.users(&where_sql, &params));
        let rows: Vec<UserRow> = match fast {
            Some(rows) => rows,
            None => {
                let sql = format!("SELECT {USER_COLUMNS} FROM customer_users WHERE {where_sql}");
                on_pool!(&self.pools, read, |p| bind_params!(
                    sqlx::query_as(&sql),
                    params
                )
                .fetch_all(p)
                .await)?
            }
        };
        let total = rows.len() as i64;
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let users = rows
            .into_iter()
            .skip(skip)
            .take(page.limit as usize)
            .map(Into::into)
            .collect();
        Ok((users, total))
    }
}
