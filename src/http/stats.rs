//! Company-wide figures per UTC day, for the console's chart
//! (docs/API.md, "Daily stats").

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Days};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::{Call, QueryNames};
use super::query::parse_int;
use super::users::list::UsersRead;
use super::views::ErrorBody;
use crate::app::SharedState;
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult};

const MAX_DAYS: u32 = 365;
const DEFAULT_DAYS: u32 = 30;

pub struct DailyQuery;

impl QueryNames for DailyQuery {
    const NAMES: &'static [&'static [&'static str]] = &[&["days"]];
}

/// One UTC day.
#[derive(Serialize, ToSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`, UTC.
    #[schema(example = "2026-12-06")]
    pub date: String,
    /// Users who were issued a token or sent a chat message that day.
    pub active_users: i64,
    /// Users created that day.
    pub new_users: i64,
    /// Conversations started that day.
    pub conversations: i64,
    /// Messages written that day (every role).
    pub messages: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DailyList {
    /// Oldest first, ending today (UTC); every day present.
    pub data: Vec<DayView>,
}

#[utoipa::path(get, path = "/stats/daily", tag = "customer-users",
    params(("days" = Option<u32>, Query, minimum = 1, maximum = 365, description = "How many UTC days, ending today: 1–365, default 30")),
    responses((status = 200, body = DailyList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "Rate limit exceeded or address locked out (Retry-After)", body = ErrorBody)))]
pub async fn daily(
    State(state): State<SharedState>,
    call: Call<UsersRead, DailyQuery>,
) -> ApiResult<Json<DailyList>> {
    let days = match call.query.get("days") {
        None => DEFAULT_DAYS,
        Some(v) => parse_int(v, 1, MAX_DAYS).ok_or_else(|| {
            ApiError::bad_request(format!(
                "days must be an integer between 1 and {MAX_DAYS}, got {v:?}"
            ))
        })?,
    };
    let today = DateTime::from_timestamp_millis(now_ms())
        .unwrap_or_default()
        .date_naive();
    let first = today
        .checked_sub_days(Days::new(u64::from(days - 1)))
        .unwrap_or(today);
    let stats = state
        .store
        .daily_stats(&call.key.company_id, first, days)
        .await?;
    Ok(Json(DailyList {
        data: stats
            .into_iter()
            .map(|d| DayView {
                date: d.date.to_string(),
                active_users: d.active_users,
                new_users: d.new_users,
                conversations: d.conversations,
                messages: d.messages,
            })
            .collect(),
    }))
}
