//! The change feed and webhook endpoints (docs/EVENTS.md).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::{call, Client};
use crate::error::Result;

/// One event of the feed; `data` is the object in its endpoint's shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub data: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventPage {
    pub data: Vec<Event>,
    pub has_more: bool,
}

/// A webhook endpoint; `secret` only when made or rotated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One delivery attempt of the endpoint's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub event_id: String,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

impl Client {
    /// `GET /events`: the events after `after` (from the oldest kept
    /// without it), in commit order; `types` filters when not empty.
    pub async fn events(
        &self,
        after: Option<&str>,
        limit: u32,
        types: &[String],
    ) -> Result<EventPage> {
        let mut request = self
            .api(Method::GET, &["events"])
            .query(&[("limit", limit)]);
        if let Some(after) = after {
            request = request.query(&[("after", after)]);
        }
        if !types.is_empty() {
            request = request.query(&[("type", types.join(","))]);
        }
        call(request).await
    }

    /// `POST /webhooks`: the endpoint with its secret (shown only now).
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        description: Option<&str>,
    ) -> Result<Webhook> {
        let mut body = json!({ "url": url, "events": events });
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        call(self.api(Method::POST, &["webhooks"]).json(&body)).await
    }

    /// `GET /webhooks`.
    pub async fn list_webhooks(&self) -> Result<List<Webhook>> {
        call(self.api(Method::GET, &["webhooks"])).await
    }

    /// `POST /webhooks/:id/rotate-secret`: the endpoint with its new secret.
    pub async fn rotate_webhook_secret(&self, id: &str) -> Result<Webhook> {
        call(self.api(Method::POST, &["webhooks", id, "rotate-secret"])).await
    }

    /// `GET /webhooks/:id/deliveries`: the latest attempts, newest first.
    pub async fn webhook_deliveries(&self, id: &str) -> Result<List<WebhookAttempt>> {
        call(self.api(Method::GET, &["webhooks", id, "deliveries"])).await
    }
}
