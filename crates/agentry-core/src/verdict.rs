//! A reviewer's verdict, read from the last fenced JSON block of its answer.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub verdict: VerdictKind,
    #[serde(default)]
    pub failed_items: Vec<String>,
    #[serde(default)]
    pub fix_list: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Pass,
    Fail,
}

/// The failed item given when no verdict can be read from a reviewer's answer.
pub const NOT_UNDERSTOOD: &str = "verdict not understood";

impl Verdict {
    pub fn passed(&self) -> bool {
        self.verdict == VerdictKind::Pass
    }

    /// The verdict in `answer`'s last fenced ```json block; an answer without a readable one
    /// is a failed review whose failed item says so, with the text kept as its fix list.
    pub fn from_answer(answer: &str) -> Verdict {
        last_json_block(answer)
            .and_then(|block| serde_json::from_str(block).ok())
            .unwrap_or_else(|| Verdict::not_understood(answer))
    }

    /// The verdict for an answer from which none could be read: a failed review whose failed
    /// item says so, with the answer's start in its fix list.
    pub fn not_understood(answer: &str) -> Verdict {
        Verdict {
            verdict: VerdictKind::Fail,
            failed_items: vec![NOT_UNDERSTOOD.into()],
            fix_list: vec![format!(
                "answer with a fenced json verdict block; the answer was: {}",
                excerpt(answer)
            )],
        }
    }
}

fn last_json_block(text: &str) -> Option<&str> {
    let start = text.rfind("```json")? + "```json".len();
    let rest = &text[start..];
    let end = rest.find("```")?;
    Some(rest[..end].trim())
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_json_block() {
        let answer = "First thoughts\n```json\n{\"verdict\":\"pass\"}\n```\nOn reflection:\n```json\n{\"verdict\": \"fail\", \"failed_items\": [\"no test\"], \"fix_list\": [\"add a test\"]}\n```\n";
        let verdict = Verdict::from_answer(answer);
        assert!(!verdict.passed());
        assert_eq!(verdict.failed_items, vec!["no test"]);
        assert_eq!(verdict.fix_list, vec!["add a test"]);
    }

    #[test]
    fn an_unreadable_answer_is_a_failed_review_saying_so() {
        for answer in [
            "LGTM",
            "```json\n{\"verdict\": \"maybe\"}\n```",
            "```json\n{not json\n```",
        ] {
            let verdict = Verdict::from_answer(answer);
            assert!(!verdict.passed());
            assert_eq!(verdict.failed_items, vec![NOT_UNDERSTOOD]);
        }
    }
}
