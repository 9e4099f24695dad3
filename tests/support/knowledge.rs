//! Helpers for the knowledge tests: documents in, searches out, multipart
//! bodies and a small PDF written by hand (with or without a text layer).
#![allow(dead_code)]

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

use crate::common::{Reply, Tenant, TestApp};

pub const DOCS: &str = "/rest/v1/knowledge/documents";

/// Creates a document; panics unless 201. Returns it.
pub async fn add_doc(app: &TestApp, t: &Tenant, fields: Value) -> Value {
    let r = app.post(DOCS, t.body(fields)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// `GET /knowledge/search` with `query` (already URL-encoded pairs).
pub async fn search(app: &TestApp, t: &Tenant, query: &str) -> Reply {
    app.get(&format!("/rest/v1/knowledge/search?{query}"), t.creds())
        .await
}

/// The document ids of a search for `q`, best first, with any agent.
pub async fn found(app: &TestApp, t: &Tenant, q: &str) -> Vec<String> {
    found_for(app, t, q, None).await
}

pub async fn found_for(app: &TestApp, t: &Tenant, q: &str, agent: Option<&str>) -> Vec<String> {
    let mut query = format!("q={}&limit=20", enc(q));
    if let Some(agent) = agent {
        query.push_str(&format!("&agent_id={agent}"));
    }
    let r = search(app, t, &query).await;
    r.assert_ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["document_id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn id(doc: &Value) -> String {
    doc["id"].as_str().unwrap().to_owned()
}

/// A multipart/form-data request: the `file` part and text fields.
pub fn multipart(
    uri: &str,
    method: &str,
    file: (&str, &[u8], &str),
    fields: &[(&str, &str)],
    basic: Option<&(String, String)>,
) -> Request<Body> {
    let boundary = "----performchat-test-boundary";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    let (file_name, bytes, ctype) = file;
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {ctype}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = Request::builder().method(method).uri(uri).header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    if let Some((id, secret)) = basic {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        req = req.header("authorization", format!("Basic {token}"));
    }
    req.body(Body::from(body)).unwrap()
}

/// A one-page PDF 1.4 with `lines` as a Helvetica text layer, or with no
/// lines only a filled rectangle (no text layer). The xref offsets are
/// computed, so the file is well-formed.
pub fn make_pdf(lines: &[&str]) -> Vec<u8> {
    let ops = if lines.is_empty() {
        "0.2 0.4 0.8 rg\n72 600 200 100 re\nf".to_owned()
    } else {
        let mut ops = vec![
            "BT".to_owned(),
            "/F1 12 Tf".to_owned(),
            "72 720 Td".to_owned(),
        ];
        for (i, line) in lines.iter().enumerate() {
            let text = line
                .replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)");
            ops.push(format!(
                "{}({text} ) Tj",
                if i == 0 { "" } else { "0 -16 Td " }
            ));
        }
        ops.push("ET".to_owned());
        ops.join("\n")
    };
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{ops}\nendstream", ops.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// `{ title, content }` with a Markdown type.
pub fn markdown(title: &str, content: &str) -> Value {
    json!({ "title": title, "content": content, "content_type": "text/markdown" })
}
