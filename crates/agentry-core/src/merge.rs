//! Closing an issue once its work is merged, by the rules of the review gate.

use crate::Status;

/// What merge evidence does to an issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeDecision {
    /// Close it: it waited in review, and passed the review gate after its last reopen.
    Apply,
    /// It is closed already; nothing to do.
    AlreadyClosed,
    /// Not closed, and why.
    Reject(String),
}

/// `last_gate` and `last_reopen` are the positions (event ids) of the last review-gate
/// marker (`SESSION_DONE`) and its last return to `open`.
pub fn decide_merge_close(
    status: Status,
    last_gate: Option<i64>,
    last_reopen: Option<i64>,
) -> MergeDecision {
    match (status, last_gate) {
        (Status::Closed, _) => MergeDecision::AlreadyClosed,
        (Status::NeedsReview, Some(gate)) if last_reopen.is_none_or(|reopen| gate > reopen) => {
            MergeDecision::Apply
        }
        (Status::NeedsReview, Some(_)) => {
            MergeDecision::Reject("the issue was reopened after its last review gate".into())
        }
        (Status::NeedsReview, None) => {
            MergeDecision::Reject("the issue never passed the review gate".into())
        }
        (other, _) => MergeDecision::Reject(format!(
            "an issue closes on merge only from needs_review, not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_only_from_needs_review_with_a_gate_after_the_last_reopen() {
        assert_eq!(
            decide_merge_close(Status::NeedsReview, Some(5), None),
            MergeDecision::Apply
        );
        assert_eq!(
            decide_merge_close(Status::NeedsReview, Some(5), Some(3)),
            MergeDecision::Apply
        );
        assert!(
            matches!(decide_merge_close(Status::NeedsReview, Some(3), Some(5)), MergeDecision::Reject(r) if r.contains("reopened"))
        );
        assert!(matches!(
            decide_merge_close(Status::NeedsReview, None, None),
            MergeDecision::Reject(_)
        ));
        assert!(
            matches!(decide_merge_close(Status::Open, Some(5), None), MergeDecision::Reject(r) if r.contains("not open"))
        );
        assert_eq!(
            decide_merge_close(Status::Closed, None, None),
            MergeDecision::AlreadyClosed
        );
    }
}
