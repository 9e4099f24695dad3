//! A tool endpoint's answer as the model reads it: a 2xx body as text, at
//! most 16 KiB (the rest cut, with a note saying so); anything else an
//! error text. The body is read only up to the cap, so a tool answering
//! without end costs no more than that.

use super::{ToolOutcome, ToolStatus};

/// The most of an answer's body the model receives.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// The most of a non-2xx answer's body quoted in the error text.
const MAX_ERROR_QUOTE: usize = 1024;

/// The answer, read within the call's deadline (the request's timeout covers
/// the body too).
pub(super) async fn read(mut response: reqwest::Response, timeout_ms: i64) -> ToolOutcome {
    let status = response.status();
    let mut body = Vec::new();
    let mut cut = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ANSWER_BYTES {
                    cut = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return ToolOutcome::error(describe(e, timeout_ms)),
        }
    }
    if status.is_success() {
        let mut content = text_within(&body, MAX_ANSWER_BYTES);
        if cut {
            content.push_str(&format!(
                "\n[cut: the tool's answer was longer than {} KiB]",
                MAX_ANSWER_BYTES / 1024
            ));
        }
        return ToolOutcome {
            status: ToolStatus::Ok,
            content,
        };
    }
    let mut text = format!("the tool answered HTTP {}", status.as_u16());
    if status.is_redirection() {
        text.push_str(" (redirects are not followed)");
    }
    let quote = text_within(&body, MAX_ERROR_QUOTE);
    if !quote.trim().is_empty() {
        text.push_str(": ");
        text.push_str(quote.trim());
    }
    ToolOutcome::error(text)
}

/// The first `max` bytes as text, never splitting a character (invalid
/// UTF-8 is replaced).
fn text_within(bytes: &[u8], max: usize) -> String {
    let mut end = bytes.len().min(max);
    // Back off to a character boundary: at most three continuation bytes.
    while end > 0 && end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Why there was no answer, for the model (no URL: it is the company's).
pub(super) fn describe(e: reqwest::Error, timeout_ms: i64) -> String {
    if e.is_timeout() {
        format!("the tool did not answer within its timeout of {timeout_ms} ms")
    } else if e.is_connect() {
        "could not connect to the tool (refused, unreachable or a non-public address)".into()
    } else {
        format!(
            "the call to the tool failed: {}",
            crate::domain::error_chain(&e.without_url())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        let s = "é".repeat(10); // two bytes each
        assert_eq!(text_within(s.as_bytes(), 5), "éé");
        assert_eq!(text_within(s.as_bytes(), 6), "ééé");
        assert_eq!(text_within(b"abc", 10), "abc");
    }
}
