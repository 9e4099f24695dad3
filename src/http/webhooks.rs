//! Webhook endpoints (docs/EVENTS.md): create (the secret shown once), list,
//! get, change, delete, rotate the secret, the attempts log and a test event.
//! Deliveries themselves are the dispatcher's (`events::Dispatcher`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Call, Endpoint, PathId};
use super::views::ErrorBody;
use crate::app::SharedState;
use crate::domain::{
    delivery_body, format_ms, new_event_id, new_id, now_ms, Field, IdKind, Permission,
    WebhookAttempt, WebhookEndpoint, EVENT_TYPES, TEST_EVENT,
};
use crate::error::{ApiError, ApiResult};
use crate::events::SECRET_PREFIX;
use crate::signing::new_secret;
use crate::store::WebhookChanges;

/// The old secret keeps signing this long after a rotation.
const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;
const MAX_URL: usize = 2048;
const MAX_DESCRIPTION: usize = 500;

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = "whk_01JH0000000000000000000000")]
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(e: WebhookEndpoint) -> Self {
        WebhookView {
            id: e.id,
            url: e.url,
            events: e.events,
            description: e.description,
            active: e.active,
            created_at: format_ms(e.created_at),
            updated_at: format_ms(e.updated_at),
        }
    }
}

/// An endpoint with its signing secret: only when made and when rotated.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookView,
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    pub event_id: String,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

impl From<WebhookAttempt> for AttemptView {
    fn from(a: WebhookAttempt) -> Self {
        AttemptView {
            event_id: a.event_id,
            attempt: a.attempt,
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
            next_attempt_at: a.next_attempt_at.map(format_ms),
            created_at: format_ms(a.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttemptList {
    pub data: Vec<AttemptView>,
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// https, or http to a network the operator allows; public addresses only otherwise.
    #[schema(max_length = 2048)]
    url: String,
    /// Event types, or `["*"]` for every type.
    events: Vec<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

impl Endpoint for CreateWebhookBody {
    const PERMISSION: Permission = Permission::WebhooksWrite;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    #[serde(default)]
    #[schema(max_length = 2048)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    description: Field<String>,
    #[serde(default)]
    active: Option<bool>,
}

impl Endpoint for UpdateWebhookBody {
    const PERMISSION: Permission = Permission::WebhooksWrite;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhooksWrite {}

impl Endpoint for WebhooksWrite {
    const PERMISSION: Permission = Permission::WebhooksWrite;
}

async fn check_url(state: &SharedState, url: &str) -> ApiResult<()> {
    if url.len() > MAX_URL {
        return Err(ApiError::bad_request(format!(
            "url must be at most {MAX_URL} characters"
        )));
    }
    state
        .config
        .outbound
        .check(url)
        .await
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn check_events(events: &[String]) -> ApiResult<()> {
    let known = |e: &String| e == "*" || EVENT_TYPES.contains(&e.as_str());
    if events.is_empty() || !events.iter().all(known) {
        return Err(ApiError::bad_request(format!(
            "events must be a non-empty list of event types ({}) or [\"*\"]",
            EVENT_TYPES.join(", ")
        )));
    }
    Ok(())
}

fn check_description(d: &str) -> ApiResult<()> {
    if d.chars().count() > MAX_DESCRIPTION || d.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "description must be at most {MAX_DESCRIPTION} characters, without NUL"
        )));
    }
    Ok(())
}

async fn find(state: &SharedState, company: &str, id: &str) -> ApiResult<WebhookEndpoint> {
    state
        .store
        .get_webhook(company, id)
        .await?
        .ok_or(ApiError::NotFound("Webhook endpoint not found"))
}

/// Secrets must not linger in caches between the server and the company.
fn with_secret(status: StatusCode, e: WebhookEndpoint) -> impl IntoResponse {
    let secret = e.secret.clone();
    let body = WebhookWithSecret {
        endpoint: e.into(),
        secret,
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body))
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhookBody,
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create(
    State(state): State<SharedState>,
    call: Call<CreateWebhookBody>,
) -> ApiResult<impl IntoResponse> {
    let body = call.body;
    check_url(&state, &body.url).await?;
    check_events(&body.events)?;
    if let Some(d) = &body.description {
        check_description(d)?;
    }
    let now = now_ms();
    let endpoint = WebhookEndpoint {
        company_id: call.key.company_id.clone(),
        id: new_id(IdKind::Webhook),
        url: body.url,
        events: body.events,
        description: body.description,
        active: true,
        secret: new_secret(SECRET_PREFIX),
        previous_secret: None,
        previous_until: None,
        created_at: now,
        updated_at: now,
    };
    state.store.create_webhook(&endpoint).await?;
    Ok(with_secret(StatusCode::CREATED, endpoint))
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<SharedState>,
    call: Call<WebhooksWrite>,
) -> ApiResult<Json<WebhookList>> {
    let rows = state.store.list_webhooks(&call.key.company_id).await?;
    Ok(Json(WebhookList {
        data: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 200, body = WebhookView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<WebhooksWrite>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(find(&state, &call.key.company_id, &id).await?.into()))
}

#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", request_body = UpdateWebhookBody,
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<UpdateWebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    let body = call.body;
    if let Some(url) = &body.url {
        check_url(&state, url).await?;
    }
    if let Some(events) = &body.events {
        check_events(events)?;
    }
    let description = match body.description {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Set(d) => {
            check_description(&d)?;
            Some(Some(d))
        }
    };
    let changes = WebhookChanges {
        url: body.url,
        events: body.events,
        description,
        active: body.active,
    };
    let updated = state
        .store
        .update_webhook(&call.key.company_id, &id, &changes, now_ms())
        .await?
        .ok_or(ApiError::NotFound("Webhook endpoint not found"))?;
    Ok(Json(updated.into()))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 204, description = "Deleted, with its pending deliveries"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<WebhooksWrite>,
) -> ApiResult<StatusCode> {
    if !state
        .store
        .delete_webhook(&call.key.company_id, &id)
        .await?
    {
        return Err(ApiError::NotFound("Webhook endpoint not found"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 200, body = WebhookWithSecret), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<WebhooksWrite>,
) -> ApiResult<impl IntoResponse> {
    let now = now_ms();
    let secret = new_secret(SECRET_PREFIX);
    let rotated = state
        .store
        .rotate_webhook_secret(
            &call.key.company_id,
            &id,
            &secret,
            now + ROTATION_OVERLAP_MS,
            now,
        )
        .await?
        .ok_or(ApiError::NotFound("Webhook endpoint not found"))?;
    Ok(with_secret(StatusCode::OK, rotated))
}

#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 200, body = AttemptList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<WebhooksWrite>,
) -> ApiResult<Json<AttemptList>> {
    let company = &call.key.company_id;
    find(&state, company, &id).await?;
    let rows = state.store.webhook_attempts(company, &id, 100).await?;
    Ok(Json(AttemptList {
        data: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook endpoint id (whk_…)")),
    responses((status = 202, body = TestSent), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<SharedState>,
    PathId(id): PathId,
    call: Call<WebhooksWrite>,
) -> ApiResult<(StatusCode, Json<TestSent>)> {
    let company = &call.key.company_id;
    let endpoint = find(&state, company, &id).await?;
    let now = now_ms();
    let event_id = new_event_id(now);
    let data = serde_json::json!({ "webhook_id": endpoint.id });
    let body = delivery_body(TEST_EVENT, now, data);
    state
        .store
        .enqueue_delivery(company, &endpoint.id, &event_id, &body, now)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestSent {
            id: event_id,
            kind: TEST_EVENT,
        }),
    ))
}
