//! Conversations and messages (docs/API.md §6 and §8): the records, the validated
//! texts an end user sends, and the title rule.

use super::check_text;

/// Longest message an end user may send, in code points (docs/API.md §8).
pub const MAX_MESSAGE_CHARS: usize = 8000;
const MAX_TITLE_CHARS: usize = 200;
/// A title made from a first message fits this many code points, `…` included.
const DERIVED_TITLE_CHARS: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    /// A tool call or its result (docs/API.md §10).
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// Rows hold only what this service wrote; anything else reads as a user turn.
    pub fn from_stored(text: &str) -> Self {
        match text {
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            _ => Role::User,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: String,
    pub company_id: String,
    pub customer_user_id: String,
    pub agent_id: String,
    pub title: Option<String>,
    pub message_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub created_at: i64,
    /// What an assistant message's excerpts came from (`[]` when none);
    /// `None` for user messages, which cite nothing.
    pub sources: Option<Vec<super::Source>>,
    /// A `tool` message's call or result; `None` for the other roles.
    pub tool: Option<super::ToolPart>,
}

/// A message as an end user may send it: 1–8000 code points, not blank, no NUL.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageContent(String);

impl MessageContent {
    pub fn parse(text: String) -> Result<Self, String> {
        check_text("content", &text)?;
        if text.trim().is_empty() {
            return Err("content must contain at least one non-whitespace character".into());
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(format!(
                "content must be at most {MAX_MESSAGE_CHARS} characters"
            ));
        }
        Ok(MessageContent(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A conversation title given by the end user: 1–200 code points, not blank.
#[derive(Debug, Clone, PartialEq)]
pub struct Title(String);

impl Title {
    pub fn parse(text: String) -> Result<Self, String> {
        check_text("title", &text)?;
        if text.trim().is_empty() {
            return Err("title must not be empty or blank".into());
        }
        if text.chars().count() > MAX_TITLE_CHARS {
            return Err(format!(
                "title must be at most {MAX_TITLE_CHARS} characters"
            ));
        }
        Ok(Title(text))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The title a first message gives (docs/API.md §8): whitespace runs collapsed and
/// trimmed; when longer than 60 code points, the longest prefix ending at a
/// word boundary that leaves room for `…`, plus `…`; a first word too long
/// for that is cut at 59 code points.
pub fn title_from_message(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= DERIVED_TITLE_CHARS {
        return collapsed;
    }
    let room = DERIVED_TITLE_CHARS - 1;
    let mut cut = None;
    for (count, (byte, ch)) in collapsed.char_indices().enumerate() {
        if count > room {
            break;
        }
        // A prefix ends at a word boundary when the next character is a space.
        if ch == ' ' {
            cut = Some(byte);
        }
    }
    let prefix = match cut {
        Some(byte) => &collapsed[..byte],
        None => {
            let end = collapsed
                .char_indices()
                .nth(room)
                .map_or(collapsed.len(), |(b, _)| b);
            &collapsed[..end]
        }
    };
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_titles_are_collapsed_and_trimmed() {
        assert_eq!(
            title_from_message("  hello   there\n friend \t"),
            "hello there friend"
        );
        let sixty = "a".repeat(60);
        assert_eq!(title_from_message(&sixty), sixty, "60 code points fit");
    }

    #[test]
    fn long_titles_cut_at_the_last_word_that_fits_with_the_ellipsis() {
        let words = "Why was my invoice for the enterprise plan charged twice this month although I cancelled";
        let title = title_from_message(words);
        assert_eq!(
            title,
            "Why was my invoice for the enterprise plan charged twice…"
        );
        assert!(title.chars().count() <= 60);
        // 59 code points of words then a space: the whole 59 fit before `…`.
        let exact = format!("{} {}", "b".repeat(29), "c".repeat(29));
        assert_eq!(exact.chars().count(), 59);
        let long = format!("{exact} tail");
        assert_eq!(title_from_message(&long), format!("{exact}…"));
        // One more code point and the second word no longer fits.
        let over = format!("{} {} tail", "b".repeat(29), "c".repeat(30));
        assert_eq!(title_from_message(&over), format!("{}…", "b".repeat(29)));
    }

    #[test]
    fn a_first_word_too_long_is_cut_at_59_code_points() {
        let word = "é".repeat(100);
        let title = title_from_message(&word);
        assert_eq!(title, format!("{}…", "é".repeat(59)));
        assert_eq!(title.chars().count(), 60);
    }

    #[test]
    fn message_content_rules() {
        assert!(MessageContent::parse("hi".into()).is_ok());
        assert!(MessageContent::parse(String::new()).is_err());
        assert!(MessageContent::parse(" \n\t ".into()).is_err());
        assert!(MessageContent::parse("a\0b".into()).is_err());
        assert!(
            MessageContent::parse("é".repeat(8000)).is_ok(),
            "code points, not bytes"
        );
        assert!(MessageContent::parse("x".repeat(8001)).is_err());
        assert!(Title::parse("x".repeat(201)).is_err());
        assert!(Title::parse("  ".into()).is_err());
        assert!(Title::parse("Billing".into()).is_ok());
    }
}
