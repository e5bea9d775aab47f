//! The status snapshot: `agentry status` and `GET /api/v1/status` print it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Conditions, needs_investigation, recommended_actions};
use crate::flags::FlagValue;
use crate::{EventType, IssueId, Timestamp};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusSnapshot {
    pub generated_at: Timestamp,
    pub orchestrator: OrchestratorStatus,
    pub queue: QueueStatus,
    pub sessions: SessionsStatus,
    pub flags: Vec<FlagValue>,
    pub recent_errors: Vec<RecentError>,
    pub readiness_notes: Vec<String>,
    pub recommended_actions: Vec<String>,
    /// Blocked issues waiting on an answer to their implementer's question.
    pub questions: Vec<WaitingQuestion>,
    /// What the actions were computed from.
    pub conditions: Conditions,
}

impl StatusSnapshot {
    /// Assembles the snapshot, computing the actions and notes from what it holds.
    pub fn new(
        generated_at: Timestamp,
        orchestrator: OrchestratorStatus,
        queue: QueueStatus,
        active: Vec<ActiveSession>,
        flags: Vec<FlagValue>,
        recent_errors: Vec<RecentError>,
        conditions: Conditions,
    ) -> Self {
        let readiness_notes = readiness_notes(&orchestrator, &queue, active.len());
        StatusSnapshot {
            generated_at,
            recommended_actions: recommended_actions(&conditions),
            readiness_notes,
            orchestrator,
            queue,
            sessions: SessionsStatus {
                active,
                last_24h: conditions.sessions,
            },
            flags,
            recent_errors,
            questions: Vec::new(),
            conditions,
        }
    }

    /// Adds the issues waiting on an answer, and a readiness note naming them.
    pub fn with_questions(mut self, questions: Vec<WaitingQuestion>) -> Self {
        if let Some(first) = questions.first() {
            self.readiness_notes.push(format!(
                "{} issue(s) wait on an answer to a question: answer with `agentry answer {} \"...\"`.",
                questions.len(),
                first.issue_id
            ));
        }
        self.questions = questions;
        self
    }

    /// True when the run guard must refuse to dispatch.
    pub fn needs_investigation(&self) -> bool {
        needs_investigation(&self.recommended_actions)
    }
}

/// A blocked issue's open question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitingQuestion {
    pub issue_id: IssueId,
    pub question: String,
    pub asked_at: Timestamp,
}

/// The dispatcher that last wrote a heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrchestratorStatus {
    pub id: Option<String>,
    /// A heartbeat came within the last two lease ticks.
    pub running: bool,
    pub workers: u32,
    pub backend: String,
    pub heartbeat_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueStatus {
    pub depth: BTreeMap<&'static str, usize>,
    pub ready: usize,
    pub oldest_ready_age_s: Option<f64>,
    pub next_ready_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionsStatus {
    pub active: Vec<ActiveSession>,
    pub last_24h: SessionCounts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActiveSession {
    pub issue_id: IssueId,
    pub session_id: String,
    pub orchestrator_id: String,
    pub host: String,
    pub pid: u32,
    pub claimed_at: Timestamp,
    pub lease_until: Timestamp,
}

/// How sessions ended, by their terminal event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionCounts {
    pub done: u32,
    pub overflowed: u32,
    pub verify_failed: u32,
    pub error: u32,
}

impl SessionCounts {
    pub fn ended(&self) -> u32 {
        self.done + self.overflowed + self.verify_failed + self.error
    }

    /// Whether an event is the one that ends a session.
    pub fn ends_session(event_type: EventType) -> bool {
        matches!(
            event_type,
            EventType::SessionDone
                | EventType::OverflowFixCreated
                | EventType::VerifyFailed
                | EventType::SessionError
        )
    }

    /// Counts one event if it ends a session.
    pub fn count(&mut self, event_type: EventType) {
        match event_type {
            EventType::SessionDone => self.done += 1,
            EventType::OverflowFixCreated => self.overflowed += 1,
            EventType::VerifyFailed => self.verify_failed += 1,
            EventType::SessionError => self.error += 1,
            _ => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecentError {
    pub issue_id: IssueId,
    pub event_type: EventType,
    pub reason: String,
    pub at: Timestamp,
}

fn readiness_notes(
    orchestrator: &OrchestratorStatus,
    queue: &QueueStatus,
    active: usize,
) -> Vec<String> {
    let orchestrator_note = match (&orchestrator.id, orchestrator.running) {
        (Some(id), true) => format!(
            "Orchestrator {id} is running with {} workers ({} scheduling).",
            orchestrator.workers, orchestrator.backend
        ),
        _ => "No orchestrator is running: start `agentry run` or `agentry serve`.".to_string(),
    };
    let queue_note = match (queue.ready, active) {
        (0, 0) => "Queue idle: nothing is ready and no session runs.".to_string(),
        (ready, active) => format!(
            "Queue active: {ready} ready, {active} sessions running{}.",
            queue
                .oldest_ready_age_s
                .map(|age| format!(", the oldest ready issue has waited {age:.0} s"))
                .unwrap_or_default()
        ),
    };
    vec![orchestrator_note, queue_note]
}
