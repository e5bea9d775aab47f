//! After a crash: claims whose orchestrator is gone or whose lease expired go back to the
//! queue, the agents and verify commands a dead orchestrator left behind are stopped, and
//! the index locks its git left in the worktrees are removed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use agentry_core::session::snapshot::SCHEMA_VERSION;
use agentry_core::session::{Attempts, Snapshot, SnapshotStatus, Stage};
use agentry_core::{EventType, IssueId, Status, Timestamp};
use agentry_process::{groups_tagged, is_alive, stop_group};
use agentry_store::StoreError;
use agentry_store::session::{AgentRunEnd, Claim, SessionEnd, SessionRecord};
use tokio::task::JoinSet;

use crate::{Engine, conflict_resolve, fresh_verify};

/// The variable that names the session of an agent or a verify command in its environment.
pub(crate) const SESSION_VAR: &str = "AGENTRY_SESSION_ID";

/// Time a leftover agent gets between SIGTERM and SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// Why a claim whose lease ran out is taken back.
const LEASE_EXPIRED: &str = "lease expired";
/// Why an `in_progress` issue that no session holds goes back to the queue.
pub(crate) const UNHELD: &str = "in_progress without a session holding it";

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
            let went = take_back(engine, claim, &reason, now)?;
            done.push(format!("{}: {reason}; {went}", claim.issue_id));
            // An expired lease may be a stalled process that still uses its folder.
            if reason != LEASE_EXPIRED {
                done.extend(fresh_verify::remove_dead_session_folder(
                    engine,
                    &claim.session_id,
                ));
            }
        }
    }
    done.extend(unclaimed_in_progress(engine, now)?);
    done.extend(stop_leftover_groups(engine).await);
    done.extend(remove_stale_index_locks(engine).await);
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
        let (status, why, went) = where_taken_back(engine, &issue.id, reason)?;
        engine.store.set_status(&issue.id, status, &why, now)?;
        clear_freeze(engine, &issue.id, status)?;
        done.push(format!("{}: {reason}; {went}", issue.id));
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

/// Where an issue taken back goes: back in the queue, or blocked when `conflict-resolve`
/// froze it while its session ran. The status, the reason it is given, and how recovery's
/// report line ends.
fn where_taken_back(
    engine: &Engine,
    id: &IssueId,
    reason: &str,
) -> Result<(Status, String, String), StoreError> {
    Ok(
        match conflict_resolve::pending_freeze(engine.store.as_ref(), id)? {
            Some(freeze) => (
                Status::Blocked,
                freeze.clone(),
                format!("blocked: {freeze}"),
            ),
            None => (Status::Open, reason.to_string(), "back in the queue".into()),
        },
    )
}

fn clear_freeze(engine: &Engine, id: &IssueId, status: Status) -> Result<(), StoreError> {
    match status {
        Status::Blocked => conflict_resolve::clear_pending_freeze(engine.store.as_ref(), id),
        _ => Ok(()),
    }
}

/// The orchestrator failed, not the issue: a `SESSION_ERROR` for the record, and the issue
/// straight back to the queue without a backoff (or blocked, if it was frozen meanwhile).
/// Says where it went, for the report line.
pub(crate) fn take_back(
    engine: &Engine,
    claim: &Claim,
    reason: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    let (status, why, went) = where_taken_back(engine, &claim.issue_id, reason)?;
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
        status,
        reason: why,
        ready_at: None,
        failed: false,
        record: SessionRecord {
            runs: Vec::new(),
            events: vec![(EventType::SessionError, snapshot.to_json())],
        },
    };
    engine.store.end_session(claim, &end, now)?;
    clear_freeze(engine, &claim.issue_id, status)?;
    Ok(went)
}

/// Stops the agents and verify commands of this repository whose session no longer holds a
/// claim: a crashed orchestrator's, found by the session id in their environment and by
/// working in this repository's worktrees or scratch folder (never another repository's).
/// All at once: each gets its grace period side by side with the others.
async fn stop_leftover_groups(engine: &Engine) -> Vec<String> {
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
    let mut stopping = JoinSet::new();
    for group in groups_tagged(SESSION_VAR) {
        let here = group
            .cwd
            .as_ref()
            .is_some_and(|cwd| places.iter().any(|p| cwd.starts_with(p)));
        if here && !live.contains(&group.tag) {
            stopping.spawn(stop_group(group.pid, ORPHAN_GRACE));
            done.push(format!(
                "stopped process group {} of ended session {}",
                group.pid, group.tag
            ));
        }
    }
    stopping.join_all().await;
    done
}

