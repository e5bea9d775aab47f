//! Markdown-ish lines: each line of an agent's answer classified once (fences, headings,
//! bullets, tables, prose), so the heuristics after it never re-scan the text.

/// One line, without its line ending.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    /// Byte offset of the line in the whole text, for ordering what is found.
    pub offset: usize,
    pub kind: LineKind<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineKind<'a> {
    Blank,
    /// A fence line opening or closing a code block.
    Fence {
        lang: &'a str,
    },
    /// A line inside a code block.
    Code {
        lang: &'a str,
    },
    /// `## Title`, or a line that is bold and nothing else (level 7).
    Heading {
        level: u8,
        title: &'a str,
    },
    /// `---`, `***`.
    Rule,
    /// `- x`, `* x`, `1. x`, `a) x`, `- [ ] x`; `body` is the text after the marker.
    Bullet {
        indent: usize,
        body: &'a str,
        check: Option<bool>,
    },
    /// `| a | b |`
    Table,
    Text {
        indent: usize,
    },
}

/// The languages of code blocks that may hold a packet written as text.
const TEXT_LANGS: [&str; 9] = [
    "",
    "text",
    "txt",
    "plain",
    "plaintext",
    "md",
    "markdown",
    "yaml",
    "yml",
];

/// Every line of `text`, classified. A code block whose language is text-like and whose lines
/// name at least two fields (`keys` gives the fields a line names) is read as prose: agents
/// put packets in ```text blocks.
pub(crate) fn classify<'a>(text: &'a str, keys: impl Fn(&str) -> Vec<usize>) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut fence: Option<(char, usize, &str)> = None;
    let mut offset = 0;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let kind = match (fence, opens(line)) {
            (Some((mark, len, lang)), _) if closes(line, mark, len) => {
                fence = None;
                LineKind::Fence { lang }
            }
            // "```json" inside a block: the block before was left open, as agents do
            (Some(_), Some(open)) if !open.2.is_empty() => {
                fence = Some(open);
                LineKind::Fence { lang: open.2 }
            }
            (Some((_, _, lang)), _) => LineKind::Code { lang },
            (None, Some(open)) => {
                fence = Some(open);
                LineKind::Fence { lang: open.2 }
            }
            (None, None) => plain(line),
        };
        lines.push(Line {
            text: line,
            offset,
            kind,
        });
        offset += raw.len() + 1;
    }
    reopen_packet_blocks(&mut lines, keys);
    lines
}

/// The fence mark, its length and the block's language, if `line` opens a code block.
fn opens(line: &str) -> Option<(char, usize, &str)> {
    let trimmed = line.trim_start();
    let mark = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.len() - trimmed.trim_start_matches(mark).len();
    let info = trimmed[len..].trim();
    if len < 3 || (mark == '`' && info.contains('`')) {
        return None;
    }
    let lang = info.split_whitespace().next().unwrap_or("");
    Some((
        mark,
        len,
        lang.trim_start_matches('{').trim_end_matches('}'),
    ))
}

fn closes(line: &str, mark: char, len: usize) -> bool {
    let trimmed = line.trim();
    trimmed.len() >= len && trimmed.chars().all(|c| c == mark)
}

/// A line outside code blocks.
fn plain(line: &str) -> LineKind<'_> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    let trimmed = quote_body(trimmed);
    if trimmed.is_empty() {
        return LineKind::Blank;
    }
    if let Some(heading) = heading(trimmed) {
        return heading;
    }
    if is_rule(trimmed) {
        return LineKind::Rule;
    }
    if trimmed.starts_with('|') {
        return LineKind::Table;
    }
    if let Some(body) = bullet_body(trimmed) {
        let (check, body) = checkbox(body);
        return LineKind::Bullet {
            indent,
            body,
            check,
        };
    }
    if let Some(title) = bold_line(trimmed) {
        return LineKind::Heading { level: 7, title };
    }
    LineKind::Text { indent }
}

/// The text of a block quote line ("> text").
pub(crate) fn quote_body(line: &str) -> &str {
    let mut line = line;
    while let Some(rest) = line.strip_prefix('>') {
        line = rest.trim_start();
    }
    line
}

fn heading(line: &str) -> Option<LineKind<'_>> {
    let level = line.len() - line.trim_start_matches('#').len();
    let rest = &line[level..];
    if level == 0 || level > 6 || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim();
    let title = title
        .strip_prefix("**")
        .and_then(|t| t.strip_suffix("**"))
        .unwrap_or(title);
    Some(LineKind::Heading {
        level: level as u8,
        title,
    })
}

fn is_rule(line: &str) -> bool {
    let mut marks = line.chars().filter(|c| !c.is_whitespace());
    let Some(first) = marks.next().filter(|c| matches!(c, '-' | '*' | '_' | '=')) else {
        return false;
    };
    let rest: Vec<char> = marks.collect();
    rest.len() >= 2 && rest.iter().all(|c| *c == first)
}

