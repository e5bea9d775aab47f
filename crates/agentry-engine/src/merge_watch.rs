//! Merge-close: a `needs_review` issue whose branch a person merged into the base is closed.

use agentry_core::session::is_fix_issue;
use agentry_core::{IssueId, Status, Timestamp};
use agentry_store::IssueFilter;
use agentry_store::session::MergeResult;
use serde_json::json;

use crate::Engine;

/// Looks once at every issue waiting in review; returns what merge evidence did to each.
pub async fn scan(engine: &Engine) -> Result<Vec<(IssueId, MergeResult)>, String> {
    let Some(workspace) = engine.workspace.clone() else {
        return Ok(Vec::new());
    };
    let mut waiting = engine
        .store
        .list_issues(&IssueFilter {
            status: Some(Status::NeedsReview),
            label: None,
        })
        .map_err(|e| e.to_string())?;
    // A merged [FIX] issue closes the issue it was split from; look at it first, so that
    // issue is closed by it rather than judged on its own.
    waiting.sort_by_key(|issue| !is_fix_issue(issue));
    let mut results = Vec::new();
    for issue in waiting {
        if engine
            .store
            .issue(&issue.id)
            .map_err(|e| e.to_string())?
            .status
            != Status::NeedsReview
        {
            continue;
        }
        let (ws, id, base) = (
            workspace.clone(),
            issue.id.clone(),
            engine.settings.base_branch.clone(),
        );
        let merged = tokio::task::spawn_blocking(move || ws.merged_into(&id, &base))
            .await
            .map_err(|e| e.to_string())?;
        let Some(evidence) = merged.map_err(|e| e.to_string())? else {
            continue;
        };
        let key = format!(
            "{}#{}",
            agentry_workspace::Workspace::branch_name(&issue.id),
            evidence.branch_head
        );
        let data = json!({ "branch_head": evidence.branch_head, "base_head": evidence.base_head, "base": engine.settings.base_branch });
        let result = engine
            .store
            .record_merge(&issue.id, &key, &data, Timestamp::now())
            .map_err(|e| e.to_string())?;
        if let MergeResult::Closed { parents_closed } = &result {
            for closed in std::iter::once(&issue.id).chain(parents_closed) {
                let (ws, id) = (workspace.clone(), closed.clone());
                let _ = tokio::task::spawn_blocking(move || ws.remove(&id)).await;
            }
        }
        if result != MergeResult::AlreadyRecorded {
            results.push((issue.id, result));
        }
    }
    Ok(results)
}
