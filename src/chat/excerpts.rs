//! Knowledge excerpts for a reply (docs/KNOWLEDGE.md): when the chat token
//! carries `rag:access` and the company has documents, the new question and
//! the previous one are searched exactly as `/knowledge/search` does, and the
//! top chunks within the budget are appended to the system message as
//! numbered excerpts; their documents become the reply's `sources`.

use crate::domain::{Message, Role, Source};
use crate::llm::{Turn, TurnRole};
use crate::store::{ChunkHit, Store};

/// How much of the knowledge base one reply is given.
#[derive(Debug, Clone, Copy)]
pub struct RagBudget {
    pub chunks: u32,
    /// Code points of excerpt text.
    pub chars: usize,
}

impl Default for RagBudget {
    fn default() -> Self {
        RagBudget {
            chunks: 4,
            chars: 6_000,
        }
    }
}

/// What the model is told about the excerpts, before them.
const PREAMBLE: &str = "Answer from the following excerpts of the company's documents. \
If they do not hold the answer, say that you could not find it in the documents \
rather than guessing.";

/// The question to search with: the newest user message and the user
/// message before it, so a follow-up ("and how long does that take?")
/// still finds what the conversation is about.
pub fn search_text(messages: &[Message]) -> String {
    let mut questions = messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::User)
        .take(2);
    let newest = questions.next().map(|m| m.content.as_str()).unwrap_or("");
    match questions.next() {
        Some(previous) => format!("{newest}\n{}", previous.content),
        None => newest.to_owned(),
    }
}

/// The hits that fit the budget, in rank order.
pub fn within_budget(hits: Vec<ChunkHit>, budget: RagBudget) -> Vec<ChunkHit> {
    let mut used = 0usize;
    let mut kept = Vec::new();
    for hit in hits.into_iter().take(budget.chunks as usize) {
        let len = hit.text.chars().count();
        if used + len > budget.chars {
            break;
        }
        used += len;
        kept.push(hit);
    }
    kept
}

/// Appends the numbered excerpts to the system message (adding one when the
/// agent has no prompt).
pub fn append_excerpts(turns: &mut Vec<Turn>, hits: &[ChunkHit]) {
    if hits.is_empty() {
        return;
    }
    let mut text = String::from(PREAMBLE);
    for (i, hit) in hits.iter().enumerate() {
        text.push_str(&format!(
            "\n\n[{}] {} ({})\n{}",
            i + 1,
            hit.title,
            hit.heading,
            hit.text
        ));
    }
    match turns.first_mut() {
        Some(system) if system.role == TurnRole::System => {
            system.content.push_str("\n\n");
            system.content.push_str(&text);
        }
        _ => turns.insert(0, Turn::text(TurnRole::System, text)),
    }
}

/// One source per document, in rank order.
pub fn sources(hits: &[ChunkHit]) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for hit in hits {
        if !out.iter().any(|s| s.document_id == hit.document_id) {
            out.push(Source {
                document_id: hit.document_id.clone(),
                title: hit.title.clone(),
                url: hit.url.clone(),
                heading: hit.heading.clone(),
            });
        }
    }
    out
}

/// The excerpts for a reply; a failed search costs the reply its excerpts,
/// not the reply itself.
pub async fn retrieve(
    store: &dyn Store,
    company_id: &str,
    agent_id: &str,
    messages: &[Message],
    budget: RagBudget,
) -> Vec<ChunkHit> {
    let text = search_text(messages);
    match crate::knowledge::search(store, company_id, &text, Some(agent_id), budget.chunks).await {
        Ok(hits) => within_budget(hits, budget),
        Err(e) => {
            tracing::warn!(error = %e, agent = %agent_id, "knowledge retrieval failed; replying without excerpts");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(doc: &str, text: &str) -> ChunkHit {
        ChunkHit {
            document_id: doc.into(),
            title: format!("T{doc}"),
            url: None,
            heading: format!("T{doc} › H"),
            text: text.into(),
            score: 1.0,
        }
    }

    #[test]
    fn budget_caps_chunks_and_characters() {
        let hits = vec![
            hit("a", &"x".repeat(3000)),
            hit("b", &"y".repeat(2500)),
            hit("c", &"z".repeat(600)),
        ];
        let kept = within_budget(
            hits.clone(),
            RagBudget {
                chunks: 4,
                chars: 6000,
            },
        );
        assert_eq!(kept.len(), 2);
        let kept = within_budget(
            hits,
            RagBudget {
                chunks: 1,
                chars: 6000,
            },
        );
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn sources_are_one_per_document_in_rank_order() {
        let s = sources(&[hit("b", "1"), hit("a", "2"), hit("b", "3")]);
        let ids: Vec<&str> = s.iter().map(|s| s.document_id.as_str()).collect();
        assert_eq!(ids, vec!["b", "a"]);
    }

    #[test]
    fn excerpts_are_numbered_after_the_prompt() {
        let mut turns = vec![Turn::text(TurnRole::System, "Be kind.")];
        append_excerpts(&mut turns, &[hit("a", "Refunds take five days.")]);
        assert!(turns[0].content.starts_with("Be kind.\n\nAnswer from"));
        assert!(turns[0]
            .content
            .contains("[1] Ta (Ta › H)\nRefunds take five days."));
    }
}
