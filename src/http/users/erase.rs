//! `DELETE /customer-users/{id}`: erase a customer user (docs/API.md §12.1).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::SharedState;
use crate::domain::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, Endpoint, PathId};
use crate::http::views::ErrorBody;

/// The erasure takes nothing but credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersErase {}

impl Endpoint for UsersErase {
    const PERMISSION: Permission = Permission::UsersWrite;
}

/// Erases the user, their conversations and messages in one transaction;
/// their tokens stop working at once (the token check finds no user) and
/// their earlier events keep only ids. A later token for the same external
/// id creates a new user.
#[utoipa::path(delete, path = "/customer-users/{id}", tag = "customer-users",
    params(("id" = String, Path, description = "Customer user id (cu_…)")),
    responses(
        (status = 204, description = "Erased: the user, their conversations and messages are gone, their events scrubbed"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such user in the key's company")))]
pub async fn erase(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UsersErase>,
) -> ApiResult<StatusCode> {
    if state.store.erase_user(&call.key.company_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("Customer user not found"))
    }
}
