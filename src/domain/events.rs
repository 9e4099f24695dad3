//! Events (the outbox and change feed) and webhook endpoints as records, and
//! the one place an event's stored `data` becomes the shape its endpoint
//! returns. The database writes each event's data as the changed row's raw
//! columns (timestamps in milliseconds, booleans as SQLite stores them), so
//! the rendering here is shared by the feed and the webhook dispatcher.

use serde_json::{Map, Value};

use super::format_ms;

/// The types an event can have, as the feed's `type` filter and an
/// endpoint's `events` list name them.
pub const EVENT_TYPES: &[&str] = &[
    "customer_user.created",
    "customer_user.updated",
    "customer_user.deleted",
    "conversation.created",
    "message.created",
    "tokens.invalidated",
];

/// Sent only by `POST /webhooks/:id/test`; never in the feed.
pub const TEST_EVENT: &str = "webhook.test";

/// One stored event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    pub kind: String,
    pub created_at: i64,
    /// The raw JSON text the database wrote.
    pub data: String,
}

impl EventRecord {
    /// `data` in its endpoint's shape.
    pub fn rendered_data(&self) -> Value {
        render_data(&self.data)
    }
}

/// Timestamps to RFC 3339 with milliseconds, `active` to a boolean; the
/// rest as stored. Unparsable text (which no trigger writes) stays a string
/// rather than failing a whole page.
pub fn render_data(raw: &str) -> Value {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return Value::String(raw.to_owned());
    };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = match (key.as_str(), &value) {
            ("created_at" | "updated_at" | "last_seen_at", Value::Number(n)) => n
                .as_i64()
                .map_or(value.clone(), |ms| Value::String(format_ms(ms))),
            ("active", Value::Number(n)) => Value::Bool(n.as_i64() != Some(0)),
            _ => value,
        };
        out.insert(key, value);
    }
    Value::Object(out)
}

/// The JSON body of a delivery: `{type, timestamp, data}`.
pub fn delivery_body(kind: &str, created_at: i64, data: Value) -> String {
    serde_json::json!({ "type": kind, "timestamp": format_ms(created_at), "data": data })
        .to_string()
}

/// An event id minted outside the database (the test event), in the form
/// the triggers write: `evt_`, the time in hex, then random hex.
pub fn new_event_id(now: i64) -> String {
    let random: u64 = rand::random();
    format!("evt_{now:012x}{random:016x}")
}

/// A webhook endpoint, secrets included (the store's view; the API shows the
/// secret only when it is made).
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub company_id: String,
    pub id: String,
    pub url: String,
    /// Event types, or `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Until when (ms) `previous_secret` still signs.
    pub previous_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WebhookEndpoint {
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == kind)
    }

    /// The secrets a delivery at `now` is signed with: the current one, and
    /// the previous one during the day after a rotation.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        secrets_in_force(
            &self.secret,
            self.previous_secret.as_deref(),
            self.previous_until,
            now,
        )
    }
}

/// The rotation rule of webhook endpoints and agent tools alike: the
/// current secret signs, and the previous one beside it until `until`.
pub fn secrets_in_force<'a>(
    secret: &'a str,
    previous: Option<&'a str>,
    until: Option<i64>,
    now: i64,
) -> Vec<&'a str> {
    let mut out = vec![secret];
    if let (Some(old), Some(until)) = (previous, until) {
        if now < until {
            out.push(old);
        }
    }
    out
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    pub event_id: String,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_rows_render_as_their_endpoints_do() {
        let v = render_data(
            r#"{"id":"cu_1","active":1,"created_at":1700000000123,"last_seen_at":null,"metadata":{"a":1}}"#,
        );
        assert_eq!(v["active"], Value::Bool(true));
        assert_eq!(v["created_at"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["last_seen_at"], Value::Null);
        assert_eq!(v["metadata"]["a"], 1);
        assert_eq!(render_data(r#"{"active":false}"#)["active"], false);
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_for_a_day() {
        let mut e = WebhookEndpoint {
            company_id: "co".into(),
            id: "whk".into(),
            url: "https://x".into(),
            events: vec!["*".into()],
            description: None,
            active: true,
            secret: "new".into(),
            previous_secret: Some("old".into()),
            previous_until: Some(100),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(e.signing_secrets(99), vec!["new", "old"]);
        assert_eq!(e.signing_secrets(100), vec!["new"]);
        assert!(e.wants("message.created"));
        e.events = vec!["customer_user.created".into()];
        assert!(!e.wants("message.created"));
    }
}
