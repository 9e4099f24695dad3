//! `POST /customer-users/bulk`: up to 1000 updates by external id, each
//! applied and reported on its own, so one bad item never fails the others.

use std::collections::HashSet;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::recipes::merge_rejected;
use super::write::user_changes;
use crate::app::SharedState;
use crate::domain::{
    json_type, merge_patch, now_ms, CustomerUser, ExternalId, Field, Metadata, Permission,
    UserChanges,
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
    #[schema(min_length = 1, max_length = 255, format = "text")]
    external_id: String,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, format = "text")]
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
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
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
    let external_ids: Vec<Value> = items
        .iter()
        .map(|item| item.get("external_id").cloned().unwrap_or(Value::Null))
        .collect();
    let prepared: Vec<Result<Prepared, String>> = items.into_iter().map(prepare).collect();
    let company_id = &call.key.company_id;
    let created = create_first(&state, company_id, &prepared).await;
    // The rest in request order, as each item would have run on its own:
    // items naming the same user still see each other's effects in order.
    let mut results = Vec::with_capacity(prepared.len());
    for ((done, item), external_id) in created.into_iter().zip(&prepared).zip(external_ids) {
        let outcome = match (done, item) {
            (Some(done), _) => done,
            (None, Ok(item)) => apply(&state, company_id, item).await,
            (None, Err(message)) => Err(message.clone()),
        };
        results.push(match outcome {
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
        });
    }
    Ok(Json(BulkResponse { results }))
}

/// An item that passed validation, ready to apply.
struct Prepared {
    external_id: ExternalId,
    changes: UserChanges,
    patch: Option<Map<String, Value>>,
    /// With `create`: the fields of the user to create if missing (the
    /// patch merged onto `{}`).
    new: Option<UserChanges>,
}

/// Checks one item; the error is the item's message.
fn prepare(item: Value) -> Result<Prepared, String> {
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
    let new = if create {
        // A new user starts from `{}`, so the merge onto it is known now.
        let mut new = changes.clone();
        if let Some(patch) = &patch {
            new.metadata =
                Some(merge_patch(&Metadata::default(), patch).map_err(|e| merge_rejected(&e))?);
        }
        Some(new)
    } else {
        None
    };
    Ok(Prepared {
        external_id,
        changes,
        patch,
        new,
    })
}

type Outcome = Result<(CustomerUser, bool), String>;

/// Creates, in one statement, the users of the items that are the first in
/// the request to name their external id and ask to create it: nothing
/// earlier in the request can have touched those users, so doing them first
/// changes no item's result. The answer has an outcome for each item created;
/// the others (existing users, later items) are left to [`apply`].
async fn create_first(
    state: &SharedState,
    company_id: &str,
    prepared: &[Result<Prepared, String>],
) -> Vec<Option<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = prepared.iter().map(|_| None).collect();
    let mut seen = HashSet::new();
    let mut first: Vec<usize> = Vec::new();
    for (i, item) in prepared.iter().enumerate() {
        if let Ok(item) = item {
            if seen.insert(item.external_id.as_str()) && item.new.is_some() {
                first.push(i);
            }
        }
    }
    let rows: Vec<(&str, &UserChanges)> = first
        .iter()
        .filter_map(|&i| prepared[i].as_ref().ok())
        .filter_map(|item| Some((item.external_id.as_str(), item.new.as_ref()?)))
        .collect();
    if rows.is_empty() {
        return outcomes;
    }
    match state.store.insert_users(company_id, &rows, now_ms()).await {
        Ok(created) => {
            for (&i, user) in first.iter().zip(created) {
                outcomes[i] = user.map(|user| Ok((user, true)));
            }
        }
        // Each item then tries on its own and reports its own failure.
        Err(e) => tracing::warn!(error = %e, "bulk create in one statement failed"),
    }
    outcomes
}

/// Applies one item on its own: create it if asked and missing, else merge.
async fn apply(state: &SharedState, company_id: &str, item: &Prepared) -> Outcome {
    let store = &state.store;
    let now = now_ms();
    if let Some(new) = &item.new {
        // If someone else creates the user first, the insert does nothing
        // and the item merges into theirs below.
        let inserted = store
            .insert_user(company_id, item.external_id.as_str(), new, now)
            .await
            .map_err(item_error)?;
        if let Some(user) = inserted {
            return Ok((user, true));
        }
    }
    let key = UserKey::ExternalId(item.external_id.as_str());
    match store
        .merge_user(company_id, key, &item.changes, item.patch.as_ref(), now)
        .await
        .map_err(item_error)?
    {
        MergeOutcome::Updated(user) => Ok((*user, false)),
        // The seed's recipe reports a missing user in exactly these words.
        MergeOutcome::NotFound => Err("User not found".into()),
        MergeOutcome::Invalid(reason) => Err(merge_rejected(&reason)),
    }
}

/// A store failure fails the item only; internal details go to the log.
fn item_error(e: StoreError) -> String {
    ApiError::from(e).public_message()
}