/// Removes the `index.lock` files a killed git left in the git dirs of worktrees that no
/// live session holds, before the next session there trips over them.
async fn remove_stale_index_locks(engine: &Engine) -> Vec<String> {
    let Some(workspace) = engine.workspace.clone() else {
        return Vec::new();
    };
    let held: Vec<IssueId> = match engine.store.claims() {
        Ok(claims) => claims.into_iter().map(|c| c.issue_id).collect(),
        Err(_) => return Vec::new(),
    };
    tokio::task::spawn_blocking(move || workspace.remove_stale_index_locks(&held))
        .await
        .map_err(|e| e.to_string())
        .and_then(|removed| removed.map_err(|e| e.to_string()))
        .unwrap_or_else(|err| {
            tracing::warn!(
                operation = "recovery",
                "cannot remove stale index locks: {err}"
            );
            Vec::new()
        })
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use agentry_core::NewIssue;
    use agentry_core::config::Config;
    use agentry_store::session::ClaimHolder;
    use agentry_store::{SqliteStore, Store};
    use serde_json::json;

    use super::*;
    use crate::fresh_verify::CHECKOUT_DIR;
    use crate::{Identity, Prompts, RoleAgents, Settings};

    fn engine(store: Arc<dyn Store>, scratch: PathBuf) -> Engine {
        Engine {
            prompts: Prompts::from_store(store.as_ref()).unwrap(),
            store,
            workspace: None,
            agents: RoleAgents::default(),
            settings: Settings::from_config(&Config::default(), None),
            identity: Identity::current(),
            scratch,
        }
    }

    /// A claim of another orchestrator whose lease has run out.
    fn expired_claim(store: &dyn Store, id: &IssueId, now: Timestamp) {
        let holder = ClaimHolder {
            session_id: "s-gone".into(),
            orchestrator_id: "elsewhere-1-0000".into(),
            host: "elsewhere".into(),
            pid: 1,
        };
        let lease_until = now.plus_secs(-1);
        let claimed = store.claim(id, &holder, lease_until, now.plus_secs(-60));
        assert!(claimed.unwrap().claimed().is_some());
    }

    #[tokio::test]
    async fn a_taken_back_issue_frozen_meanwhile_is_blocked_not_requeued() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap());
        let (now, before) = (Timestamp::now(), Timestamp::now().plus_secs(-120));
        let frozen = store
            .create_issue(NewIssue::new("frozen"), before)
            .unwrap()
            .id;
        let plain = store
            .create_issue(NewIssue::new("plain"), before)
            .unwrap()
            .id;
        expired_claim(store.as_ref(), &frozen, now);
        expired_claim(store.as_ref(), &plain, now);
        let reason = "its branch conflicts with i-owner's in a.txt";
        store
            .put_state(&format!("freeze:{frozen}"), &json!(reason), now)
            .unwrap();

        let lines = recover(&engine(store.clone(), dir.path().into()))
            .await
            .unwrap();

        assert_eq!(store.issue(&frozen).unwrap().status, Status::Blocked);
        assert_eq!(store.issue(&plain).unwrap().status, Status::Open);
        assert_eq!(
            conflict_resolve::pending_freeze(store.as_ref(), &frozen).unwrap(),
            None
        );
        let line = format!("{frozen}: {LEASE_EXPIRED}; blocked: {reason}");
        assert!(lines.contains(&line), "{lines:?}");
        let last = store.events(&frozen).unwrap().pop().unwrap();
        assert_eq!(last.data["reason"], reason);
    }

    /// A repository on `main` with one commit.
    fn git_repo(root: &std::path::Path) {
        std::fs::create_dir_all(root).unwrap();
        std::fs::write(root.join("README"), "hello\n").unwrap();
        let identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"];
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["add", "README"],
            &[identity.as_slice(), &["commit", "-q", "-m", "initial"]].concat(),
        ] {
            let done = std::process::Command::new("git")
                .arg("-C")
                .arg(root)
                .args(args)
                .output()
                .unwrap();
            assert!(done.status.success(), "git {args:?}: {done:?}");
        }
    }

    #[tokio::test]
    async fn a_dead_sessions_folder_and_its_fresh_worktree_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (root, scratch) = (dir.path().join("repo"), dir.path().join("scratch"));
        git_repo(&root);
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap());
        let now = Timestamp::now();
        let id = store.create_issue(NewIssue::new("strict"), now).unwrap().id;
        let workspace = Arc::new(agentry_workspace::Workspace::new(root.clone()));
        workspace.prepare(&id, "main").unwrap();
        let mut engine = engine(store.clone(), scratch.clone());
        engine.workspace = Some(workspace.clone());
        // Our own pid under another orchestrator's id: that process is gone.
        let holder = ClaimHolder {
            session_id: "s-dead".into(),
            orchestrator_id: "gone-1-0000".into(),
            host: engine.identity.host.clone(),
            pid: engine.identity.pid,
        };
        store.claim(&id, &holder, now.plus_secs(600), now).unwrap();
        let checkout = scratch.join("s-dead").join(CHECKOUT_DIR);
        workspace.add_fresh_checkout(&id, &checkout).unwrap();

        let lines = recover(&engine).await.unwrap();

        assert!(!scratch.join("s-dead").exists());
        let removed = "removed the folder of ended session s-dead".to_string();
        assert!(lines.contains(&removed), "{lines:?}");
        let listed = std::process::Command::new("git")
            .args(["-C", &root.to_string_lossy(), "worktree", "list"])
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(!listed.contains(CHECKOUT_DIR), "{listed}");
        assert_eq!(listed.lines().count(), 2, "main and the issue's: {listed}");
    }
}