/// The text after a list marker: `-`, `*`, `+`, `•`, `1.`, `1)`, `(1)`; a lettered item
/// (`a)`, `B.`) keeps its letter, which an answer may refer to.
pub(crate) fn bullet_body(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ ", "• ", "· ", "‣ ", "– "] {
        if let Some(body) = line.strip_prefix(marker) {
            return Some(body.trim_start());
        }
    }
    if ["-", "*", "+", "•"].contains(&line) {
        return Some("");
    }
    let unwrapped = line.strip_prefix('(').unwrap_or(line);
    let digits = unwrapped.len()
        - unwrapped
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    if (1..=3).contains(&digits) {
        let rest = &unwrapped[digits..];
        if let Some(body) = [". ", ") "].iter().find_map(|m| rest.strip_prefix(m)) {
            return Some(body.trim_start());
        }
    }
    let mut chars = line.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(letter), Some(')' | '.'), Some(' ')) if letter.is_ascii_alphabetic() => Some(line),
        _ => None,
    }
}

/// `[ ] x` → (Some(false), "x"); `[x] x` → (Some(true), "x").
fn checkbox(body: &str) -> (Option<bool>, &str) {
    for (mark, checked) in [
        ("[ ]", false),
        ("[x]", true),
        ("[X]", true),
        ("[✓]", true),
        ("[✔]", true),
    ] {
        if let Some(rest) = body.strip_prefix(mark) {
            return (Some(checked), rest.trim_start());
        }
    }
    (None, body)
}

/// "**Root cause**", "**Verdict: FAIL**", "**Fix list:**" → the text inside.
fn bold_line(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("**")?;
    let inner = inner
        .strip_suffix("**:")
        .or_else(|| inner.strip_suffix("**"))?;
    let inner = inner.trim();
    (!inner.is_empty() && !inner.contains("**") && inner.chars().count() <= 80).then_some(inner)
}

/// Reads as prose each code block (a run of code lines) of a text-like language whose lines
/// name at least two fields.
fn reopen_packet_blocks(lines: &mut [Line<'_>], keys: impl Fn(&str) -> Vec<usize>) {
    let mut start = 0;
    while start < lines.len() {
        let LineKind::Code { lang } = lines[start].kind else {
            start += 1;
            continue;
        };
        let end = (start..lines.len())
            .find(|i| lines[*i].kind != LineKind::Code { lang })
            .unwrap_or(lines.len());
        if TEXT_LANGS.contains(&lang.to_ascii_lowercase().as_str()) {
            let mut fields: Vec<usize> = lines[start..end]
                .iter()
                .flat_map(|line| keys(line.text))
                .collect();
            fields.sort_unstable();
            fields.dedup();
            if fields.len() >= 2 {
                for line in &mut lines[start..end] {
                    line.kind = plain(line.text);
                }
            }
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<LineKind<'_>> {
        classify(text, |_| Vec::new())
            .into_iter()
            .map(|line| line.kind)
            .collect()
    }

    #[test]
    fn classifies_markdown() {
        let text = "## Fix\n- [ ] add a test\n2. second\n**Verdict: FAIL**\n| a | b |\n---\n```rust\nfn main() {}\n```\nplain";
        assert_eq!(
            kinds(text),
            [
                LineKind::Heading {
                    level: 2,
                    title: "Fix"
                },
                LineKind::Bullet {
                    indent: 0,
                    body: "add a test",
                    check: Some(false)
                },
                LineKind::Bullet {
                    indent: 0,
                    body: "second",
                    check: None
                },
                LineKind::Heading {
                    level: 7,
                    title: "Verdict: FAIL"
                },
                LineKind::Table,
                LineKind::Rule,
                LineKind::Fence { lang: "rust" },
                LineKind::Code { lang: "rust" },
                LineKind::Fence { lang: "rust" },
                LineKind::Text { indent: 0 },
            ]
        );
    }

    #[test]
    fn a_fence_with_a_language_inside_a_block_opens_a_new_one() {
        let text = "```rust\nfn main() {\n```json\n{}\n```\nafter";
        assert_eq!(
            kinds(text),
            [
                LineKind::Fence { lang: "rust" },
                LineKind::Code { lang: "rust" },
                LineKind::Fence { lang: "json" },
                LineKind::Code { lang: "json" },
                LineKind::Fence { lang: "json" },
                LineKind::Text { indent: 0 },
            ]
        );
    }

    #[test]
    fn a_text_block_with_keys_of_two_fields_is_prose() {
        let text = "```text\nBUG: x\nROOT: y\n```\n```\nBUG: x\n```";
        let keyed = |line: &str| match line.split(':').next() {
            Some("BUG") => vec![0],
            Some("ROOT") => vec![1],
            _ => Vec::new(),
        };
        let lines = classify(text, keyed);
        assert!(matches!(lines[1].kind, LineKind::Text { .. }));
        assert!(matches!(lines[5].kind, LineKind::Code { .. }));
    }
}
