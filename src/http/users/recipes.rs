//! Server-side versions of the seed's client recipes (docs/API.md §4.4, §4.5): merge
//! by PATCH, upsert by external id, activity stats. Export and bulk update
//! have their own modules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::list::UsersRead;
use super::write::UpdateUserBody;
use crate::app::SharedState;
use crate::domain::{now_ms, ExternalId};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, PathId};
use crate::http::views::{ErrorBody, UserView};
use crate::store::{MergeOutcome, UserKey};

/// The message of a merge whose result breaks the metadata limits.
pub(super) fn merge_rejected(reason: &str) -> String {
    format!("{reason} (after merging the patch into the stored metadata)")
}

/// Like PUT, but `metadata` is an RFC 7396 JSON Merge Patch onto the stored
/// object (`null` removes a key), applied atomically: concurrent merges of
/// different keys all survive.
#[utoipa::path(patch, path = "/customer-users/{id}", tag = "customer-users",
    params(("id" = String, Path, description = "Customer user id (cu_…)")),
    request_body(content = Option<UpdateUserBody>, description = "The fields to change; metadata is merged; an empty body changes nothing"),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UpdateUserBody>,
) -> ApiResult<Json<UserView>> {
    let (changes, patch) = call.body.into_merge()?;
    let outcome = state
        .store
        .merge_user(
            &call.key.company_id,
            UserKey::Id(&id),
            &changes,
            patch.as_ref(),
            now_ms(),
        )
        .await?;
    match outcome {
        MergeOutcome::Updated(user) => Ok(Json((*user).into())),
        MergeOutcome::NotFound => Err(ApiError::NotFound("Customer user not found")),
        MergeOutcome::Invalid(reason) => Err(ApiError::BadRequest(merge_rejected(&reason))),
    }
}

/// Create-or-update by the caller's own id, body as PUT (metadata replaces).
/// 201 when the user was created, 200 when it existed.
#[utoipa::path(put, path = "/customer-users/by-external-id/{external_id}", tag = "customer-users",
    params(("external_id" = String, Path, min_length = 1, max_length = 255, format = "text", description = "The caller's id for the user (the token's userId), 1–255 characters")),
    request_body(content = Option<UpdateUserBody>, description = "The user's fields; an empty body creates the user with none set, or changes nothing"),
    responses((status = 200, description = "Updated", body = UserView), (status = 201, description = "Created", body = UserView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn upsert(
    State(state): State<SharedState>,
    PathId(external_id): PathId,
    call: Call<UpdateUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let external_id =
        ExternalId::parse("external_id", external_id).map_err(ApiError::BadRequest)?;
    let changes = call.body.into_changes()?;
    let (user, created) = state
        .store
        .upsert_user(
            &call.key.company_id,
            external_id.as_str(),
            &changes,
            now_ms(),
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(user.into())))
}

/// Users whose `last_seen_at` falls within 24 hours / 7 days of now.
#[derive(Serialize, ToSchema)]
pub struct StatsView {
    pub total: i64,
    pub active: i64,
    pub last_day: i64,
    pub last_week: i64,
}

#[utoipa::path(get, path = "/customer-users/stats", tag = "customer-users",
    responses((status = 200, body = StatsView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn stats(
    State(state): State<SharedState>,
    call: Call<UsersRead>,
) -> ApiResult<Json<StatsView>> {
    let s = state
        .store
        .user_stats(&call.key.company_id, now_ms())
        .await?;
    Ok(Json(StatsView {
        total: s.total,
        active: s.active,
        last_day: s.last_day,
        last_week: s.last_week,
    }))
}
