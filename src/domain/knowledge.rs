//! Knowledge-base records (docs/KNOWLEDGE.md): documents, their content
//! types, and the sources an assistant message cites.

use serde::{Deserialize, Serialize};

use super::Metadata;

/// The four document types, by their MIME names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    Plain,
    Markdown,
    Html,
    Pdf,
}

impl ContentType {
    pub const ALL: [ContentType; 4] = [
        ContentType::Plain,
        ContentType::Markdown,
        ContentType::Html,
        ContentType::Pdf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Plain => "text/plain",
            ContentType::Markdown => "text/markdown",
            ContentType::Html => "text/html",
            ContentType::Pdf => "application/pdf",
        }
    }

    /// A MIME type, parameters (`; charset=utf-8`) ignored.
    pub fn parse(mime: &str) -> Option<Self> {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.as_str() == essence)
    }

    /// By a file name's extension.
    pub fn of_file_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(ContentType::Plain),
            "md" | "markdown" => Some(ContentType::Markdown),
            "html" | "htm" => Some(ContentType::Html),
            "pdf" => Some(ContentType::Pdf),
            _ => None,
        }
    }

    /// Reads what the store wrote.
    pub fn from_stored(text: &str) -> Self {
        Self::parse(text).unwrap_or(ContentType::Plain)
    }
}

/// A stored document; `content` only when asked for (get-one).
#[derive(Debug, Clone)]
pub struct Document {
    pub company_id: String,
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub content_type: ContentType,
    pub agent_ids: Vec<String>,
    pub metadata: Metadata,
    pub chars: i64,
    pub chunk_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub content: Option<String>,
}

/// A document an assistant message's excerpts came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub document_id: String,
    pub title: String,
    pub url: Option<String>,
    pub heading: String,
}

/// How a document's agents are stored: `,a,b,` (`""` for every agent), so
/// one `LIKE '%,id,%'` finds a document scoped to an agent on both databases.
pub fn agent_ids_to_stored(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(",{},", ids.join(","))
    }
}

pub fn agent_ids_from_stored(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `LIKE` pattern (escape `\`) matching documents scoped to `agent_id`.
pub fn agent_like_pattern(agent_id: &str) -> String {
    let mut out = String::from("%,");
    for c in agent_id.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(",%");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_parse_by_mime_and_extension() {
        assert_eq!(
            ContentType::parse("text/markdown; charset=utf-8"),
            Some(ContentType::Markdown)
        );
        assert_eq!(ContentType::parse("application/msword"), None);
        assert_eq!(
            ContentType::of_file_name("a/b/Guide.PDF"),
            Some(ContentType::Pdf)
        );
        assert_eq!(ContentType::of_file_name("setup.exe"), None);
    }

    #[test]
    fn agent_ids_round_trip_and_escape() {
        let ids = vec!["agent_1".to_owned(), "agent_2".to_owned()];
        assert_eq!(agent_ids_from_stored(&agent_ids_to_stored(&ids)), ids);
        assert_eq!(agent_ids_to_stored(&[]), "");
        assert_eq!(agent_like_pattern("agent_1"), "%,agent\\_1,%");
    }
}
