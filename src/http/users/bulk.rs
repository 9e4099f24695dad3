//! `POST /customer-users/bulk`: up to 1000 updates by external id, each
//! applied and reported on its own, so one bad item never fails the others.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::recipes::merge_refused;
use super::write::user_changes;
use crate::app::SharedState;
use crate::domain::{
    json_type, merge_patch, now_ms, CustomerUser, ExternalId, Field, Metadata, Permission,
};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{from_fields, Call, Endpoint};
use crate::http::views::{ErrorBody, UserView};
use crate::store::{MergeOutcome, StoreError, UserKey};

pub const MAX_ITEMS: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// 1 to 1000 items, each shaped as the `BulkItem` schema says. Items are
    /// checked one by one and a malformed one fails alone (its result says
    /// why, the others are applied), so the request itself takes any JSON
    /// value as an item.
    #[schema(value_type = Vec<Value>, min_items = 1, max_items = 1000)]
    updates: Vec<Value>,
}

impl Endpoint for BulkBody {
    const PERMISSION: Permission = Permission::UsersWrite;
}

/// One update; absent fields stay unchanged, `null` clears name or email.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    external_id: String,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    name: Field<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Email, max_length = 320)]
    email: Field<String>,
    /// Applied as an RFC 7396 merge patch, as PATCH does.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata_merge: Field<Value>,
    #[serde(default)]
    #[schema(value_type = bool)]
    active: Field<bool>,
    /// Create the user when missing (default false: reported as not found).
    #[serde(default)]
    #[schema(value_type = bool)]
    create: Field<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    /// As sent in the item, whatever its type (`null` when it had none).
    #[schema(value_type = Value)]
    external_id: Value,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResponse {
    results: Vec<BulkResult>,
}

#[utoipa::path(post, path = "/customer-users/bulk", tag = "customer-users",
    request_body = BulkBody,
    responses((status = 200, description = "One result per item, in order", body = BulkResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn bulk(
    State(state): State<SharedState>,
    call: Call<BulkBody>,
) -> ApiResult<Json<BulkResponse>> {
    let items = call.body.updates;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(format!(
            "updates must contain between 1 and {MAX_ITEMS} items, got {}",
            items.len()
        )));
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let external_id = item.get("external_id").cloned().unwrap_or(Value::Null);
        let result = match apply(&state, &call.key.company_id, item).await {
            Ok((user, created)) => BulkResult {
                external_id,
                success: true,
                created: Some(created),
                user: Some(user.into()),
                error: None,
            },
            Err(message) => BulkResult {
                external_id,
                success: false,
                created: None,
                user: None,
                error: Some(message),
            },
        };
        results.push(result);
    }
    Ok(Json(BulkResponse { results }))
}

/// Applies one item; the error is the item's message.
async fn apply(
    state: &SharedState,
    company_id: &str,
    item: Value,
) -> Result<(CustomerUser, bool), String> {
    let fields = match item {
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "each item of updates must be a JSON object, got {}",
                json_type(&other)
            ))
        }
    };
    let item: BulkItem = from_fields(fields).map_err(|e| e.to_string())?;
    let external_id = ExternalId::parse("external_id", item.external_id)?;
    let changes = user_changes(item.name, item.email, item.active).map_err(|e| e.to_string())?;
    let patch: Option<Map<String, Value>> = match item.metadata_merge {
        Field::Absent => None,
        Field::Null => return Err("metadata_merge must be a JSON object, not null".into()),
        Field::Set(Value::Object(map)) => Some(map),
        Field::Set(other) => {
            return Err(format!(
                "metadata_merge must be a JSON object, got {}",
                json_type(&other)
            ))
        }
    };
    let create = match item.create {
        Field::Absent => false,
        Field::Null => return Err("create must be true or false, not null".into()),
        Field::Set(v) => v,
    };
    let store = &state.store;
    let now = now_ms();
    if create {
        // A new user starts from `{}`, so the merge onto it is known now. If
        // someone else creates the user first, the insert does nothing and
        // the item merges into theirs below.
        let mut new = changes.clone();
        if let Some(patch) = &patch {
            new.metadata =
                Some(merge_patch(&Metadata::default(), patch).map_err(|e| merge_refused(&e))?);
        }
        let inserted = store
            .insert_user(company_id, external_id.as_str(), &new, now)
            .await
            .map_err(item_error)?;
        if let Some(user) = inserted {
            return Ok((user, true));
        }
    }
    let key = UserKey::ExternalId(external_id.as_str());
    match store
        .merge_user(company_id, key, &changes, patch.as_ref(), now)
        .await
        .map_err(item_error)?
    {
        MergeOutcome::Updated(user) => Ok((*user, false)),
        // The seed's recipe reports a missing user in exactly these words.
        MergeOutcome::NotFound => Err("User not found".into()),
        MergeOutcome::Invalid(reason) => Err(merge_refused(&reason)),
    }
}

/// A store failure fails the item only; internal details go to the log.
fn item_error(e: StoreError) -> String {
    ApiError::from(e).public_message()
}
