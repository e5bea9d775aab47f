//! The issue session loop as a pure state machine: `step(state, input) -> (state, actions)`.
//!
//! A session implements an issue, verifies it, passes a spec review (up to its cap) and a
//! quality review (up to its cap) with fix rounds between, then a fresh verification, and ends
//! in exactly one terminal event: `SESSION_DONE`, `OVERFLOW_FIX_CREATED`, `VERIFY_FAILED` or
//! `SESSION_ERROR`. The engine performs the actions and feeds their results back as inputs.

mod machine;
mod overflow;
pub mod snapshot;

pub use machine::{
    Action, Asked, Caps, FixRequest, Input, NO_CHANGE, Outcome, Review, Session, SessionIds,
    is_fresh,
};
pub use overflow::{Overflow, fix_issue, fix_title, is_fix_issue};
pub use snapshot::{Attempts, Snapshot, SnapshotStatus, Stage, VerifyEvidence};

use crate::EventType;

/// The events that end a session; each session records exactly one of them, last, except
/// one that ends on a blocking question: its last event is `QUESTION_ASKED` (the packet, not
/// a snapshot), written with the issue's move to `blocked`.
pub const TERMINAL: [EventType; 4] = [
    EventType::SessionDone,
    EventType::OverflowFixCreated,
    EventType::VerifyFailed,
    EventType::SessionError,
];

#[cfg(test)]
mod tests;
