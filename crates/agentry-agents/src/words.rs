//! Reading what agent CLIs print: short summaries, JSON strings, rate-limit wording.

use serde_json::Value;

/// A summary (a tool's input or result) is cut to this many characters.
const SUMMARY_CHARS: usize = 120;

/// The first line of `text`, cut to a summary's length.
pub(crate) fn summary(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(SUMMARY_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

/// A JSON value that is a string.
pub(crate) fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

/// Whether an agent's error message is about a rate or usage limit: it says so, or names
/// the status 429 (as a number of its own, not inside a port like `127.0.0.1:33429`).
pub(crate) fn says_rate_limited(message: &str) -> bool {
    let lower = message.to_lowercase();
    let status_429 = lower
        .split(|c: char| !c.is_ascii_digit())
        .any(|number| number == "429");
    status_429
        || ["rate limit", "rate_limit", "usage limit"]
            .iter()
            .any(|sign| lower.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_the_first_line_cut_at_a_char_boundary() {
        assert_eq!(summary("one\ntwo"), "one");
        let long = "é".repeat(200);
        assert_eq!(summary(&long).chars().count(), SUMMARY_CHARS + 1);
    }

    #[test]
    fn rate_limits_are_told_apart_from_other_errors() {
        assert!(says_rate_limited(
            "API Error: Request rejected (429) · slow down"
        ));
        assert!(says_rate_limited(
            "Claude AI usage limit reached|1712345678"
        ));
        assert!(!says_rate_limited("API Error: 500 Internal Server Error"));
        assert!(!says_rate_limited(
            "API Error: 500 boom. Check your inference gateway (127.0.0.1:33429)."
        ));
    }
}
