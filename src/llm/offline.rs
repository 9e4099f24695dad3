//! The built-in responder used when neither the agent nor the server names a
//! model: it answers at once and deterministically, and says plainly that no
//! model is configured, so a new install can be tried end to end.

use async_trait::async_trait;
use futures::stream::{self, StreamExt};

use super::{Deltas, ModelClient, ModelError, ModelRequest, Piece, TurnRole};

pub struct OfflineResponder;

/// How much of the question the reply quotes back.
const QUOTE_CHARS: usize = 200;

pub fn reply_to(question: &str) -> String {
    let mut quoted: String = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if quoted.chars().count() > QUOTE_CHARS {
        quoted = quoted.chars().take(QUOTE_CHARS).collect::<String>() + "…";
    }
    format!(
        "No language model is configured for this agent yet, so this is the built-in offline \
         responder. Your message was received and stored: \"{quoted}\". An operator can connect \
         a model with `performchat serve --llm-url … --llm-model …` or per agent with \
         `performchat agent update … --llm-url … --llm-model …`."
    )
}

#[async_trait]
impl ModelClient for OfflineResponder {
    async fn stream(&self, request: ModelRequest) -> Result<Deltas, ModelError> {
        let question = request
            .messages
            .iter()
            .rev()
            .find(|t| t.role == TurnRole::User)
            .map_or("", |t| t.content.as_str());
        let reply = reply_to(question);
        // Word by word, so clients see a stream as they would from a model.
        let pieces: Vec<Result<Piece, ModelError>> = reply
            .split_inclusive(' ')
            .map(|w| Ok(Piece::Text(w.to_owned())))
            .collect();
        Ok(stream::iter(pieces).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Turn;

    #[tokio::test]
    async fn answers_deterministically_and_says_no_model_is_configured() {
        let request = ModelRequest {
            messages: vec![Turn::text(TurnRole::User, "hello  there")],
            tools: vec![],
            max_tokens: 10,
            max_reply_chars: 100,
        };
        let text_of = |p: Piece| match p {
            Piece::Text(t) => t,
            Piece::Calls(_) => panic!("the offline responder calls no tools"),
        };
        let text: Vec<String> = OfflineResponder
            .stream(request.clone())
            .await
            .unwrap()
            .map(|p| text_of(p.unwrap()))
            .collect()
            .await;
        let whole = text.concat();
        assert!(text.len() > 1);
        assert!(whole.contains("No language model is configured"));
        assert!(whole.contains("\"hello there\""));
        let again: Vec<String> = OfflineResponder
            .stream(request)
            .await
            .unwrap()
            .map(|p| text_of(p.unwrap()))
            .collect()
            .await;
        assert_eq!(again.concat(), whole);
    }
}
