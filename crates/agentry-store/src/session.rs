//! What the store keeps for running sessions: claims with leases and fencing tokens, the end
//! of a session, agent runs, and merge evidence.

use agentry_core::scope_lock::ScopeWait;
use agentry_core::{EventType, IssueId, Status, Timestamp};
use serde::Serialize;
use serde_json::Value;

/// Who holds a claim: the session, and the orchestrator process that runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimHolder {
    pub session_id: String,
    pub orchestrator_id: String,
    pub host: String,
    pub pid: u32,
}

/// A claim on an issue. Every write a session makes carries it; the store refuses a claim
/// whose token is no longer the issue's current one (its lease expired and it was taken back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub issue_id: IssueId,
    pub token: i64,
    pub session_id: String,
    pub orchestrator_id: String,
    pub host: String,
    pub pid: u32,
    pub claimed_at: Timestamp,
    pub lease_until: Timestamp,
    /// Failed sessions of this issue before this one.
    pub failed_sessions: u32,
}

/// What an attempt to claim an issue came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimAttempt {
    Claimed(Claim),
    /// The issue is no longer ready, or another session claimed it first.
    Taken,
    /// Its scope may overlap the scope of an issue being worked on, or a scope lock.
    WaitsFor(ScopeWait),
}

impl ClaimAttempt {
    /// The claim, if the attempt got one.
    pub fn claimed(self) -> Option<Claim> {
        match self {
            ClaimAttempt::Claimed(claim) => Some(claim),
            ClaimAttempt::Taken | ClaimAttempt::WaitsFor(_) => None,
        }
    }
}

/// How a session leaves its issue.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionEnd {
    pub status: Status,
    pub reason: String,
    /// A new `ready_at` (a backoff), if the issue goes back to the queue.
    pub ready_at: Option<Timestamp>,
    /// Whether this counts as a failed session of the issue (not when the orchestrator failed).
    pub failed: bool,
    /// The session's last records (its terminal event), written in the same transaction.
    pub record: SessionRecord,
}

/// What a session writes at one step, in one transaction: the agent runs that ended without
/// a process to watch, then its events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionRecord {
    pub runs: Vec<(NewAgentRun, AgentRunEnd)>,
    pub events: Vec<(EventType, Value)>,
}

/// An agent run as it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAgentRun {
    pub issue_id: IssueId,
    pub session_id: String,
    pub role: String,
    pub backend: String,
    pub host: String,
    /// The agent's process, so that a restarted orchestrator can stop it; `None` in-process.
    pub pid: Option<u32>,
    pub started_at: Timestamp,
    /// Where the run's normalised events are kept (JSON Lines), if they are.
    pub log_ref: Option<String>,
}

/// How an agent run ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentRunEnd {
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub model: Option<String>,
    pub turns: Option<u32>,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub tokens_cache: Option<u64>,
    pub cost_usd: Option<f64>,
}

/// A recorded agent run, as `agentry runs` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentRun {
    pub id: i64,
    pub issue_id: IssueId,
    pub session_id: String,
    pub role: String,
    pub backend: String,
    pub host: String,
    pub pid: Option<u32>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub log_ref: Option<String>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub model: Option<String>,
    pub turns: Option<u32>,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub tokens_cache: Option<u64>,
    pub cost_usd: Option<f64>,
}

/// An agent run that has a process and no end yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveAgentRun {
    pub id: i64,
    pub issue_id: IssueId,
    pub host: String,
    pub pid: u32,
}

/// What merge evidence did to an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MergeResult {
    /// The same evidence was seen before; nothing written.
    AlreadyRecorded,
    Closed {
        parents_closed: Vec<IssueId>,
    },
    SkippedAlreadyClosed,
    Rejected {
        reason: String,
    },
}
