//! A strict review's last check: the verify commands again, in a new worktree holding only
//! what the issue's branch has committed, removed afterwards.

use std::path::PathBuf;
use std::sync::Arc;

use agentry_core::session::Input;
use agentry_workspace::Workspace;

use crate::Engine;
use crate::driver::SessionRun;

/// The checkout's folder inside the session's scratch folder.
pub(crate) const CHECKOUT_DIR: &str = "fresh-worktree";

impl SessionRun {
    /// Runs the verify commands in a fresh checkout of the branch head. Without a workspace
    /// there is no branch: the commands run in the workdir again.
    pub(crate) async fn fresh_verify(&mut self) -> Input {
        let Some(workspace) = self.engine.workspace.clone() else {
            return self.verify().await;
        };
        let path = self.scratch.join(CHECKOUT_DIR);
        let (adding, id, at) = (workspace.clone(), self.issue.id.clone(), path.clone());
        let added = tokio::task::spawn_blocking(move || adding.add_fresh_checkout(&id, &at))
            .await
            .map_err(|e| e.to_string())
            .and_then(|added| added.map_err(|e| e.to_string()));
        if let Err(error) = added {
            return Input::Failed {
                error: format!("could not create a fresh worktree: {error}"),
            };
        }
        let input = self.verify_in(&path, "fresh-verify").await;
        self.drop_fresh_checkout(workspace, path).await;
        input
    }

    async fn drop_fresh_checkout(&self, workspace: Arc<Workspace>, path: PathBuf) {
        let removed =
            tokio::task::spawn_blocking(move || workspace.remove_fresh_checkout(&path)).await;
        if let Ok(Err(err)) = removed {
            tracing::warn!(operation = "worktree", issue_id = %self.issue.id, "could not remove the fresh worktree: {err}");
        }
    }
}

/// After a crash: removes the folder of a session whose orchestrator is gone, and the fresh
/// checkout in it with git's record of it, which would otherwise stay registered for good.
/// Says what it removed, for recovery's report.
pub(crate) fn remove_dead_session_folder(engine: &Engine, session_id: &str) -> Option<String> {
    let scratch = engine.scratch.join(session_id);
    let checkout = scratch.join(CHECKOUT_DIR);
    if let Some(workspace) = engine.workspace.as_ref().filter(|_| checkout.exists())
        && let Err(err) = workspace.remove_fresh_checkout(&checkout)
    {
        tracing::warn!(
            operation = "worktree",
            session_id,
            "could not remove a dead session's fresh worktree: {err}"
        );
    }
    std::fs::remove_dir_all(&scratch)
        .ok()
        .map(|()| format!("removed the folder of ended session {session_id}"))
}
