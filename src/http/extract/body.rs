//! The request body: read whole (at most [`BODY_LIMIT`]), parsed as one JSON
//! object on every method, GET included, and deserialised into an endpoint's
//! fields with errors naming the field.

use axum::body::Body;
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub const BODY_LIMIT: usize = 1024 * 1024;

pub(crate) async fn read_json_object(body: Body) -> Result<Map<String, Value>, ApiError> {
    read_json_object_within(body, BODY_LIMIT).await
}

/// The body as a JSON object, refused past `limit` bytes.
pub(super) async fn read_json_object_within(
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::PayloadTooLarge(too_large(limit))
            } else if let Some(late) = crate::http::deadline::body_timed_out(&*e) {
                ApiError::RequestTimeout(late.to_string())
            } else {
                ApiError::bad_request("Could not read the request body")
            }
        })?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "Request body must be a JSON object, got {}",
            crate::domain::json_type(&other)
        ))),
        Err(e) => Err(ApiError::bad_request(format!("Malformed JSON body: {e}"))),
    }
}

/// The 413 message for a body over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> String {
    format!("Request body must not exceed {} MiB", limit / (1024 * 1024))
}

/// Deserialises the endpoint's fields; the error names the offending field.
pub fn from_fields<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ApiError::bad_request(inner)
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}
