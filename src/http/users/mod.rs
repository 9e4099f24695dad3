//! Customer users: list/search, get one, update.

pub(super) mod bulk;
pub(super) mod export;
pub(super) mod recipes;

use axum::extract::{RawQuery, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::http::extract::{Call, Endpoint, PathId};
use crate::http::query::QueryParams;
use crate::http::views::{ErrorBody, Pagination, UserList, UserView};
use crate::app::SharedState;
use crate::domain::{
    fold, json_type, now_ms, Email, Field, Metadata, Name, NameQuery, Permission, UserChanges,
};
use crate::error::{ApiError, ApiResult};
use crate::store::UserFilter;

const LIST_PARAMS: [&str; 6] = ["page", "limit", "name", "email", "external_id", "active"];

/// Filters sent in the body, as the docs' clients do. `null` is refused.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UserFilterBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    email: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    external_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    active: Field<bool>,
}

impl Endpoint for UserFilterBody {
    const PERMISSION: Permission = Permission::UsersRead;
}

/// Query parameters of the list (filters here lose to the same filter in the body).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// ≥ 1, default 1.
    page: Option<u32>,
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Case-insensitive substring of the name; `%`, `_`, `\` are literal.
    name: Option<String>,
    /// Case-insensitive exact e-mail.
    email: Option<String>,
    /// Exact external id.
    external_id: Option<String>,
    /// `true` or `false`.
    active: Option<bool>,
}

fn not_null<T>(name: &str, field: Field<T>) -> Result<Option<T>, ApiError> {
    match field {
        Field::Absent => Ok(None),
        Field::Null => Err(ApiError::bad_request(format!(
            "{name} filter must not be null"
        ))),
        Field::Set(v) => Ok(Some(v)),
    }
}

/// Builds the filter from the body, falling back to the query string per filter.
pub(super) fn user_filter(
    body: UserFilterBody,
    query: &QueryParams,
) -> Result<UserFilter, ApiError> {
    let text = |name: &str, from_body: Field<String>| -> Result<Option<String>, ApiError> {
        let value = not_null(name, from_body)?.or_else(|| query.get(name).map(str::to_owned));
        match value {
            Some(v) if v.is_empty() => Err(ApiError::bad_request(format!(
                "{name} filter must not be empty"
            ))),
            Some(v) if v.chars().count() > 320 || v.contains('\0') => Err(ApiError::bad_request(
                format!("{name} filter is not a value any user can have"),
            )),
            other => Ok(other),
        }
    };
    let active = match not_null("active", body.active)? {
        Some(v) => Some(v),
        None => match query.get("active") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "active must be true or false, got {v:?}"
                )))
            }
        },
    };
    Ok(UserFilter {
        name: text("name", body.name)?
            .map(|n| NameQuery::parse(&n).map_err(ApiError::BadRequest))
            .transpose()?,
        email: text("email", body.email)?.map(|e| fold(&e)),
        external_id: text("external_id", body.external_id)?,
        active,
    })
}

#[utoipa::path(get, path = "/customer-users", tag = "customer-users",
    params(ListQuery),
    request_body(content = UserFilterBody, description = "Optional filters (and credentials), as the docs' clients send them"),
    responses((status = 200, body = UserList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    RawQuery(raw): RawQuery,
    call: Call<UserFilterBody>,
) -> ApiResult<Json<UserList>> {
    let query = QueryParams::parse(raw.as_deref(), &LIST_PARAMS)?;
    let page = query.page(20)?;
    let filter = user_filter(call.body, &query)?;
    let (users, total) = state
        .store
        .list_users(&call.key.company_id, &filter, page)
        .await?;
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
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    RawQuery(raw): RawQuery,
    PathId(id): PathId,
    call: Call<UsersRead>,
) -> ApiResult<Json<UserView>> {
    QueryParams::parse(raw.as_deref(), &[])?;
    let user = state
        .store
        .get_user(&call.key.company_id, &id)
        .await?
        .ok_or(ApiError::NotFound("Customer user not found"))?;
    Ok(Json(user.into()))
}

/// Fields left out stay unchanged; `null` clears `name` or `email`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    email: Field<String>,
    /// Replaces the stored object (≤ 16 KiB compact, depth ≤ 8).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Field<Value>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    active: Field<bool>,
    /// Refused: the external id cannot be changed.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
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
    request_body = UpdateUserBody,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<SharedState>,
    RawQuery(raw): RawQuery,
    PathId(id): PathId,
    call: Call<UpdateUserBody>,
) -> ApiResult<Json<UserView>> {
    QueryParams::parse(raw.as_deref(), &[])?;
    let changes = call.body.into_changes()?;
    let user = state
        .store
        .update_user(&call.key.company_id, &id, &changes, now_ms())
        .await?
        .ok_or(ApiError::NotFound("Customer user not found"))?;
    Ok(Json(user.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_filters_win_over_query_filters() {
        let query = QueryParams::parse(Some("email=Q@x.io&active=false"), &LIST_PARAMS).unwrap();
        let body = UserFilterBody {
            email: Field::Set("B@x.io".into()),
            ..Default::default()
        };
        let filter = user_filter(body, &query).unwrap();
        assert_eq!(filter.email.as_deref(), Some("b@x.io"));
        assert_eq!(filter.active, Some(false));
    }

    #[test]
    fn filters_refuse_null_and_empty() {
        let query = QueryParams::parse(None, &LIST_PARAMS).unwrap();
        let null = UserFilterBody {
            name: Field::Null,
            ..Default::default()
        };
        assert!(user_filter(null, &query).is_err());
        let empty = UserFilterBody {
            external_id: Field::Set(String::new()),
            ..Default::default()
        };
        assert!(user_filter(empty, &query).is_err());
        let q = QueryParams::parse(Some("active=yes"), &LIST_PARAMS).unwrap();
        assert!(user_filter(UserFilterBody::default(), &q).is_err());
    }
}
