//! Reading text as agents write it: keys, values, list items. Every function here is a single
//! pass over its input.

pub(crate) mod lines;

/// Keys longer than this (once normalised) are prose, not keys.
const MAX_KEY_CHARS: usize = 40;

/// A key as agents write it ("NOT-YOUR-JOB", "**Root cause**", "2. Fix list (required)") in
/// the one form names are compared in: lower case words of letters and digits, single-spaced.
pub(crate) fn normalize_key(written: &str) -> Option<String> {
    let mut text = strip_enumeration(written.trim());
    if let Some(open) = text.rfind('(').filter(|_| text.trim_end().ends_with(')')) {
        text = &text[..open];
    }
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if matches!(c, ' ' | '\t' | '-' | '_' | '/') && !key.ends_with(' ') {
            key.push(' ');
        } else if c == '\'' || c == '’' || c == '*' || c == '`' {
            // dropped: "what's" is "whats", emphasis and code marks are not part of a key
        } else if !c.is_whitespace() && !is_decoration(c) {
            return None;
        }
        if key.len() > MAX_KEY_CHARS * 4 {
            return None;
        }
    }
    let key = key.trim();
    let fits = !key.is_empty() && key.chars().count() <= MAX_KEY_CHARS;
    fits.then(|| key.to_string())
}

/// Marks around keys that carry no meaning: emoji, colons, question marks.
fn is_decoration(c: char) -> bool {
    matches!(c, ':' | '?' | '!' | '.' | '#' | '>' | '[' | ']')
        || !c.is_ascii() && !c.is_alphanumeric()
}

/// "2. Fix", "2) Fix", "Step 2: Fix" → "Fix".
fn strip_enumeration(text: &str) -> &str {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits <= 3 {
        let rest = &text[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return rest.trim_start();
        }
    }
    text
}

/// A value as written, without markdown emphasis or a code span around all of it.
pub(crate) fn clean_value(text: &str) -> String {
    let text = text.trim();
    let text = if text.contains("**") {
        text.replace("**", "")
    } else {
        text.to_string()
    };
    let trimmed = text.trim();
    match unwrap_code(trimmed) {
        Some(inner) => inner.to_string(),
        None => trimmed.to_string(),
    }
}

/// "`cargo test`" → "cargo test"; None unless one code span covers all the text.
fn unwrap_code(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`') && !inner.trim().is_empty()).then_some(inner.trim())
}

/// Words agents write for an empty list: "none", "n/a", "Nothing known.", "(none)".
pub(crate) fn means_none(text: &str) -> bool {
    let text = text
        .trim()
        .trim_end_matches('.')
        .trim_matches(|c| c == '(' || c == ')' || c == '_' || c == '*')
        .to_lowercase();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default();
    let short = words.count() <= 2;
    ["n/a", "na", "-", "—", "[]", "no", "nil", "empty"].contains(&text.as_str())
        || (short && ["none", "nothing"].contains(&first))
}

/// The items of a list written on one line: "a; b", "src/a.rs, src/b.rs", "none".
pub(crate) fn split_inline(text: &str) -> Vec<String> {
    let text = text.trim();
    if means_none(text) {
        return Vec::new();
    }
    let pieces: Vec<&str> = if text.contains(';') {
        text.split(';').collect()
    } else if text.contains(',') && text.split(',').all(|piece| is_token(piece.trim())) {
        text.split(',').collect()
    } else {
        vec![text]
    };
    pieces
        .into_iter()
        .map(clean_item)
        .filter(|item| !item.is_empty())
        .collect()
}

/// A path, glob or word: no spaces inside.
fn is_token(text: &str) -> bool {
    !text.is_empty() && !text.trim_matches('`').contains(char::is_whitespace)
}

/// A list item without a status mark before it (✅, ⏳), its trailing separator or emphasis.
pub(crate) fn clean_item(text: &str) -> String {
    let text = text
        .trim()
        .trim_start_matches(|c: char| is_mark(c) || c.is_whitespace());
    clean_value(text.trim_end_matches([',', ';']))
}

/// Emoji and symbols agents put before items: arrows, dingbats, pictographs.
pub(crate) fn is_mark(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{2BFF}' | '\u{1F000}'..='\u{1FAFF}' | '\u{FE0F}')
}

/// The index of the first char boundary at or before `index`.
pub(crate) fn floor_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_to_words() {
        for (written, key) in [
            ("NOT-YOUR-JOB", "not your job"),
            ("**Root cause**", "root cause"),
            ("2. Fix list (required)", "fix list"),
            ("COMPLETED (with evidence)", "completed"),
            ("✅ Verdict", "verdict"),
            ("done_when", "done when"),
            ("Blocking?", "blocking"),
        ] {
            assert_eq!(normalize_key(written).as_deref(), Some(key), "{written}");
        }
        assert_eq!(normalize_key("see https://example.com"), None);
        assert_eq!(normalize_key(&"word ".repeat(20)), None);
    }

    #[test]
    fn inline_lists_split_only_where_safe() {
        assert_eq!(
            split_inline("src/a.rs, `src/b.rs`"),
            ["src/a.rs", "src/b.rs"]
        );
        assert_eq!(
            split_inline("cargo test; cargo clippy"),
            ["cargo test", "cargo clippy"]
        );
        assert_eq!(
            split_inline("the list works, and it is fast"),
            ["the list works, and it is fast"]
        );
        assert!(split_inline("None.").is_empty());
    }
}
