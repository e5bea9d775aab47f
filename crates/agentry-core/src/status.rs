//! Issue statuses and the transitions allowed between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    InProgress,
    NeedsReview,
    Closed,
    Blocked,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("illegal status transition: {from} → {to} (from {from} an issue may go to: {allowed})")]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
    allowed: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown status {0:?} (expected one of: open, in_progress, needs_review, closed, blocked)")]
pub struct StatusParseError(pub String);

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::InProgress,
        Status::NeedsReview,
        Status::Closed,
        Status::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::NeedsReview => "needs_review",
            Status::Closed => "closed",
            Status::Blocked => "blocked",
        }
    }

    /// The statuses an issue in this status may move to. Closing is only possible once no
    /// session holds the issue; work leaves `in_progress` through review, the queue or a block.
    pub fn successors(self) -> &'static [Status] {
        use Status::*;
        match self {
            Open => &[InProgress, Blocked, Closed],
            InProgress => &[Open, NeedsReview, Blocked],
            NeedsReview => &[Open, Closed, Blocked],
            Blocked => &[Open, Closed],
            Closed => &[Open],
        }
    }

    /// Checks that `self → to` is allowed.
    pub fn check_transition(self, to: Status) -> Result<(), TransitionError> {
        if self.successors().contains(&to) {
            return Ok(());
        }
        let allowed = self
            .successors()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>();
        Err(TransitionError {
            from: self,
            to,
            allowed: allowed.join(", "),
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Status {
    type Err = StatusParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| StatusParseError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_path_is_allowed() {
        use Status::*;
        for (from, to) in [
            (Open, InProgress),
            (InProgress, NeedsReview),
            (NeedsReview, Closed),
            (InProgress, Open),
            (Closed, Open),
        ] {
            assert!(from.check_transition(to).is_ok(), "{from} → {to}");
        }
    }

    #[test]
    fn an_illegal_transition_names_both_states() {
        let err = Status::Closed
            .check_transition(Status::InProgress)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("closed → in_progress"), "{text}");
        assert!(text.contains("may go to: open"), "{text}");
    }

    #[test]
    fn no_status_moves_to_itself() {
        for status in Status::ALL {
            assert!(status.check_transition(status).is_err());
        }
    }

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert!("done".parse::<Status>().is_err());
    }
}
