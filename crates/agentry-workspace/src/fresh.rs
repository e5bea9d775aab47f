//! Throw-away checkouts of an issue branch's committed head, for a verification that sees only
//! what was committed.

use std::path::Path;

use agentry_core::IssueId;

use crate::{Workspace, WorkspaceError, git};

impl Workspace {
    /// Adds a worktree at `path` with the head of branch `agentry/<id>` checked out detached
    /// (the branch stays free for the issue's own worktree). Files the issue's worktree has
    /// but never committed, ignored ones included, are not there.
    pub fn add_fresh_checkout(&self, issue: &IssueId, path: &Path) -> Result<(), WorkspaceError> {
        let _lock = self.lock();
        let branch = Self::branch_name(issue);
        let path = path.to_string_lossy();
        git::run(
            &self.root,
            &["worktree", "add", "--quiet", "--detach", &path, &branch],
        )?;
        Ok(())
    }

    /// Removes a checkout made by [`Workspace::add_fresh_checkout`], and git's record of it.
    pub fn remove_fresh_checkout(&self, path: &Path) -> Result<(), WorkspaceError> {
        let _lock = self.lock();
        let path = path.to_string_lossy();
        git::run(&self.root, &["worktree", "remove", "--force", &path])?;
        git::run(&self.root, &["worktree", "prune"])?;
        Ok(())
    }
}
