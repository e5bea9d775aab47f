//! The operator's view of a running system: the conditions found in the store, the
//! recommended actions computed from them, and the status snapshot that carries both.
//!
//! Actions are ordered: "Investigate ..." first (the run guard refuses to dispatch while any
//! stands), then "Enable ...", then "Monitor ...".

mod actions;
mod alerts;
pub mod planner;
mod snapshot;

pub use actions::{INVESTIGATE, MONITOR_HEALTHY, needs_investigation, recommended_actions};
pub use alerts::{READY_WAIT_ALERT_SECS, raised_alerts};
pub use snapshot::{
    ActiveSession, OrchestratorStatus, QueueStatus, RecentError, SessionCounts, StatusSnapshot,
    WaitingQuestion,
};

use serde::Serialize;

use crate::{IssueId, Timestamp};

/// How many sessions in a row must end in `SESSION_ERROR` before an issue needs a person.
pub const REPEATED_ERRORS: u32 = 2;

/// The share of sessions that normally overflow into a `[FIX]` issue; above it, someone
/// should look at the reviewers or the specs.
pub const OVERFLOW_BASELINE: f64 = 0.25;

/// Fewer sessions than this in the window say nothing about the overflow rate.
pub const OVERFLOW_MIN_SESSIONS: u32 = 4;

/// What the status reads from the store and the agents before deciding what to recommend.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Conditions {
    pub plan_rewrite: LeanFeature,
    pub field_fallback: LeanFeature,
    /// Issues whose latest sessions all failed with `SESSION_ERROR`.
    pub repeated_errors: Vec<RepeatedError>,
    /// How the sessions of the last 24 hours ended.
    pub sessions: SessionCounts,
    /// `loop_snapshot.v1` events that failed validation, one line each.
    pub snapshot_errors: Vec<String>,
    /// Claims held past their lease: their holder stopped renewing them.
    pub stale_leases: Vec<StaleLease>,
    /// Agents whose latest runs all failed.
    pub failing_agents: Vec<AgentFailure>,
    /// Agents paused by their provider's rate limit.
    pub paused_agents: Vec<AgentPause>,
    /// Set when today's spending reached the per-day budget.
    pub budget_spent: Option<BudgetSpent>,
}

/// A lean parse fallback: whether it is on, and its last error if it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeanFeature {
    pub enabled: bool,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepeatedError {
    pub issue_id: IssueId,
    pub errors: u32,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaleLease {
    pub issue_id: IssueId,
    pub session_id: String,
    pub lease_until: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentFailure {
    pub agent: String,
    pub failed_runs: u32,
    pub error: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentPause {
    pub agent: String,
    pub until: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetSpent {
    pub spent_usd: f64,
    pub limit_usd: f64,
}
