//! `KEY: value` lines, in the ways agents write them: `TASK: x`, `**Task:** x`, `**Task**: x`,
//! `- VERIFY: x`, `Verdict — PASS`, `BUG → x`, and a key alone in capitals (`FAILED ITEMS`).

use crate::schema::{KeyHit, Schema};
use crate::text::floor_boundary;
use crate::text::lines::{bullet_body, quote_body};

/// A key is looked for in this many bytes at the start of a line.
const KEY_WINDOW: usize = 64;

#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyLine<'a> {
    pub hit: KeyHit,
    /// The text after the key and its separator.
    pub rest: &'a str,
    /// Written as a list item (`- Fix: x`).
    pub bulleted: bool,
    /// The key was bold (`**Fix:**`).
    pub bold: bool,
}

/// The field `line` starts with the key of, if it does.
pub(crate) fn key_line<'a>(schema: &Schema, line: &'a str) -> Option<KeyLine<'a>> {
    let text = quote_body(line.trim());
    let (text, bulleted) = match bullet_body(text) {
        Some(body) if body.len() < text.len() => (body, true),
        _ => (text, false),
    };
    let window = &text[..floor_boundary(text, KEY_WINDOW)];
    match separator(window) {
        Some((at, len)) => {
            let key = &text[..at];
            let rest = text[at + len..].trim_start();
            let rest = rest.strip_prefix("**").unwrap_or(rest).trim_start();
            let hit = schema.key(key)?;
            Some(KeyLine {
                hit,
                rest,
                bulleted,
                bold: key.trim_start().starts_with("**"),
            })
        }
        None if is_shouted(text) => Some(KeyLine {
            hit: schema.key(text)?,
            rest: "",
            bulleted,
            bold: false,
        }),
        None => None,
    }
}

/// The field a heading's title names, and any value written in it ("Verdict: PASS").
pub(crate) fn heading_key<'a>(schema: &Schema, title: &'a str) -> Option<(KeyHit, &'a str)> {
    if let Some((at, len)) = separator(&title[..floor_boundary(title, KEY_WINDOW)]) {
        if let Some(hit) = schema.key(&title[..at]) {
            return Some((hit, title[at + len..].trim()));
        }
    }
    schema.key(title).map(|hit| (hit, ""))
}

/// The first `:`, or dash or arrow between words, as (byte index, length).
fn separator(window: &str) -> Option<(usize, usize)> {
    let colon = window.find(':').map(|at| (at, 1));
    let dash = [" — ", " – ", " → ", " -> "]
        .iter()
        .filter_map(|dash| window.find(dash).map(|at| (at, dash.len())))
        .min();
    match (colon, dash) {
        (Some(c), Some(d)) => Some(c.min(d)),
        (c, d) => c.or(d),
    }
}

/// A line in capitals and nothing else: `FAILED ITEMS`, `**NEXT**`.
fn is_shouted(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 3
        && text.len() <= KEY_WINDOW
        && text
            .chars()
            .all(|c| c.is_uppercase() || matches!(c, ' ' | '-' | '_' | '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PacketKind;

    fn read(line: &str) -> Option<(String, String, bool)> {
        let schema = PacketKind::Dispatch.schema();
        key_line(schema, line).map(|key| {
            let name = schema.fields()[key.hit.field].name.clone();
            (name, key.rest.to_string(), key.bulleted)
        })
    }

    #[test]
    fn reads_the_ways_agents_write_keys() {
        let task = |rest: &str, bulleted| Some(("task".to_string(), rest.to_string(), bulleted));
        assert_eq!(read("TASK: add a flag"), task("add a flag", false));
        assert_eq!(read("**Task:** add a flag"), task("add a flag", false));
        assert_eq!(read("**Task**: add a flag"), task("add a flag", false));
        assert_eq!(read("- **TASK** — add a flag"), task("add a flag", true));
        assert_eq!(read("> Objective: add a flag"), task("add a flag", false));
        assert_eq!(
            read("NOT-YOUR-JOB"),
            Some(("not_your_job".to_string(), String::new(), false))
        );
        assert_eq!(read("The task: add a flag"), None);
        assert_eq!(read("Task force"), None);
    }
}
