//! Blocks to chunks: split at headings first, then between paragraphs, then
//! between sentences, then between words, so a chunk holds at most
//! [`MAX_CHUNK_CHARS`] code points and never ends inside a word (only a
//! single "word" longer than the limit is cut). A code block stays whole
//! unless it alone exceeds the limit; then it is cut between lines. Each
//! chunk remembers its heading path, `Title › Heading › Subheading`.

use unicode_segmentation::UnicodeSegmentation;

use super::extract::Block;

pub const MAX_CHUNK_CHARS: usize = 1200;
pub const PATH_SEPARATOR: &str = " › ";

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub heading: String,
    pub text: String,
}

struct Chunker {
    title: String,
    path: Vec<(u8, String)>,
    pending: String,
    pending_chars: usize,
    out: Vec<Chunk>,
}

/// The chunks of a document titled `title`.
pub fn chunk(title: &str, blocks: &[Block]) -> Vec<Chunk> {
    let mut c = Chunker {
        title: title.to_owned(),
        path: Vec::new(),
        pending: String::new(),
        pending_chars: 0,
        out: Vec::new(),
    };
    for block in blocks {
        match block {
            Block::Heading { level, text } => {
                c.flush();
                c.path.retain(|(l, _)| l < level);
                c.path.push((*level, text.clone()));
            }
            Block::Paragraph(text) => c.add(text, false),
            Block::Code(text) => c.add(text, true),
        }
    }
    c.flush();
    if c.out.is_empty() {
        // Only headings: they are the text.
        let text = blocks
            .iter()
            .map(Block::text)
            .collect::<Vec<_>>()
            .join("\n");
        c.path.clear();
        for piece in split_words(&text) {
            c.out.push(Chunk {
                heading: c.heading(),
                text: piece,
            });
        }
    }
    c.out
}

impl Chunker {
    fn heading(&self) -> String {
        let mut parts = vec![self.title.as_str()];
        for (i, (_, text)) in self.path.iter().enumerate() {
            // A page whose first heading repeats its title says it once.
            if i == 0 && text.trim().eq_ignore_ascii_case(self.title.trim()) {
                continue;
            }
            parts.push(text);
        }
        parts.join(PATH_SEPARATOR)
    }

    fn flush(&mut self) {
        if !self.pending.trim().is_empty() {
            let text = std::mem::take(&mut self.pending);
            self.out.push(Chunk {
                heading: self.heading(),
                text,
            });
        }
        self.pending.clear();
        self.pending_chars = 0;
    }

    fn push(&mut self, text: &str, chars: usize) {
        let joint = if self.pending.is_empty() { 0 } else { 2 };
        if self.pending_chars + joint + chars > MAX_CHUNK_CHARS {
            self.flush();
        }
        if !self.pending.is_empty() {
            self.pending.push_str("\n\n");
            self.pending_chars += 2;
        }
        self.pending.push_str(text);
        self.pending_chars += chars;
    }

    fn add(&mut self, text: &str, code: bool) {
        let chars = text.chars().count();
        if chars <= MAX_CHUNK_CHARS {
            return self.push(text, chars);
        }
        self.flush();
        let pieces = if code {
            split_lines(text)
        } else {
            split_sentences(text)
        };
        for piece in pieces {
            // Pieces of one block join with a space (sentences) or a newline (code).
            let joint = if self.pending.is_empty() { 0 } else { 1 };
            let n = piece.chars().count();
            if self.pending_chars + joint + n > MAX_CHUNK_CHARS {
                self.flush();
            }
            if !self.pending.is_empty() {
                self.pending.push(if code { '\n' } else { ' ' });
                self.pending_chars += 1;
            }
            self.pending.push_str(&piece);
            self.pending_chars += n;
        }
        self.flush();
    }
}

