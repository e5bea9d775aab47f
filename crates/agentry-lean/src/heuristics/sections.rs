//! Sections: a `KEY: value` line or a heading naming a field, and the lines under it up to the
//! next key, heading or rule. A text field takes the section's prose (one paragraph after a
//! key line, every paragraph under a heading, never its code blocks); a list field takes its
//! bullets, else the lines of a code block under it (verify commands), else the value on the
//! key's line, else the lines of its first paragraph.

use super::keys::{KeyLine, heading_key, key_line};
use super::{Found, Method, Raw};
use crate::schema::{KeyHit, Schema};
use crate::text::lines::{Line, LineKind};
use crate::text::{clean_item, clean_value, means_none, split_inline};

/// A key line and a heading are equally clear about the field they name.
const CONFIDENCE: f64 = 0.90;
/// Code blocks whose lines may be list items (verify commands).
const SHELL_LANGS: [&str; 10] = [
    "",
    "sh",
    "bash",
    "shell",
    "console",
    "zsh",
    "text",
    "txt",
    "cmd",
    "powershell",
];
/// Key-line sections sit below every heading: any heading ends them.
const KEY_LEVEL: u8 = 8;

struct Open<'a> {
    hit: KeyHit,
    inline: &'a str,
    start: usize,
    level: u8,
    method: Method,
}

