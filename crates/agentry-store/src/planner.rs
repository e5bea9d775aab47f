//! Planner runs and the plans the contract rejected: what the planner health report and the
//! `planner_contract_failure_total` counter read.

use std::fmt;
use std::str::FromStr;

use agentry_core::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// How a planner run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PlannerOutcome {
    /// A plan, accepted at the first answer.
    Success,
    /// A plan, accepted only after the contract rejected earlier answers.
    Partial,
    /// No plan: the model failed, or every answer was rejected.
    Failed,
    /// Stopped before it ended.
    Cancelled,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown planner outcome {0:?}")]
pub struct PlannerOutcomeParseError(String);

impl PlannerOutcome {
    pub const ALL: [PlannerOutcome; 4] = [
        PlannerOutcome::Success,
        PlannerOutcome::Partial,
        PlannerOutcome::Failed,
        PlannerOutcome::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlannerOutcome::Success => "Success",
            PlannerOutcome::Partial => "Partial",
            PlannerOutcome::Failed => "Failed",
            PlannerOutcome::Cancelled => "Cancelled",
        }
    }
}

impl fmt::Display for PlannerOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for PlannerOutcome {
    type Err = PlannerOutcomeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlannerOutcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == s)
            .ok_or_else(|| PlannerOutcomeParseError(s.to_string()))
    }
}

/// How a run ended, as `finish_planner_run` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannerRunEnd {
    pub outcome: PlannerOutcome,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Answers asked of the model.
    pub attempts: u32,
}

/// One planner run as recorded; `end` is None while it runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannerRun {
    pub id: i64,
    pub planner: String,
    pub params: Value,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub end: Option<PlannerRunEnd>,
}