/// Sentences (each within the limit: a longer one is split between words).
fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in text.unicode_sentences() {
        let sentence = sentence.trim();
        if sentence.chars().count() <= MAX_CHUNK_CHARS {
            out.push(sentence.to_owned());
        } else {
            out.extend(split_words(sentence));
        }
    }
    out
}

/// Lines of code (a line longer than the limit is split between words).
fn split_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.chars().count() <= MAX_CHUNK_CHARS {
            out.push(line.to_owned());
        } else {
            out.extend(split_words(line));
        }
    }
    out
}

/// Pieces of at most the limit, cut at word boundaries; a single word longer
/// than the limit is cut at the limit, the only cut inside a word.
fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut n = 0;
    for word in text.split_word_bounds() {
        let len = word.chars().count();
        if n + len > MAX_CHUNK_CHARS && n > 0 {
            out.push(current.trim().to_owned());
            current.clear();
            n = 0;
        }
        if len > MAX_CHUNK_CHARS {
            let chars: Vec<char> = word.chars().collect();
            for part in chars.chunks(MAX_CHUNK_CHARS) {
                out.push(part.iter().collect());
            }
            continue;
        }
        current.push_str(word);
        n += len;
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(s: &str) -> Block {
        Block::Paragraph(s.into())
    }

    #[test]
    fn headings_start_chunks_and_give_the_path() {
        let blocks = vec![
            Block::Heading {
                level: 1,
                text: "Guide".into(),
            },
            para("Intro."),
            Block::Heading {
                level: 2,
                text: "Refunds".into(),
            },
            Block::Heading {
                level: 3,
                text: "Cards".into(),
            },
            para("Five days."),
            Block::Heading {
                level: 2,
                text: "Shipping".into(),
            },
            para("Two days."),
        ];
        let chunks = chunk("Guide", &blocks);
        let got: Vec<(&str, &str)> = chunks
            .iter()
            .map(|c| (c.heading.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Guide", "Intro."),
                ("Guide › Refunds › Cards", "Five days."),
                ("Guide › Shipping", "Two days."),
            ]
        );
    }

    #[test]
    fn long_text_splits_between_sentences_within_the_limit() {
        let sentence = "The quick brown fox jumps over the lazy dog again and again. ";
        let text = sentence.repeat(60);
        let chunks = chunk("T", &[para(text.trim())]);
        assert!(chunks.len() >= 3);
        for c in &chunks {
            assert!(
                c.text.chars().count() <= MAX_CHUNK_CHARS,
                "{}",
                c.text.len()
            );
            assert!(
                c.text.ends_with('.'),
                "ends mid-sentence: {:?}",
                &c.text[c.text.len() - 20..]
            );
        }
    }

    #[test]
    fn a_sentence_longer_than_the_limit_splits_between_words() {
        let text = "word ".repeat(500);
        for c in chunk("T", &[para(text.trim())]) {
            assert!(c.text.chars().count() <= MAX_CHUNK_CHARS);
            assert!(c.text.split(' ').all(|w| w == "word"), "a word was cut");
        }
    }

    #[test]
    fn code_blocks_stay_whole_unless_alone_too_long() {
        let code = "let x = 1;\n".repeat(80); // 880 code points
        let blocks = vec![
            para(&"Intro sentence. ".repeat(40)),
            Block::Code(code.trim_end().into()),
        ];
        let chunks = chunk("T", &blocks);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].text, code.trim_end());
        let huge = "let y = 2;\n".repeat(300);
        let chunks = chunk("T", &[Block::Code(huge.trim_end().into())]);
        assert!(chunks.len() >= 3);
        assert!(chunks
            .iter()
            .all(|c| c.text.lines().all(|l| l == "let y = 2;")));
    }

    #[test]
    fn small_paragraphs_share_a_chunk() {
        let chunks = chunk("T", &[para("One."), para("Two.")]);
        assert_eq!(
            chunks,
            vec![Chunk {
                heading: "T".into(),
                text: "One.\n\nTwo.".into()
            }]
        );
    }
}
