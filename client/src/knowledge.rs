//! The knowledge base: documents (JSON text or a file upload), upsert by
//! external id, and the search a reply uses.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::client::{call, decode, send, Client};
use crate::error::{Error, Result};
use crate::types::{Document, DocumentBody, NewDocument, Page, SearchHit, UpsertedDocument};

impl Client {
    /// `POST /knowledge/documents`: text goes as JSON, a file as
    /// `multipart/form-data` with a `file` part.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::NewDocument;
    /// let pdf = std::fs::read("returns.pdf").unwrap();
    /// let doc = client
    ///     .create_document(&NewDocument::file("Returns", "returns.pdf", pdf))
    ///     .await?;
    /// println!("{} chunks", doc.chunk_count);
    /// # Ok(()) }
    /// ```
    pub async fn create_document(&self, doc: &NewDocument) -> Result<Document> {
        let request = self.api(Method::POST, &["knowledge", "documents"]);
        call(with_body(request, doc, true)?).await
    }

    /// `PUT /knowledge/documents/by-external-id/:external_id`: creates the
    /// document or replaces it (its chunks swapped in one transaction, so a
    /// concurrent search sees the old version or the new one). The path's
    /// external id wins over `doc.external_id`.
    pub async fn upsert_document(
        &self,
        external_id: &str,
        doc: &NewDocument,
    ) -> Result<UpsertedDocument> {
        let request = self.api(
            Method::PUT,
            &["knowledge", "documents", "by-external-id", external_id],
        );
        let response = send(with_body(request, doc, false)?).await?;
        let created = response.status() == StatusCode::CREATED;
        Ok(UpsertedDocument {
            document: decode(response).await?,
            created,
        })
    }

    /// `GET /knowledge/documents`: one page (`page` ≥ 1, `limit` 1–100),
    /// optionally only the documents `agent_id` may use.
    pub async fn list_documents(
        &self,
        agent_id: Option<&str>,
        page: u32,
        limit: u32,
    ) -> Result<Page<Document>> {
        let mut request = self
            .api(Method::GET, &["knowledge", "documents"])
            .query(&[("page", page), ("limit", limit)]);
        if let Some(agent) = agent_id {
            request = request.query(&[("agent_id", agent)]);
        }
        call(request).await
    }

    /// `GET /knowledge/documents/:id`, with `content` (the extracted text).
    pub async fn get_document(&self, id: &str) -> Result<Document> {
        call(self.api(Method::GET, &["knowledge", "documents", id])).await
    }

    /// `DELETE /knowledge/documents/:id`: the document and its chunks, at once.
    pub async fn delete_document(&self, id: &str) -> Result<()> {
        send(self.api(Method::DELETE, &["knowledge", "documents", id])).await?;
        Ok(())
    }

    /// `GET /knowledge/search`: the chunks a reply for `agent_id` would be
    /// given for `q`, best first (`limit` 1–20). Without an agent, every
    /// document of the company is searched.
    pub async fn search_knowledge(
        &self,
        q: &str,
        agent_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        #[derive(Deserialize)]
        struct Answer {
            data: Vec<SearchHit>,
        }
        let mut request = self
            .api(Method::GET, &["knowledge", "search"])
            .query(&[("q", q)])
            .query(&[("limit", limit)]);
        if let Some(agent) = agent_id {
            request = request.query(&[("agent_id", agent)]);
        }
        let answer: Answer = call(request).await?;
        Ok(answer.data)
    }
}

/// JSON for text, multipart for a file; `with_external_id` is false for an
/// upsert, whose path carries it.
fn with_body(
    request: RequestBuilder,
    doc: &NewDocument,
    with_external_id: bool,
) -> Result<RequestBuilder> {
    let external_id = doc.external_id.as_ref().filter(|_| with_external_id);
    match &doc.body {
        DocumentBody::Text {
            content,
            content_type,
        } => {
            let mut body = Map::new();
            body.insert("title".into(), json!(doc.title));
            body.insert("content".into(), json!(content));
            let optional = [
                ("content_type", content_type.as_ref()),
                ("url", doc.url.as_ref()),
                ("external_id", external_id),
            ];
            for (name, value) in optional {
                if let Some(v) = value {
                    body.insert(name.into(), json!(v));
                }
            }
            if !doc.agent_ids.is_empty() {
                body.insert("agent_ids".into(), json!(doc.agent_ids));
            }
            if let Some(metadata) = &doc.metadata {
                body.insert("metadata".into(), Value::Object(metadata.clone()));
            }
            Ok(request.json(&body))
        }
        DocumentBody::File {
            file_name,
            bytes,
            content_type,
        } => {
            let mut part = Part::bytes(bytes.clone()).file_name(file_name.clone());
            if let Some(ct) = content_type {
                part = part
                    .mime_str(ct)
                    .map_err(|e| Error::Config(format!("bad content type {ct:?}: {e}")))?;
            }
            let mut form = Form::new().text("title", doc.title.clone());
            let optional = [("url", doc.url.as_ref()), ("external_id", external_id)];
            for (name, value) in optional {
                if let Some(v) = value {
                    form = form.text(name, v.clone());
                }
            }
            // The form's encoding of the two structured fields.
            if !doc.agent_ids.is_empty() {
                form = form.text("agent_ids", doc.agent_ids.join(","));
            }
            if let Some(metadata) = &doc.metadata {
                form = form.text("metadata", Value::Object(metadata.clone()).to_string());
            }
            Ok(request.multipart(form.part("file", part)))
        }
    }
}
