//! Events: the append-only record of everything that happened to an issue.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{IssueId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    IssueCreated,
    IssueImported,
    IssueUpdated,
    StatusChanged,
    LinkAdded,
    LinkRemoved,
    // The issue session loop (`loop_snapshot.v1` events).
    SessionStart,
    ImplementDone,
    SpecReviewPass,
    SpecReviewFail,
    SpecFixApplied,
    QualityReviewPass,
    QualityReviewFail,
    QualityFixApplied,
    VerifyFailed,
    OverflowFixCreated,
    SessionDone,
    SessionError,
    // Merge-close.
    MergeEvidenceRecorded,
    MergeCloseApplied,
    MergeCloseSkippedAlreadyClosed,
    MergeCloseRejected,
    OverflowParentClosedByFix,
    /// The dispatcher holds an issue back while a session with an overlapping scope runs.
    ScopeWait,
    /// A person was assigned to review the issue.
    ReviewAssigned,
    /// An implementer asked a question (data: the packet); a blocking one ends its session
    /// and blocks the issue until it is answered.
    QuestionAsked,
    /// A person answered the open question (data: the question and the answer).
    QuestionAnswered,
    /// A person asked for a strict next review (`agentry review-hard`; data: the mark).
    ReviewHardRequested,
    /// Paths were reserved for the issue (data: its globs now, and those added).
    ScopeLocked,
    /// The issue's scope lock ended (data: its globs and why).
    ScopeReleased,
    /// `conflict-resolve` froze one of two issues whose branches clash (data: both, the files
    /// and the merge path); recorded on each.
    ConflictFound,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown event type {0:?}")]
pub struct EventTypeError(pub String);

impl EventType {
    pub const ALL: [EventType; 31] = [
        EventType::IssueCreated,
        EventType::IssueImported,
        EventType::IssueUpdated,
        EventType::StatusChanged,
        EventType::LinkAdded,
        EventType::LinkRemoved,
        EventType::SessionStart,
        EventType::ImplementDone,
        EventType::SpecReviewPass,
        EventType::SpecReviewFail,
        EventType::SpecFixApplied,
        EventType::QualityReviewPass,
        EventType::QualityReviewFail,
        EventType::QualityFixApplied,
        EventType::VerifyFailed,
        EventType::OverflowFixCreated,
        EventType::SessionDone,
        EventType::SessionError,
        EventType::MergeEvidenceRecorded,
        EventType::MergeCloseApplied,
        EventType::MergeCloseSkippedAlreadyClosed,
        EventType::MergeCloseRejected,
        EventType::OverflowParentClosedByFix,
        EventType::ScopeWait,
        EventType::ReviewAssigned,
        EventType::QuestionAsked,
        EventType::QuestionAnswered,
        EventType::ReviewHardRequested,
        EventType::ScopeLocked,
        EventType::ScopeReleased,
        EventType::ConflictFound,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::IssueCreated => "ISSUE_CREATED",
            EventType::IssueImported => "ISSUE_IMPORTED",
            EventType::IssueUpdated => "ISSUE_UPDATED",
            EventType::StatusChanged => "STATUS_CHANGED",
            EventType::LinkAdded => "LINK_ADDED",
            EventType::LinkRemoved => "LINK_REMOVED",
            EventType::SessionStart => "SESSION_START",
            EventType::ImplementDone => "IMPLEMENT_DONE",
            EventType::SpecReviewPass => "SPEC_REVIEW_PASS",
            EventType::SpecReviewFail => "SPEC_REVIEW_FAIL",
            EventType::SpecFixApplied => "SPEC_FIX_APPLIED",
            EventType::QualityReviewPass => "QUALITY_REVIEW_PASS",
            EventType::QualityReviewFail => "QUALITY_REVIEW_FAIL",
            EventType::QualityFixApplied => "QUALITY_FIX_APPLIED",
            EventType::VerifyFailed => "VERIFY_FAILED",
            EventType::OverflowFixCreated => "OVERFLOW_FIX_CREATED",
            EventType::SessionDone => "SESSION_DONE",
            EventType::SessionError => "SESSION_ERROR",
            EventType::MergeEvidenceRecorded => "MERGE_EVIDENCE_RECORDED",
            EventType::MergeCloseApplied => "MERGE_CLOSE_APPLIED",
            EventType::MergeCloseSkippedAlreadyClosed => "MERGE_CLOSE_SKIPPED_ALREADY_CLOSED",
            EventType::MergeCloseRejected => "MERGE_CLOSE_REJECTED",
            EventType::OverflowParentClosedByFix => "OVERFLOW_PARENT_CLOSED_BY_FIX",
            EventType::ScopeWait => "SCOPE_WAIT",
            EventType::ReviewAssigned => "REVIEW_ASSIGNED",
            EventType::QuestionAsked => "QUESTION_ASKED",
            EventType::QuestionAnswered => "QUESTION_ANSWERED",
            EventType::ReviewHardRequested => "REVIEW_HARD_REQUESTED",
            EventType::ScopeLocked => "SCOPE_LOCKED",
            EventType::ScopeReleased => "SCOPE_RELEASED",
            EventType::ConflictFound => "CONFLICT_FOUND",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = EventTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| EventTypeError(s.to_string()))
    }
}

/// An event before the store has numbered it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub issue_id: IssueId,
    pub session_id: Option<String>,
    pub event_type: EventType,
    pub data: Value,
}

/// A stored event. `id` grows with every event the store appends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub issue_id: IssueId,
    pub session_id: Option<String>,
    pub event_type: EventType,
    pub data: Value,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        for event_type in EventType::ALL {
            assert_eq!(
                event_type.as_str().parse::<EventType>().unwrap(),
                event_type
            );
            assert_eq!(
                serde_json::to_value(event_type).unwrap(),
                event_type.as_str()
            );
        }
    }
}
