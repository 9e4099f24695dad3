//! Customer users: update one (PUT), and the body and checks PATCH, upsert
//! and bulk items share.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::SharedState;
use crate::domain::{json_type, now_ms, Email, Field, Metadata, Name, Permission, UserChanges};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Call, Endpoint, PathId};
use crate::http::views::{ErrorBody, UserView};

/// Fields left out stay unchanged; `null` clears `name` or `email`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, format = "text")]
    name: Field<String>,
    /// A syntactically valid address; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Email, max_length = 320)]
    email: Field<String>,
    /// Replaces the stored object (≤ 16 KiB compact, depth ≤ 8).
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Field<Value>,
    #[serde(default)]
    #[schema(value_type = bool)]
    active: Field<bool>,
    /// Always rejected (the external id cannot be changed), so not part of
    /// the documented body: sending it is an unknown field to the document.
    #[serde(default)]
    #[schema(ignore)]
    external_id: Field<Value>,
}

impl Endpoint for UpdateUserBody {
    const PERMISSION: Permission = Permission::UsersWrite;
}

impl UpdateUserBody {
    pub fn into_changes(self) -> Result<UserChanges, ApiError> {
        let (mut changes, metadata) = self.into_parts()?;
        if let Some(v) = metadata {
            changes.metadata = Some(Metadata::parse(v).map_err(ApiError::BadRequest)?);
        }
        Ok(changes)
    }

    /// For PATCH: the same fields, but `metadata` is a merge patch (an
    /// object); the limits apply to the merge result, checked by the store.
    pub fn into_merge(self) -> Result<(UserChanges, Option<Map<String, Value>>), ApiError> {
        let (changes, metadata) = self.into_parts()?;
        let patch = match metadata {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "metadata must be a JSON object, got {}",
                    json_type(&other)
                )))
            }
        };
        Ok((changes, patch))
    }

    /// The changes without metadata, and the metadata value as sent.
    fn into_parts(self) -> Result<(UserChanges, Option<Value>), ApiError> {
        if !self.external_id.is_absent() {
            return Err(ApiError::bad_request("external_id cannot be changed"));
        }
        let metadata = match self.metadata {
            Field::Absent => None,
            Field::Null => {
                return Err(ApiError::bad_request(
                    "metadata must be a JSON object, not null",
                ))
            }
            Field::Set(v) => Some(v),
        };
        Ok((user_changes(self.name, self.email, self.active)?, metadata))
    }
}

/// Validates the plain fields of an update (PUT, PATCH and bulk items).
pub(super) fn user_changes(
    name: Field<String>,
    email: Field<String>,
    active: Field<bool>,
) -> Result<UserChanges, ApiError> {
    let bad = ApiError::BadRequest;
    Ok(UserChanges {
        name: name.try_map(Name::parse).map_err(bad)?,
        email: email.try_map(Email::parse).map_err(bad)?,
        metadata: None,
        active: match active {
            Field::Absent => None,
            Field::Null => {
                return Err(ApiError::bad_request(
                    "active must be true or false, not null",
                ))
            }
            Field::Set(v) => Some(v),
        },
    })
}

#[utoipa::path(put, path = "/customer-users/{id}", tag = "customer-users",
    params(("id" = String, Path, description = "Customer user id (cu_…)")),
    request_body(content = Option<UpdateUserBody>, description = "The fields to change; an empty body changes nothing"),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UpdateUserBody>,
) -> ApiResult<Json<UserView>> {
    let changes = call.body.into_changes()?;
    let user = state
        .store
        .update_user(&call.key.company_id, &id, &changes, now_ms())
        .await?
        .ok_or(ApiError::NotFound("Customer user not found"))?;
    Ok(Json(user.into()))
}
