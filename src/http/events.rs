//! The change feed, `GET /events` (docs/EVENTS.md): a company's events in
//! commit order after a cursor, which is the id of the last event seen.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Call, Endpoint, QueryNames};
use super::views::ErrorBody;
use crate::app::SharedState;
use crate::domain::{format_ms, EventRecord, Permission, EVENT_TYPES};
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRead {}

impl Endpoint for EventsRead {
    const PERMISSION: Permission = Permission::EventsRead;
}

pub struct FeedQuery;

impl QueryNames for FeedQuery {
    const NAMES: &'static [&'static [&'static str]] = &[&["after", "limit", "type"]];
}

/// One event: `data` is the object in the shape its endpoint returns.
#[derive(Serialize, ToSchema)]
pub struct EventView {
    #[schema(example = "evt_018bcfe5687b774e88e0d089aa8a")]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(example = "customer_user.created")]
    pub kind: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        EventView {
            data: e.rendered_data(),
            created_at: format_ms(e.created_at),
            id: e.id,
            kind: e.kind,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<EventView>,
    pub has_more: bool,
}

/// `type`: one known type or several, comma-separated.
fn parse_types(raw: Option<&str>) -> ApiResult<Vec<String>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|t| {
            let t = t.trim();
            if EVENT_TYPES.contains(&t) {
                Ok(t.to_owned())
            } else {
                Err(ApiError::bad_request(format!(
                    "type must be one or more of {} (comma-separated), got {t:?}",
                    EVENT_TYPES.join(", ")
                )))
            }
        })
        .collect()
}

#[utoipa::path(get, path = "/events", tag = "events",
    params(
        ("after" = Option<String>, Query, min_length = 1, description = "The id of the last event seen; without it, from the oldest kept event"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1–100, default 100"),
        ("type" = Option<String>, Query, description = "One event type or several, comma-separated"),
    ),
    responses((status = 200, body = EventList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn feed(
    State(state): State<SharedState>,
    call: Call<EventsRead, FeedQuery>,
) -> ApiResult<Json<EventList>> {
    let limit = call.query.page(100)?.limit;
    let types = parse_types(call.query.get("type"))?;
    let after = call.query.get("after");
    if after == Some("") {
        return Err(ApiError::bad_request("after must be an event id, got \"\""));
    }
    let page = state
        .store
        .events_after(&call.key.company_id, after, &types, limit)
        .await?
        .ok_or_else(|| ApiError::bad_request("Unknown event id"))?;
    Ok(Json(EventList {
        data: page.events.into_iter().map(Into::into).collect(),
        has_more: page.has_more,
    }))
}
