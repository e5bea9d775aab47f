//! After a crash: claims whose orchestrator is gone or whose lease expired go back to the
//! queue, and agent processes a dead orchestrator left behind are stopped.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use agentry_core::session::snapshot::SCHEMA_VERSION;
use agentry_core::session::{Attempts, Snapshot, SnapshotStatus, Stage};
use agentry_core::{EventType, Status, Timestamp};
use agentry_process::{groups_tagged, is_alive, stop_group};
use agentry_store::StoreError;
use agentry_store::session::{AgentRunEnd, Claim, SessionEnd, SessionRecord};

use crate::Engine;

/// The variable that names an agent's session in its environment.
const SESSION_VAR: &str = "AGENTRY_SESSION_ID";

/// Time a leftover agent gets between SIGTERM and SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// Why a claim whose lease ran out is taken back.
const LEASE_EXPIRED: &str = "lease expired";
/// Why an `in_progress` issue that no session holds goes back to the queue.
const UNHELD: &str = "in_progress without a session holding it";

/// The error of an agent run whose orchestrator died before it ended.
pub(crate) const ORPHANED: &str = "orphaned: its orchestrator is gone";

/// Whether a failed session's reason is recovery's: the orchestrator failed, not the issue.
pub(crate) fn is_take_back(reason: &str) -> bool {
    reason == LEASE_EXPIRED
        || reason == UNHELD
        || (reason.starts_with("orchestrator process ") && reason.ends_with(" is gone"))
}

/// What recovery did, as lines for the log and the run's output.
pub async fn recover(engine: &Engine) -> Result<Vec<String>, StoreError> {
    let mut done = Vec::new();
    let now = Timestamp::now();
    let claims = engine.store.claims()?;
    for claim in &claims {
        if let Some(reason) = why_taken_back(engine, claim, now) {
            take_back(engine, claim, &reason, now)?;
            done.push(format!("{}: {reason}; back in the queue", claim.issue_id));
        }
    }
    done.extend(unclaimed_in_progress(engine, now)?);
    done.extend(stop_leftover_agents(engine).await);
    mark_orphaned_runs(engine, now)?;
    Ok(done)
}

/// An issue left `in_progress` with no claim (its session's end was never written) goes
/// back to the queue with a `SESSION_ERROR` that says so.
fn unclaimed_in_progress(engine: &Engine, now: Timestamp) -> Result<Vec<String>, StoreError> {
    let claimed: HashSet<_> = engine
        .store
        .claims()?
        .into_iter()
        .map(|claim| claim.issue_id)
        .collect();
    let filter = agentry_store::IssueFilter {
        status: Some(Status::InProgress),
        label: None,
    };
    let reason = UNHELD;
    let mut done = Vec::new();
    for issue in engine.store.list_issues(&filter)? {
        if claimed.contains(&issue.id) {
            continue;
        }
        let data = serde_json::json!({ "failed_items": [reason], "reason": reason });
        engine
            .store
            .append_event(&issue.id, EventType::SessionError, &data, now)?;
        engine
            .store
            .set_status(&issue.id, Status::Open, reason, now)?;
        done.push(format!("{}: {reason}; back in the queue", issue.id));
    }
    Ok(done)
}

/// Why a claim is to be taken back, if it is: the process that held it on this host is
/// gone (taken back at once), or its lease expired.
fn why_taken_back(engine: &Engine, claim: &Claim, now: Timestamp) -> Option<String> {
    if claim.orchestrator_id == engine.identity.orchestrator_id {
        return None;
    }
    let same_host = claim.host == engine.identity.host;
    // Our own pid in someone else's claim means that process is gone and its pid reused.
    if same_host && (claim.pid == engine.identity.pid || !is_alive(claim.pid)) {
        return Some(format!(
            "orchestrator process {} on {} is gone",
            claim.pid, claim.host
        ));
    }
    (claim.lease_until <= now).then(|| LEASE_EXPIRED.to_string())
}

/// The orchestrator failed, not the issue: a `SESSION_ERROR` for the record, and the issue
/// straight back to the queue without a backoff.
fn take_back(
    engine: &Engine,
    claim: &Claim,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION.into(),
        session_id: claim.session_id.clone(),
        orchestrator_id: engine.identity.orchestrator_id.clone(),
        issue_id: claim.issue_id.clone(),
        task_id: claim.issue_id.clone(),
        event_type: EventType::SessionError,
        stage: Stage::Running,
        status: SnapshotStatus::Fail,
        attempts: Attempts::default(),
        failed_items: vec![reason.to_string()],
        fix_list: Vec::new(),
        verify: None,
        timestamp: now,
    };
    let end = SessionEnd {
        status: Status::Open,
        reason: reason.to_string(),
        ready_at: None,
        failed: false,
        record: SessionRecord {
            runs: Vec::new(),
            events: vec![(EventType::SessionError, snapshot.to_json())],
        },
    };
    engine.store.end_session(claim, &end, now)?;
    Ok(())
}

/// Stops the agents of this repository whose session no longer holds a claim: a crashed
/// orchestrator's agents, found by the session id in their environment and by working in
/// this repository's worktrees or scratch folder (never another repository's agents).
async fn stop_leftover_agents(engine: &Engine) -> Vec<String> {
    let live: HashSet<String> = match engine.store.claims() {
        Ok(claims) => claims.into_iter().map(|c| c.session_id).collect(),
        Err(_) => return Vec::new(),
    };
    let mut places = vec![engine.scratch.clone()];
    places.extend(engine.workspace.as_ref().map(|ws| ws.worktrees_dir()));
    let places: Vec<PathBuf> = places
        .into_iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut done = Vec::new();
    for group in groups_tagged(SESSION_VAR) {
        let here = group
            .cwd
            .as_ref()
            .is_some_and(|cwd| places.iter().any(|p| cwd.starts_with(p)));
        if here && !live.contains(&group.tag) {
            stop_group(group.pid, ORPHAN_GRACE).await;
            done.push(format!(
                "stopped agent process group {} of ended session {}",
                group.pid, group.tag
            ));
        }
    }
    done
}

/// Agent runs still open in the store whose issue nobody holds: their orchestrator is gone.
fn mark_orphaned_runs(engine: &Engine, now: Timestamp) -> Result<(), StoreError> {
    let held: Vec<_> = engine
        .store
        .claims()?
        .into_iter()
        .map(|c| c.issue_id)
        .collect();
    for run in engine.store.live_agent_runs()? {
        if run.host == engine.identity.host && !held.contains(&run.issue_id) {
            let end = AgentRunEnd {
                error: Some(ORPHANED.into()),
                ..AgentRunEnd::default()
            };
            engine.store.finish_agent_run(run.id, &end, now)?;
        }
    }
    Ok(())
}
