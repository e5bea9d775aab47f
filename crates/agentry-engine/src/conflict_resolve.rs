//! `agentry conflict-resolve`: finds issue branches (in progress or waiting in review) that
//! change the same files or would conflict when merged, and freezes the later issue of each
//! such pair until the earlier one is merged. Who freezes is `agentry_core::conflict`'s rule;
//! this gathers the branches, asks git, and carries the decision out when told to.

use std::path::Path;

use agentry_core::conflict::{Clash, Freeze, clash_of, freeze_reason, freezes, merge_path};
use agentry_core::{EventType, Issue, IssueId, Status, Timestamp};
use agentry_store::{IssueFilter, Store, StoreError};
use agentry_workspace::{Workspace, WorkspaceError};
use serde::Serialize;
use serde_json::json;

/// What `conflict-resolve` found, and whether it froze the issues it names.
#[derive(Clone, Debug, Serialize)]
pub struct ConflictReport {
    pub base: String,
    pub applied: bool,
    /// The issues whose branches were compared, earliest created first.
    pub compared: Vec<IssueId>,
    pub freezes: Vec<FreezeReport>,
}

/// One issue to freeze: the issue that owns the files, what they clash over and how to go on.
#[derive(Clone, Debug, Serialize)]
pub struct FreezeReport {
    #[serde(flatten)]
    pub freeze: Freeze,
    pub reason: String,
    pub merge_path: String,
    /// The issue has a session running: it is frozen when that session ends, instead of
    /// going to review or back to the queue.
    pub when_session_ends: bool,
}

/// The state-object keys of freezes waiting for a running session to end start with this.
const PENDING_KEY_PREFIX: &str = "freeze:";

#[derive(Debug, thiserror::Error)]
pub enum ConflictError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] WorkspaceError),
}

/// Compares the branches of the repository at `root` against `base` and, with `apply`, blocks each frozen issue with its reason and
/// records `CONFLICT_FOUND` on it and on its owner.
pub fn resolve(
    store: &dyn Store,
    root: &Path,
    base: &str,
    apply: bool,
    now: Timestamp,
) -> Result<ConflictReport, ConflictError> {
    let workspace = Workspace::new(root.to_path_buf());
    let branches = branches(store, &workspace, base)?;
    let mut clashes = Vec::new();
    for (i, (a, a_files)) in branches.iter().enumerate() {
        for (b, b_files) in &branches[i + 1..] {
            let conflicted = workspace.merge_conflicts(&a.id, &b.id)?;
            if let Some((kind, files)) = clash_of(a_files, b_files, conflicted) {
                let (a, b) = (a.id.clone(), b.id.clone());
                clashes.push(Clash { a, b, kind, files });
            }
        }
    }
    let compared: Vec<IssueId> = branches.into_iter().map(|(issue, _)| issue.id).collect();
    let claimed: Vec<IssueId> = store.claims()?.into_iter().map(|c| c.issue_id).collect();
    let freezes: Vec<FreezeReport> = freezes(&compared, &clashes)
        .into_iter()
        .map(|freeze| FreezeReport {
            reason: freeze_reason(&freeze, base),
            merge_path: merge_path(&freeze, base),
            when_session_ends: claimed.contains(&freeze.frozen),
            freeze,
        })
        .collect();
    if apply {
        freezes.iter().try_for_each(|f| carry_out(store, f, now))?;
    }
    Ok(ConflictReport {
        base: base.to_string(),
        applied: apply,
        compared,
        freezes,
    })
}

/// The issues in progress or in review that have a branch with changes, each with the files
/// it changed, earliest created first: the earlier of two issues is the one that was asked
/// for first, a fact no session timing or retry changes.
fn branches(
    store: &dyn Store,
    workspace: &Workspace,
    base: &str,
) -> Result<Vec<(Issue, Vec<String>)>, ConflictError> {
    let mut branches = Vec::new();
    for status in [Status::InProgress, Status::NeedsReview] {
        let filter = IssueFilter {
            status: Some(status),
            label: None,
        };
        for issue in store.list_issues(&filter)? {
            match workspace.changed_files(&issue.id, base)? {
                Some(files) if !files.is_empty() => branches.push((issue, files)),
                _ => {}
            }
        }
    }
    branches.sort_by(|(a, _), (b, _)| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(branches)
}

/// Blocks the frozen issue, or, while a session runs it, leaves the reason for that session's
/// end (see [`pending_freeze`]): a status changed under a running session would be undone by
/// its end.
fn carry_out(store: &dyn Store, report: &FreezeReport, now: Timestamp) -> Result<(), StoreError> {
    let freeze = &report.freeze;
    match report.when_session_ends {
        true => store.put_state(&pending_key(&freeze.frozen), &json!(report.reason), now)?,
        false => {
            store.set_status(&freeze.frozen, Status::Blocked, &report.reason, now)?;
        }
    }
    let data = json!({
        "frozen": freeze.frozen,
        "owner": freeze.owner,
        "kind": freeze.kind,
        "files": freeze.files,
        "merge_path": report.merge_path,
    });
    for id in [&freeze.frozen, &freeze.owner] {
        store.append_event(id, EventType::ConflictFound, &data, now)?;
    }
    Ok(())
}

/// The reason a running session's issue is to be frozen when the session ends, if it is.
pub fn pending_freeze(store: &dyn Store, id: &IssueId) -> Result<Option<String>, StoreError> {
    let entry = store.state(&pending_key(id))?;
    Ok(entry.and_then(|e| e.value.as_str().map(str::to_string)))
}

/// Forgets the pending freeze of `id` once its session has ended blocked.
pub fn clear_pending_freeze(store: &dyn Store, id: &IssueId) -> Result<(), StoreError> {
    store.delete_state(&pending_key(id)).map(|_| ())
}

fn pending_key(id: &IssueId) -> String {
    format!("{PENDING_KEY_PREFIX}{id}")
}
