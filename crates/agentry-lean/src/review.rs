//! A reviewer's verdict read by the lean parse, for the engine: any of the ways reviewers
//! write one, not only the ```json block the engine's own reader takes.

use agentry_core::verdict::Verdict;

use crate::packets::{PacketKind, ReviewVerdict};
use crate::parse::parse;

/// The verdict in `answer`; an answer with no readable, valid verdict is a failed review
/// whose failed item says "verdict not understood" ([`Verdict::not_understood`]).
pub fn review_verdict(answer: &str) -> Verdict {
    parse(PacketKind::ReviewVerdict.schema(), answer)
        .ok()
        .and_then(|result| result.to_packet::<ReviewVerdict>().ok())
        .map(Verdict::from)
        .unwrap_or_else(|| Verdict::not_understood(answer))
}

#[cfg(test)]
mod tests {
    use agentry_core::verdict::NOT_UNDERSTOOD;

    use super::*;

    #[test]
    fn reads_what_the_engine_reads_and_more() {
        let block = "Looks fine.\n```json\n{\"verdict\": \"fail\", \"failed_items\": [\"no test\"], \"fix_list\": [\"add one\"]}\n```";
        assert_eq!(review_verdict(block), Verdict::from_answer(block));
        let plain = "Verdict: FAIL\nFailed items:\n- no test\nFix list:\n- add one";
        assert_eq!(review_verdict(plain), Verdict::from_answer(block));
        assert!(review_verdict("LGTM").passed());
    }

    #[test]
    fn an_answer_without_a_verdict_is_a_failed_review_saying_so() {
        for answer in [
            "Wrote the file.",
            "```json\n{\"verdict\": \"maybe\"}\n```",
            "",
        ] {
            let verdict = review_verdict(answer);
            assert!(!verdict.passed());
            assert_eq!(verdict.failed_items, [NOT_UNDERSTOOD]);
        }
    }
}
