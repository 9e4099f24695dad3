//! Knowledge documents arrive as JSON or as `multipart/form-data` with a
//! `file` part. Both go through the API-key extractor's checks in the same
//! order (`Call::from_fields`): a form's text fields play the
//! JSON body's part, so `keyId`/`keySecret` may be form fields too, beside
//! Basic auth and the `X-Api-Key-*` headers. Either body may be 20 MiB.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use http_body_util::Limited;
use serde_json::{Map, Value};

use super::extract::{too_large, Call, Endpoint, NoQuery};
use crate::app::SharedState;
use crate::domain::ContentType;
use crate::error::ApiError;
use crate::knowledge::KnowledgeError;

/// Bodies of the create and upsert routes (instead of the usual 1 MiB).
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

/// The `file` part of a form.
pub struct FilePart {
    pub bytes: Vec<u8>,
    /// From the part's `Content-Type`, else from the file name's extension.
    pub content_type: Result<ContentType, KnowledgeError>,
}

/// A document request: the JSON body `J`, or the form `F` and its file.
pub enum DocumentRequest<J, F> {
    Json(Call<J, NoQuery>),
    Form(Call<F, NoQuery>, FilePart),
}

impl<J: Endpoint, F: Endpoint> FromRequest<SharedState> for DocumentRequest<J, F> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &SharedState) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            });
        if !is_form {
            return Call::<J, NoQuery>::from_request(req, state)
                .await
                .map(DocumentRequest::Json);
        }
        let (parts, body) = req.into_parts();
        let limited = axum::body::Body::new(Limited::new(body, UPLOAD_LIMIT));
        let req = Request::from_parts(parts.clone(), limited);
        let multipart = Multipart::from_request(req, state).await.map_err(|e| {
            ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text()))
        })?;
        let (fields, file) = read_form(multipart).await?;
        // The form's file is part of the request's identity for an
        // Idempotency-Key, as its bytes and the type they were read as; the
        // boundary, which clients choose afresh each time, is not.
        let kind = file.as_ref().map(|f| format!("{:?}", f.content_type));
        let identity: Vec<&[u8]> = match (&file, &kind) {
            (Some(f), Some(kind)) => vec![&f.bytes, kind.as_bytes()],
            _ => Vec::new(),
        };
        let call = Call::<F, NoQuery>::from_body(parts, fields, &identity, state).await?;
        let file = file
            .ok_or_else(|| ApiError::bad_request("file: a multipart upload needs a `file` part"))?;
        Ok(DocumentRequest::Form(call, file))
    }
}

/// The form's text fields (as JSON strings) and its `file` part.
async fn read_form(
    mut multipart: Multipart,
) -> Result<(Map<String, Value>, Option<FilePart>), ApiError> {
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(too_large(UPLOAD_LIMIT))
        } else {
            ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text()))
        }
    };
    let mut fields = Map::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::bad_request(
                    "file: only one `file` part is allowed",
                ));
            }
            let declared = field.content_type().map(str::to_owned);
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(failed)?.to_vec();
            file = Some(FilePart {
                bytes,
                content_type: file_type(declared.as_deref(), file_name.as_deref()),
            });
            continue;
        }
        let text = field.text().await.map_err(failed)?;
        if fields.insert(name.clone(), Value::String(text)).is_some() {
            return Err(ApiError::bad_request(format!(
                "{name}: form field given more than once"
            )));
        }
    }
    Ok((fields, file))
}

/// The part's own type wins; a generic one (`application/octet-stream`,
/// as browsers and curl send for unknown files) defers to the extension.
fn file_type(
    declared: Option<&str>,
    file_name: Option<&str>,
) -> Result<ContentType, KnowledgeError> {
    let generic = |t: &str| {
        let t = t.trim().to_ascii_lowercase();
        t.is_empty() || t.starts_with("application/octet-stream")
    };
    if let Some(t) = declared.filter(|t| !generic(t)) {
        return ContentType::parse(t).ok_or_else(|| unsupported(t));
    }
    file_name
        .and_then(ContentType::of_file_name)
        .ok_or_else(|| unsupported(declared.or(file_name).unwrap_or("an unnamed file")))
}

pub fn unsupported(what: &str) -> KnowledgeError {
    KnowledgeError::UnsupportedType(format!(
        "Unsupported document type {what}: use text/plain, text/markdown, text/html or application/pdf"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_part_type_wins_then_the_extension() {
        assert_eq!(
            file_type(Some("application/pdf"), Some("a.txt")).unwrap(),
            ContentType::Pdf
        );
        assert_eq!(
            file_type(Some("application/octet-stream"), Some("a.md")).unwrap(),
            ContentType::Markdown
        );
        assert_eq!(file_type(None, Some("a.html")).unwrap(), ContentType::Html);
        assert!(file_type(Some("application/x-msdownload"), Some("setup.exe")).is_err());
        assert!(file_type(None, None).is_err());
    }
}
