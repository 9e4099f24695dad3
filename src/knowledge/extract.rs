//! Text out of a document, as blocks that keep its heading structure:
//! Markdown with pulldown-cmark, HTML with scraper (html5ever, so entities are
//! decoded and broken markup parsed as a browser would), PDF's text layer
//! with lopdf. The chunker (chunk.rs) then needs no knowledge of formats.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use scraper::{ElementRef, Html, Node};

use super::{ContentType, KnowledgeError};

/// One unit of extracted text.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `level` 1–6, as in HTML and Markdown.
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(String),
    /// Preformatted text: kept whole where it fits (chunk.rs).
    Code(String),
}

impl Block {
    pub fn text(&self) -> &str {
        match self {
            Block::Heading { text, .. } | Block::Paragraph(text) | Block::Code(text) => text,
        }
    }
}

/// The document's blocks; empty when it holds no text.
pub fn extract(content_type: ContentType, bytes: &[u8]) -> Result<Vec<Block>, KnowledgeError> {
    let text = || {
        std::str::from_utf8(bytes)
            .map_err(|_| KnowledgeError::Invalid("content must be UTF-8 text".into()))
    };
    let blocks = match content_type {
        ContentType::Plain => plain(text()?),
        ContentType::Markdown => markdown(text()?),
        ContentType::Html => html(text()?),
        ContentType::Pdf => pdf(bytes)?,
    };
    Ok(blocks
        .into_iter()
        .filter(|b| !b.text().trim().is_empty())
        .collect())
}

/// The extracted text as stored and shown (`content`): blocks separated by
/// blank lines.
pub fn joined(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(block.text());
    }
    out
}

/// Paragraphs at blank lines; lines within one are joined by spaces.
fn plain(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            flush_lines(&mut current, &mut blocks);
        } else {
            current.push(line.trim());
        }
    }
    flush_lines(&mut current, &mut blocks);
    blocks
}

fn flush_lines(lines: &mut Vec<&str>, blocks: &mut Vec<Block>) {
    if !lines.is_empty() {
        blocks.push(Block::Paragraph(lines.join(" ")));
        lines.clear();
    }
}

fn markdown(text: &str) -> Vec<Block> {
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    let mut blocks = Vec::new();
    let mut buf = String::new();
    let mut heading: Option<u8> = None;
    let mut in_code = false;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut buf, &mut blocks, None, false);
                heading = Some(level as u8);
            }
            Event::End(TagEnd::Heading(_)) => {
                flush(&mut buf, &mut blocks, heading.take(), false);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut buf, &mut blocks, None, false);
                in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                flush(&mut buf, &mut blocks, None, true);
                in_code = false;
            }
            Event::Start(Tag::Item) => {
                flush(&mut buf, &mut blocks, None, false);
                buf.push_str("- ");
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_),
            ) => {
                flush(&mut buf, &mut blocks, None, false);
            }
            Event::End(TagEnd::TableCell) => buf.push_str(" | "),
            Event::Text(t) | Event::Code(t) => buf.push_str(&t),
            Event::SoftBreak => buf.push(if in_code { '\n' } else { ' ' }),
            Event::HardBreak => buf.push('\n'),
            // Raw HTML inside Markdown is markup, not text.
            _ => {}
        }
    }
    flush(&mut buf, &mut blocks, None, false);
    blocks
}

fn flush(buf: &mut String, blocks: &mut Vec<Block>, heading: Option<u8>, code: bool) {
    let text = if code {
        buf.trim_end().to_owned()
    } else {
        buf.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    buf.clear();
    if text.trim().is_empty() || text == "-" {
        return;
    }
    blocks.push(match (heading, code) {
        (Some(level), _) => Block::Heading { level, text },
        (None, true) => Block::Code(text),
        (None, false) => Block::Paragraph(text),
    });
}

/// Elements whose text is never the page's content: code, styling, and
/// the site's chrome (a documentation sidebar names every page, and would
/// make every page match every question).
const DROPPED: &[&str] = &[
    "script", "style", "nav", "header", "footer", "noscript", "template", "head", "svg", "iframe",
    "object", "button", "form", "select",
];

/// Elements that end a paragraph.
const BREAKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "br",
    "tr",
    "table",
    "section",
    "article",
    "main",
    "aside",
    "blockquote",
    "figure",
    "figcaption",
    "hr",
    "body",
    "details",
    "summary",
];