/// Proposes a value for each section; lines in `skip` (packet lines) end a section.
pub(crate) fn find(schema: &Schema, lines: &[Line<'_>], skip: &[bool], found: &mut Found) {
    let mut open: Option<Open<'_>> = None;
    for (index, line) in lines.iter().enumerate() {
        let next = match line.kind {
            _ if skip[index] => Step::Close,
            LineKind::Heading { level, title } => match heading_key(schema, title) {
                Some((hit, inline)) => Step::Open(Open {
                    hit,
                    inline,
                    start: index,
                    level,
                    method: Method::Heading,
                }),
                None if open.as_ref().is_some_and(|open| open.level >= level) => Step::Close,
                None => Step::Stay,
            },
            LineKind::Rule => Step::Close,
            LineKind::Bullet { .. } | LineKind::Text { .. } => match key_line(schema, line.text) {
                Some(key) if starts_section(schema, &key, open.as_ref()) => Step::Open(Open {
                    hit: key.hit,
                    inline: key.rest,
                    start: index,
                    level: KEY_LEVEL,
                    method: Method::KeyValue,
                }),
                _ => Step::Stay,
            },
            _ => Step::Stay,
        };
        match next {
            Step::Stay => {}
            Step::Close => {
                if let Some(section) = open.take() {
                    propose(schema, lines, &section, index, found);
                }
            }
            Step::Open(section) => {
                if let Some(previous) = open.replace(section) {
                    propose(schema, lines, &previous, index, found);
                }
            }
        }
    }
    if let Some(section) = open {
        propose(schema, lines, &section, lines.len(), found);
    }
}

enum Step<'a> {
    Stay,
    Close,
    Open(Open<'a>),
}

/// A list item that happens to start with another field's alias (`- tests: ...` under SCOPE)
/// is an item; a field's own name, or a bold key, starts a new section.
fn starts_section(schema: &Schema, key: &KeyLine<'_>, open: Option<&Open<'_>>) -> bool {
    let in_list = open.is_some_and(|open| schema.fields()[open.hit.field].is_list());
    let item_like = key.bulleted && in_list && !key.hit.exact && !key.bold;
    !item_like
}

fn propose(schema: &Schema, lines: &[Line<'_>], section: &Open<'_>, end: usize, found: &mut Found) {
    let field = &schema.fields()[section.hit.field];
    let body = &lines[section.start + 1..end];
    let raw = if field.is_list() {
        items(section.inline, body).map(Raw::Items)
    } else {
        text(section.inline, body, section.method == Method::KeyValue).map(Raw::Text)
    };
    if let Some(raw) = raw {
        let position = lines[section.start].offset;
        found.propose(section.hit, raw, CONFIDENCE, section.method, position);
    }
}

/// The section's prose: the inline value and, after a key line, the rest of its paragraph;
/// under a heading, every paragraph up to a sign-off ("Let me know if ...").
fn text(inline: &str, body: &[Line<'_>], one_paragraph: bool) -> Option<String> {
    let mut parts = Vec::new();
    let inline = clean_value(inline);
    if !inline.is_empty() {
        parts.push(inline);
    }
    let mut gap = false;
    for line in body {
        match line.kind {
            LineKind::Blank if !parts.is_empty() => {
                if one_paragraph {
                    break;
                }
                gap = true;
            }
            LineKind::Fence { .. } | LineKind::Code { .. }
                if one_paragraph && !parts.is_empty() =>
            {
                break;
            }
            // a bold line under a heading is its text ("## Verdict" then "**FAIL**")
            LineKind::Rule | LineKind::Heading { level: ..=6, .. } => break,
            LineKind::Bullet { .. } | LineKind::Text { .. } | LineKind::Heading { .. } => {
                if gap && is_sign_off(line.text) {
                    break;
                }
                parts.push(clean_value(line.text));
                gap = false;
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The section's list: its bullets (deeper lines join the item above), else the lines of its
/// first code block, else the inline value split, else the lines of its first paragraph.
fn items(inline: &str, body: &[Line<'_>]) -> Option<Vec<String>> {
    let mut list = List::default();
    for line in body {
        if list.read(line, !inline.trim().is_empty()) == Flow::Stop {
            break;
        }
    }
    let List {
        bullets,
        code,
        plain,
        ..
    } = list;
    let list = if !bullets.is_empty() {
        bullets
    } else if !code.is_empty() {
        code
    } else if !clean_value(inline).is_empty() {
        split_inline(inline)
    } else if !plain.is_empty() {
        plain
    } else {
        return None;
    };
    // "- None" is an empty list
    match &list[..] {
        [only] if means_none(only) => Some(Vec::new()),
        _ => Some(list),
    }
}

#[derive(Default)]
struct List {
    bullets: Vec<String>,
    indent: Option<usize>,
    code: Vec<String>,
    in_code: bool,
    /// The code block is one of commands.
    taking: bool,
    plain: Vec<String>,
    plain_ended: bool,
}

#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

impl List {
    fn read(&mut self, line: &Line<'_>, has_inline: bool) -> Flow {
        let started = !self.bullets.is_empty();
        match line.kind {
            LineKind::Bullet { indent, body, .. } => match self.indent {
                Some(base) if indent > base + 1 && started => self.join(body),
                _ if !self.code.is_empty() => return Flow::Stop,
                _ => {
                    self.indent.get_or_insert(indent);
                    self.bullets.push(clean_item(body));
                }
            },
            LineKind::Text { indent } if started => {
                if indent <= self.indent.unwrap_or(0) || is_sign_off(line.text) {
                    return Flow::Stop;
                }
                self.join(line.text);
            }
            LineKind::Text { .. } => {
                if has_inline || self.plain_ended || !self.code.is_empty() || is_sign_off(line.text)
                {
                    return Flow::Stop;
                }
                self.plain.push(clean_item(line.text));
            }
            LineKind::Blank => self.plain_ended |= !self.plain.is_empty(),
            LineKind::Fence { lang } if !started && self.plain.is_empty() => {
                self.in_code = !self.in_code;
                self.taking =
                    self.in_code && SHELL_LANGS.contains(&lang.to_ascii_lowercase().as_str());
                if !self.in_code && !self.code.is_empty() {
                    return Flow::Stop;
                }
            }
            LineKind::Code { .. } if self.taking => {
                let command = line.text.trim();
                let command = command.strip_prefix("$ ").unwrap_or(command);
                // a block of JSON is data (the packet itself, often), not commands
                self.taking = !(self.code.is_empty() && command.starts_with(['{', '[']));
                if self.taking && !command.is_empty() && !command.starts_with('#') {
                    self.code.push(command.to_string());
                }
            }
            LineKind::Rule | LineKind::Heading { .. } => return Flow::Stop,
            _ => {}
        }
        Flow::Go
    }

    fn join(&mut self, more: &str) {
        if let Some(last) = self.bullets.last_mut() {
            let more = clean_item(more);
            if !more.is_empty() {
                last.push(' ');
                last.push_str(&more);
            }
        }
    }
}

/// The start of a closing remark rather than more of the packet.
fn is_sign_off(line: &str) -> bool {
    const OPENINGS: [&str; 16] = [
        "let me know",
        "if you",
        "feel free",
        "hope this",
        "happy to",
        "i can also",
        "would you like",
        "want me to",
        "shall i",
        "should i",
        "thanks",
        "thank you",
        "anything else",
        "ping me",
        "i'm happy",
        "i am happy",
    ];
    let start: String = line
        .trim_start()
        .chars()
        .take(20)
        .collect::<String>()
        .to_lowercase();
    OPENINGS.iter().any(|opening| start.starts_with(opening))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::lines::classify;

    fn body(text: &str) -> Vec<Line<'_>> {
        classify(text, |_| Vec::new())
    }

    #[test]
    fn list_sections_take_bullets_code_inline_or_lines() {
        let bullets = body("Here they are:\n- a\n  continued\n\n- `b`\nThen prose");
        assert_eq!(items("", &bullets).unwrap(), ["a continued", "b"]);
        let code = body("```bash\n$ cargo test\n# lint\ncargo clippy\n```\n- not this");
        assert_eq!(items("", &code).unwrap(), ["cargo test", "cargo clippy"]);
        assert_eq!(
            items("src/a.rs, src/b.rs", &body("\nprose")).unwrap(),
            ["src/a.rs", "src/b.rs"]
        );
        assert_eq!(
            items("", &body("cargo test\ncargo clippy\n\nprose")).unwrap(),
            ["cargo test", "cargo clippy"]
        );
        assert_eq!(items("", &body("None.")).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn text_sections_take_one_paragraph_after_a_key_and_stop_at_a_sign_off() {
        let lines = body("more of it\n\nnot this");
        assert_eq!(text("first", &lines, true).unwrap(), "first\nmore of it");
        let lines = body("\nOne.\n```rust\ncode\n```\nTwo.\n\nLet me know if you need more.");
        assert_eq!(text("", &lines, false).unwrap(), "One.\nTwo.");
    }
}
