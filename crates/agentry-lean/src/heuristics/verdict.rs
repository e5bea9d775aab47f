//! The ways reviewers give a verdict without a key for it: a phrase ("LGTM", "changes
//! requested"), a checklist whose unchecked items failed, ✅ / ❌ marks. Used for any schema
//! with a pass|fail field.

use super::keys::key_line;
use super::{Found, Method, Raw};
use crate::coerce::verdict_word;
use crate::schema::{KeyHit, Kind, Schema};
use crate::text::lines::{Line, LineKind};
use crate::text::{clean_item, floor_boundary};

const FAIL_PHRASES: [&str; 17] = [
    "not lgtm",
    "changes requested",
    "request changes",
    "requesting changes",
    "needs changes",
    "needs work",
    "needs more work",
    "not ready to merge",
    "not ready for merge",
    "cannot approve",
    "can't approve",
    "can not approve",
    "do not merge",
    "don't merge",
    "not approved",
    "not approve",
    "blocking issues found",
];
const PASS_PHRASES: [&str; 11] = [
    "lgtm",
    "looks good to me",
    "approved",
    "i approve",
    "approving",
    "ship it",
    "ready to merge",
    "good to merge",
    "safe to merge",
    "no issues found",
    "no problems found",
];
/// Words that turn a pass phrase shortly after them into a fail.
const NEGATIONS: [&str; 4] = ["not ", "n't ", "no ", "never "];
/// How many bytes before a pass phrase a negation still reaches ("can't give this an LGTM").
const NEGATION_REACH: usize = 24;
const FAIL_MARKS: [char; 6] = ['❌', '✗', '✘', '🔴', '⛔', '🚫'];
const PASS_MARKS: [char; 5] = ['✅', '✔', '✓', '🟢', '☑'];

/// The schema's pass|fail field, and its list of failed items if it has one.
pub(crate) struct VerdictFields<'a> {
    schema: &'a Schema,
    verdict: usize,
    failed: Option<usize>,
}

impl<'a> VerdictFields<'a> {
    pub fn of(schema: &'a Schema) -> Option<VerdictFields<'a>> {
        let verdict = schema
            .fields()
            .iter()
            .position(|field| match &field.shape.kind {
                Kind::Text {
                    one_of: Some(values),
                    ..
                } => values.iter().any(|v| v == "pass") && values.iter().any(|v| v == "fail"),
                _ => false,
            })?;
        let failed = schema
            .key("failed items")
            .map(|hit| hit.field)
            .filter(|field| schema.fields()[*field].is_list());
        Some(VerdictFields {
            schema,
            verdict,
            failed,
        })
    }

    fn verdict(
        &self,
        found: &mut Found,
        pass: bool,
        confidence: f64,
        method: Method,
        position: usize,
    ) {
        let word = if pass { "pass" } else { "fail" };
        let hit = KeyHit {
            field: self.verdict,
            exact: true,
        };
        found.propose(hit, Raw::Text(word.into()), confidence, method, position);
    }

    fn failed(
        &self,
        found: &mut Found,
        items: Vec<String>,
        confidence: f64,
        method: Method,
        position: usize,
    ) {
        if let (Some(field), false) = (self.failed, items.is_empty()) {
            let hit = KeyHit { field, exact: true };
            found.propose(hit, Raw::Items(items), confidence, method, position);
        }
    }
}

pub(crate) fn find(fields: &VerdictFields<'_>, lines: &[Line<'_>], found: &mut Found) {
    let prose = lines.iter().filter(|line| {
        matches!(
            line.kind,
            LineKind::Text { .. } | LineKind::Bullet { .. } | LineKind::Heading { .. }
        )
    });
    let mut vote = None;
    let mut checklist = Marks::default();
    let mut marks = Marks::default();
    for line in prose {
        if let Some(pass) = phrase_vote(line.text) {
            vote = Some((pass, line.offset));
        }
        if let LineKind::Bullet {
            body,
            check: Some(checked),
            ..
        } = line.kind
        {
            checklist.add(checked, clean_item(body), line.offset);
        } else if key_line(fields.schema, line.text).is_none() {
            if let Some((passed, text)) = marked(line) {
                marks.add(passed, text, line.offset);
            }
        }
    }
    if let Some((pass, position)) = vote {
        fields.verdict(found, pass, 0.75, Method::VerdictPhrase, position);
    }
    for (list, confidence) in [(checklist, 0.70), (marks, 0.65)] {
        if let Some(position) = list.last {
            fields.verdict(
                found,
                list.failed.is_empty(),
                confidence,
                Method::Checklist,
                position,
            );
            fields.failed(found, list.failed, confidence, Method::Checklist, position);
        }
    }
}