fn html(text: &str) -> Vec<Block> {
    let document = Html::parse_document(text);
    let mut blocks = Vec::new();
    let mut buf = String::new();
    walk(document.root_element(), &mut buf, &mut blocks);
    flush(&mut buf, &mut blocks, None, false);
    blocks
}

fn walk(element: ElementRef<'_>, buf: &mut String, blocks: &mut Vec<Block>) {
    for child in element.children() {
        match child.value() {
            Node::Text(t) => buf.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if DROPPED.contains(&name) {
                    continue;
                }
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                let level = match name {
                    "h1" => Some(1),
                    "h2" => Some(2),
                    "h3" => Some(3),
                    "h4" => Some(4),
                    "h5" => Some(5),
                    "h6" => Some(6),
                    _ => None,
                };
                if let Some(level) = level {
                    flush(buf, blocks, None, false);
                    let mut inner = String::new();
                    walk(child, &mut inner, &mut Vec::new());
                    flush(&mut inner, blocks, Some(level), false);
                } else if name == "pre" {
                    flush(buf, blocks, None, false);
                    let mut inner: String = child.text().collect();
                    flush(&mut inner, blocks, None, true);
                } else if BREAKS.contains(&name) {
                    flush(buf, blocks, None, false);
                    walk(child, buf, blocks);
                    flush(buf, blocks, None, false);
                } else {
                    // Inline elements (a, span, em, td…) keep words apart.
                    if matches!(name, "td" | "th") {
                        buf.push(' ');
                    }
                    walk(child, buf, blocks);
                }
            }
            _ => {}
        }
    }
}

/// Most text a PDF may expand to: its streams are compressed, so a small
/// upload can otherwise decompress to gigabytes.
const PDF_MAX_DECOMPRESSED: usize = 256 * 1024 * 1024;

fn pdf(bytes: &[u8]) -> Result<Vec<Block>, KnowledgeError> {
    let document = lopdf::Document::load_mem(bytes)
        .map_err(|e| KnowledgeError::Unprocessable(format!("Could not read the PDF: {e}")))?;
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document
        .extract_text_with_limit(&pages, PDF_MAX_DECOMPRESSED)
        .map_err(|e| {
            KnowledgeError::Unprocessable(format!("Could not read the PDF's text: {e}"))
        })?;
    let blocks = plain(&text);
    if blocks.iter().all(|b| b.text().trim().is_empty()) {
        return Err(KnowledgeError::Unprocessable(
            "PDF has no text layer".into(),
        ));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_headings_paragraphs_and_code() {
        let md =
            "# Title\n\nSome *text* here.\n\n## Part\n\n```\nfn main() {}\n```\n\n- one\n- two\n";
        let blocks = markdown(md);
        assert_eq!(
            blocks[0],
            Block::Heading {
                level: 1,
                text: "Title".into()
            }
        );
        assert_eq!(blocks[1], Block::Paragraph("Some text here.".into()));
        assert_eq!(
            blocks[2],
            Block::Heading {
                level: 2,
                text: "Part".into()
            }
        );
        assert_eq!(blocks[3], Block::Code("fn main() {}".into()));
        assert_eq!(blocks[4], Block::Paragraph("- one".into()));
    }

    #[test]
    fn html_drops_chrome_and_decodes_entities() {
        let page =
            "<html><head><title>T</title><style>p{}</style></head><body><header>Top</header>\
                    <nav><a>Menu</a></nav><h2>Fish &amp; chips</h2><p>Fried <b>daily</b>.</p>\
                    <script>x()</script><footer>Bottom</footer></body></html>";
        let blocks = html(page);
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 2,
                    text: "Fish & chips".into()
                },
                Block::Paragraph("Fried daily.".into())
            ]
        );
    }

    #[test]
    fn plain_text_splits_at_blank_lines() {
        assert_eq!(
            plain("a\nb\n\n\nc"),
            vec![Block::Paragraph("a b".into()), Block::Paragraph("c".into())]
        );
    }
}
