//! Customer users: list/search and get one.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::SharedState;
use crate::domain::{Permission, UserFilter, UserFilterBody};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, Endpoint, PathId, QueryNames};
use crate::http::query::{QueryParams, PAGE};
use crate::http::views::{ErrorBody, Pagination, UserList, UserView};

/// The list's and the export's filters, from the body or else the query.
pub(super) fn filter(body: UserFilterBody, query: &QueryParams) -> ApiResult<UserFilter> {
    UserFilter::read(body, |name| query.get(name)).map_err(ApiError::BadRequest)
}

impl Endpoint for UserFilterBody {
    const PERMISSION: Permission = Permission::UsersRead;
}

/// The list's body: the filters, with the key possibly from memory, checked
/// again by the lookup's own statement (the sync recipe's hot path).
#[derive(Deserialize)]
#[serde(transparent)]
pub struct ListBody(UserFilterBody);

impl Endpoint for ListBody {
    const PERMISSION: Permission = Permission::UsersRead;
    const REMEMBERED: bool = true;
}

/// The list's query: paging and the filters.
pub struct ListQuery;

impl QueryNames for ListQuery {
    const NAMES: &'static [&'static [&'static str]] = &[PAGE, UserFilter::NAMES];
}

#[utoipa::path(get, path = "/customer-users", tag = "customer-users",
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 4294967295.0, description = "≥ 1, default 1."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 20."),
        UserFilter,
    ),
    request_body(content = Option<UserFilterBody>, description = "Optional filters (and credentials), as the docs' clients send them"),
    responses((status = 200, body = UserList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    call: Call<ListBody, ListQuery>,
) -> ApiResult<Json<UserList>> {
    let read = |ListBody(body), query: &QueryParams| {
        let page = query.page(20)?;
        Ok((page, filter(body, query)?))
    };
    let listed = call.run(&state, read, |store, (page, filter), key, remembered| {
        store.list_users_checking_key(&key.company_id, remembered, filter, *page)
    });
    let (_, (page, _), (users, total)) = listed.await?;
    Ok(Json(UserList {
        data: users.into_iter().map(Into::into).collect(),
        pagination: Pagination::new(page, total),
    }))
}

/// Bodies of endpoints that take nothing but credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersRead {}

impl Endpoint for UsersRead {
    const PERMISSION: Permission = Permission::UsersRead;
}

#[utoipa::path(get, path = "/customer-users/{id}", tag = "customer-users",
    params(("id" = String, Path, description = "Customer user id (cu_…)")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UsersRead>,
) -> ApiResult<Json<UserView>> {
    let user = state
        .store
        .get_user(&call.key.company_id, &id)
        .await?
        .ok_or(ApiError::NotFound("Customer user not found"))?;
    Ok(Json(user.into()))
}
