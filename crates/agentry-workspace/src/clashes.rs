//! What issue branches changed, and whether two of them would conflict when merged: what
//! `agentry conflict-resolve` compares.

use agentry_core::IssueId;

use crate::{Workspace, WorkspaceError, git};

impl Workspace {
    /// The files branch `agentry/<id>` changed since it forked from `base`
    /// (`git diff --name-only base...branch`); `None` when there is no such branch.
    pub fn changed_files(
        &self,
        issue: &IssueId,
        base: &str,
    ) -> Result<Option<Vec<String>>, WorkspaceError> {
        let _lock = self.lock();
        if self.head_of(issue)?.is_none() {
            return Ok(None);
        }
        let range = format!("{base}...{}", Self::branch_name(issue));
        let names = git::run(
            &self.root,
            &["diff", "--name-only", "--no-renames", &range, "--"],
        )?;
        Ok(Some(names.lines().map(str::to_string).collect()))
    }

    /// The files in which merging the branches of `a` and `b` would conflict
    /// (`git merge-tree --write-tree --name-only`, git 2.38 or later); empty when they merge
    /// cleanly. Nothing is written to any branch or worktree.
    pub fn merge_conflicts(&self, a: &IssueId, b: &IssueId) -> Result<Vec<String>, WorkspaceError> {
        let _lock = self.lock();
        let (a, b) = (Self::branch_name(a), Self::branch_name(b));
        let args = [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            &a,
            &b,
        ];
        let (clean, output) = git::run_answering(&self.root, &args)?;
        if clean {
            return Ok(Vec::new());
        }
        // The first line is the merged tree; the conflicted files follow.
        let mut files: Vec<String> = output.lines().skip(1).map(str::to_string).collect();
        files.sort();
        files.dedup();
        Ok(files)
    }
}
