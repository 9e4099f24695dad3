//! Text to index terms, the same way for chunks and for questions, so both
//! backends see identical, already-folded tokens: words split at Unicode word
//! boundaries, lower-cased, diacritics removed (`Élodie` → `elodie`), English
//! stop words dropped, then stemmed (`refunds` → `refund`). The databases only
//! split the result at spaces; their own language rules never apply.

use std::collections::HashSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Common English words that say nothing about a document's subject. A
/// question is any-term matched, so without this list "how do I" would
/// match every chunk and decide nothing.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "hello",
    "hi",
    "thanks",
    "thank",
];

static STOPS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.iter().copied().collect());
static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Longest term kept: longer runs (hashes, base64) only bloat the index.
const MAX_TERM_CHARS: usize = 40;

/// The terms of `text`, in order, repeats kept (term frequency is ranking).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.unicode_words() {
        let folded: String = word
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        // "e-mail", "don't", "3.5": the pieces between non-alphanumerics.
        for piece in folded.split(|c: char| !c.is_alphanumeric()) {
            let single_letter =
                piece.chars().count() == 1 && !piece.chars().all(|c| c.is_numeric());
            if piece.is_empty() || single_letter || STOPS.contains(piece) {
                continue;
            }
            if piece.chars().count() > MAX_TERM_CHARS {
                continue;
            }
            out.push(STEMMER.stem(piece).into_owned());
        }
    }
    out
}

/// [`terms`] joined by spaces, as stored in the index columns.
pub fn indexed(text: &str) -> String {
    terms(text).join(" ")
}

/// A question's distinct terms, first occurrence first, at most `max`: the
/// any-term query is an OR of these.
pub fn query_terms(text: &str, max: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    terms(text)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .take(max)
        .collect()
}

/// A company as one index token (`co_01J…` → `co01j…`): put in every chunk
/// of the company and required by every search, so the index itself keeps
/// companies apart and a search reads only its company's postings.
pub fn scope_token(company_id: &str) -> String {
    company_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The scope token of documents for every agent.
pub const ANY_AGENT: &str = "anyagent";

/// An agent as one index token (`agent_01J…` → `agent01j…`).
pub fn agent_token(agent_id: &str) -> String {
    scope_token(agent_id)
}

/// What a chunk's `scope` column holds: its company, and its agents (or
/// [`ANY_AGENT`]), so the index itself answers "this company, this agent"
/// and a search ranks without reading a single chunk row.
pub fn chunk_scope(company_id: &str, agent_ids: &[String]) -> String {
    let mut scope = scope_token(company_id);
    if agent_ids.is_empty() {
        scope.push(' ');
        scope.push_str(ANY_AGENT);
    }
    for id in agent_ids {
        scope.push(' ');
        scope.push_str(&agent_token(id));
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics_and_stems() {
        assert_eq!(terms("Élodie"), terms("elodie"));
        assert_eq!(terms("CRÈME brûlée"), terms("creme brulee"));
        assert_eq!(terms("Zoë"), vec!["zoe"]);
        assert_eq!(terms("refunds"), terms("refund"));
        assert_eq!(terms("refunded"), terms("REFUND"));
    }

    #[test]
    fn drops_stop_words_and_single_letters() {
        assert_eq!(terms("How do I get a refund?"), vec!["get", "refund"]);
        assert!(terms("the and of").is_empty());
    }

    #[test]
    fn query_terms_are_distinct_and_capped() {
        assert_eq!(
            query_terms("refund refunds toaster", 10),
            vec!["refund", "toaster"]
        );
        assert_eq!(query_terms("alpha beta gamma", 2).len(), 2);
    }

    #[test]
    fn scope_is_one_alphanumeric_token() {
        assert_eq!(scope_token("co_01JAB"), "co01jab");
        assert_eq!(chunk_scope("co_1", &[]), "co1 anyagent");
        assert_eq!(chunk_scope("co_1", &["agent_A".into()]), "co1 agenta");
    }
}