#[derive(Default)]
struct Marks {
    failed: Vec<String>,
    last: Option<usize>,
}

impl Marks {
    fn add(&mut self, passed: bool, text: String, position: usize) {
        if !passed && !text.is_empty() {
            self.failed.push(text);
        }
        self.last = Some(position);
    }
}

/// Whether a line says pass or fail in so many words.
fn phrase_vote(line: &str) -> Option<bool> {
    let lower = line.to_lowercase();
    if let Some(pass) = named_verdict(&lower) {
        return Some(pass);
    }
    if FAIL_PHRASES
        .iter()
        .any(|phrase| contains_words(&lower, phrase))
    {
        return Some(false);
    }
    let at = PASS_PHRASES
        .iter()
        .filter_map(|phrase| find_words(&lower, phrase))
        .min()?;
    let before = &lower[floor_boundary(&lower, at.saturating_sub(NEGATION_REACH))..at];
    Some(!NEGATIONS.iter().any(|negation| before.contains(negation)))
}

/// "... my verdict: fail.", "the verdict is PASS": the word after "verdict".
fn named_verdict(lower: &str) -> Option<bool> {
    let at = find_words(lower, "verdict")?;
    let rest =
        lower[at + "verdict".len()..].trim_start_matches(|c: char| c == '*' || c.is_whitespace());
    let rest = [":", "is ", "=", "-", "—"]
        .iter()
        .find_map(|separator| rest.strip_prefix(separator))?;
    verdict_word(rest)
}

fn contains_words(text: &str, phrase: &str) -> bool {
    find_words(text, phrase).is_some()
}

/// Where `phrase` occurs in `text` as whole words.
fn find_words(text: &str, phrase: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(phrase) {
        let at = from + found;
        let end = at + phrase.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        if !word(before) && !word(after) {
            return Some(at);
        }
        from = end;
    }
    None
}

/// A line marked ✅ or ❌, and its text without the mark.
fn marked(line: &Line<'_>) -> Option<(bool, String)> {
    let text = match line.kind {
        LineKind::Bullet { body, .. } => body,
        _ => line.text,
    };
    let failed = text.contains(FAIL_MARKS);
    if !failed && !text.contains(PASS_MARKS) {
        return None;
    }
    let stripped: String = text
        .chars()
        .filter(|c| !FAIL_MARKS.contains(c) && !PASS_MARKS.contains(c) && *c != '\u{fe0f}')
        .collect();
    let stripped = stripped
        .trim()
        .trim_start_matches([':', '-', '–', '—', ' ']);
    Some((!failed, clean_item(stripped)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_vote_with_negation() {
        assert_eq!(phrase_vote("LGTM, ship it"), Some(true));
        assert_eq!(phrase_vote("This is not ready to merge."), Some(false));
        assert_eq!(phrase_vote("I can't say it's approved yet"), Some(false));
        assert_eq!(phrase_vote("Request rejected (429)"), None);
        assert_eq!(phrase_vote("unapproved migrations"), None);
        assert_eq!(
            phrase_vote("After all that, my verdict: **fail**."),
            Some(false)
        );
        assert_eq!(phrase_vote("The verdict is PASS"), Some(true));
    }
}
