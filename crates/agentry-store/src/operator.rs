//! What operators keep in the store beside issues: named state objects and review assignments.

use agentry_core::{IssueId, Timestamp};
use serde::Serialize;
use serde_json::Value;

/// A named state object (a flag, a heartbeat) and when it was last written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StateEntry {
    pub key: String,
    pub value: Value,
    pub updated_at: Timestamp,
}

/// A person assigned to review an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewAssignment {
    pub issue_id: IssueId,
    pub reviewer: String,
    pub assigned_at: Timestamp,
}

/// The longest reviewer name accepted.
pub const MAX_REVIEWER_LEN: usize = 200;

/// A reviewer is a non-empty name on one line, at most [`MAX_REVIEWER_LEN`] characters.
pub fn check_reviewer(reviewer: &str) -> Result<(), String> {
    if reviewer.trim().is_empty() {
        return Err("reviewer: must not be empty".into());
    }
    if reviewer.chars().count() > MAX_REVIEWER_LEN {
        return Err(format!("reviewer: at most {MAX_REVIEWER_LEN} characters"));
    }
    if reviewer.chars().any(char::is_control) {
        return Err("reviewer: must be one line without control characters".into());
    }
    Ok(())
}
