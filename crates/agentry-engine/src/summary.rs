//! What a run did, as `agentry run` prints it.

use std::collections::BTreeMap;

use agentry_core::session::Outcome;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub sessions: usize,
    /// Sessions by how they ended: done, overflowed, escalated, verify_failed, error.
    pub outcomes: BTreeMap<String, usize>,
    /// Issues by status at the end of the run.
    pub issues: BTreeMap<String, usize>,
}

impl RunSummary {
    pub fn count(&mut self, outcome: &Outcome) {
        self.sessions += 1;
        *self
            .outcomes
            .entry(outcome_name(outcome).to_string())
            .or_default() += 1;
    }
}

pub fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done => "done",
        Outcome::Overflowed { .. } => "overflowed",
        Outcome::Escalated { .. } => "escalated",
        Outcome::VerifyFailed { .. } => "verify_failed",
        Outcome::Error { .. } => "error",
        Outcome::Asked(_) => "asked",
    }
}
