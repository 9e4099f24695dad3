//! An incremental parser for `text/event-stream` (the WHATWG rules that model
//! servers follow): bytes go in as the network delivers them, split anywhere,
//! and whole events come out.
//!
//! Lines end with LF, CR or CRLF; a CRLF split between two chunks is one line
//! end. Bytes are kept until their line is complete, so a UTF-8 character
//! split between chunks is decoded whole (CR and LF never occur inside a
//! multi-byte UTF-8 sequence).
//!
//! A line, and the data of one event, hold at most a set number of bytes: a
//! model server that never ends a line cannot grow the buffer past it. Past
//! it the parser drops what it held, says so ([`SseParser::overflowed`]) and
//! yields nothing more; the caller ends the stream as malformed.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when one was given.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
}

#[derive(Debug)]
pub struct SseParser {
    /// The most bytes a line or an event's data may hold.
    limit: usize,
    overflowed: bool,
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: Option<String>,
    /// The last byte was CR: a LF right after it ends no further line.
    after_cr: bool,
}

/// The default bound on a line or an event's data: 1 MiB.
pub const DEFAULT_LIMIT: usize = 1 << 20;

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_limit(DEFAULT_LIMIT)
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser whose lines and event data hold at most `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        SseParser {
            limit,
            overflowed: false,
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event: None,
            after_cr: false,
        }
    }

    /// A line or an event's data went past the limit: the stream is not one
    /// this parser will read, and it yields no more events.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    fn overflow(&mut self) {
        self.overflowed = true;
        self.line = Vec::new();
        self.data = String::new();
    }

    /// Feeds one chunk; returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &byte in chunk {
            if self.overflowed {
                return out;
            }
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.end_line(&mut out);
                    self.after_cr = true;
                }
                _ if self.line.len() >= self.limit => self.overflow(),
                _ => self.line.push(byte),
            }
        }
        out
    }

    /// The stream ended. Strictly, an event not followed by a blank line is
    /// dropped; model servers that close right after their last `data:` line
    /// mean it, so it is dispatched.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.overflowed {
            return None;
        }
        let mut out = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.end_line(&mut out);
        out.pop()
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        if self.line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.has_data = false;
            self.event = None;
            return;
        }
        // Taken and put back, so the line's buffer is reused, not reallocated.
        let raw = std::mem::take(&mut self.line);
        self.field(&String::from_utf8_lossy(&raw));
        self.line = raw;
        self.line.clear();
    }

    /// One non-empty line of the stream.
    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return; // a comment, such as a keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    self.overflow();
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {} // id, retry and unknown fields mean nothing to a reply
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = ": keep-alive\r\n\
        data: {\"a\":\"héllo 👋\"}\r\n\r\n\
        event: note\n\
        data: line one\n\
        data: line two\n\n\
        data:no-space\r\r\
        id: 7\n\
        retry: 100\n\
        data: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        let ev = |event: Option<&str>, data: &str| SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        };
        vec![
            ev(None, "{\"a\":\"héllo 👋\"}"),
            ev(Some("note"), "line one\nline two"),
            ev(None, "no-space"),
            ev(None, "[DONE]"),
        ]
    }

    fn parse_in_pieces(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events: Vec<SseEvent> = pieces.iter().flat_map(|p| parser.feed(p)).collect();
        events.extend(parser.finish());
        events
    }

    #[test]
    fn parses_a_whole_stream() {
        assert_eq!(parse_in_pieces(&[STREAM.as_bytes()]), expected());
    }

    #[test]
    fn any_single_split_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for at in 0..=bytes.len() {
            let (a, b) = bytes.split_at(at);
            assert_eq!(parse_in_pieces(&[a, b]), expected(), "split at byte {at}");
        }
    }

    #[test]
    fn any_two_splits_give_the_same_events() {
        let bytes = STREAM.as_bytes();
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let pieces = [&bytes[..i], &bytes[i..j], &bytes[j..]];
                assert_eq!(parse_in_pieces(&pieces), expected(), "splits at {i}, {j}");
            }
        }
    }

    #[test]
    fn byte_by_byte_gives_the_same_events() {
        let pieces: Vec<&[u8]> = STREAM.as_bytes().chunks(1).collect();
        assert_eq!(parse_in_pieces(&pieces), expected());
    }

    #[test]
    fn a_line_or_an_event_past_the_limit_is_dropped_not_buffered() {
        let mut parser = SseParser::with_limit(1000);
        let endless = vec![b'x'; 700];
        assert!(parser.feed(b"data: {\"ok\":1}\n\ndata: ").len() == 1);
        for _ in 0..100 {
            assert!(parser.feed(&endless).is_empty());
            assert!(parser.line.capacity() <= 2048, "{}", parser.line.capacity());
        }
        assert!(parser.overflowed());
        assert!(parser.feed(b"\n\ndata: late\n\n").is_empty());
        assert_eq!(parser.finish(), None);

        // Many data lines of one event count together.
        let mut parser = SseParser::with_limit(1000);
        let line = format!("data: {}\n", "y".repeat(300));
        let events: Vec<SseEvent> = (0..4).flat_map(|_| parser.feed(line.as_bytes())).collect();
        assert!(events.is_empty() && parser.overflowed());
        assert!(parser.data.capacity() <= 2048);
    }

    #[test]
    fn a_last_event_without_a_blank_line_is_kept() {
        assert_eq!(
            parse_in_pieces(&[b"data: {\"x\":1}\n\ndata: [DONE]"]),
            vec![
                SseEvent {
                    event: None,
                    data: "{\"x\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "[DONE]".into()
                },
            ]
        );
        assert_eq!(parse_in_pieces(&[b"data: tail\r"]).len(), 1);
        assert!(parse_in_pieces(&[b": only a comment\n"]).is_empty());
    }
}
