//! Putting the worktrees back in order after a crash.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use agentry_core::IssueId;

use crate::worktrees::{self, canonical};
use crate::{Workspace, WorkspaceError, git};

impl Workspace {
    /// After a crash: forgets worktrees whose directory is gone (`git worktree prune`), removes
    /// `index.lock` files a killed git left in the issue worktrees, and removes directories
    /// under `.agentry/worktrees` that git does not know as worktrees. Returns what it
    /// repaired, one line each, for a log. Call it only when no session of this repository
    /// is running: a live git command's lock looks the same as a stale one.
    pub fn repair(&self) -> Result<Vec<String>, WorkspaceError> {
        let _lock = self.lock();
        let mut repaired = self.prune()?;
        repaired.extend(self.remove_index_locks(&[])?);
        let ours = self.issue_worktrees()?;
        repaired.extend(self.remove_unknown_dirs(&ours)?);
        Ok(repaired)
    }

    /// Removes the `index.lock` files a killed git left in the git dirs of the issue
    /// worktrees, except those of the issues in `held`: a live session's git may be holding
    /// its lock. Returns what it removed, one line each, for a log.
    pub fn remove_stale_index_locks(
        &self,
        held: &[IssueId],
    ) -> Result<Vec<String>, WorkspaceError> {
        let _lock = self.lock();
        self.remove_index_locks(held)
    }

    fn remove_index_locks(&self, held: &[IssueId]) -> Result<Vec<String>, WorkspaceError> {
        let dir = canonical(&self.worktrees_dir());
        let held: Vec<PathBuf> = held
            .iter()
            .map(|id| canonical(&self.worktree_path(id)))
            .collect();
        let mut removed = Vec::new();
        for tree in self.registered_trees()? {
            let path = canonical(&tree.work_tree);
            if path.starts_with(&dir) && !held.contains(&path) {
                removed.extend(remove_index_lock(&tree.git_dir)?);
            }
        }
        Ok(removed)
    }

    fn prune(&self) -> Result<Vec<String>, WorkspaceError> {
        let gone: Vec<String> = worktrees::list(&self.root)?
            .into_iter()
            .filter(|w| w.prunable)
            .map(|w| {
                format!(
                    "pruned worktree {} whose directory is gone",
                    w.path.display()
                )
            })
            .collect();
        git::run(&self.root, &["worktree", "prune"])?;
        Ok(gone)
    }

    /// The registered worktrees under `.agentry/worktrees`, as canonical paths.
    fn issue_worktrees(&self) -> Result<Vec<PathBuf>, WorkspaceError> {
        let dir = canonical(&self.worktrees_dir());
        Ok(worktrees::list(&self.root)?
            .into_iter()
            .map(|w| canonical(&w.path))
            .filter(|path| path.starts_with(&dir))
            .collect())
    }

    fn remove_unknown_dirs(&self, known: &[PathBuf]) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.worktrees_dir();
        let entries = match fs::read_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            entries => entries.map_err(WorkspaceError::io(&dir))?,
        };
        let mut removed = Vec::new();
        for entry in entries {
            let path = entry.map_err(WorkspaceError::io(&dir))?.path();
            if path.is_dir() && !known.contains(&canonical(&path)) {
                fs::remove_dir_all(&path).map_err(WorkspaceError::io(&path))?;
                removed.push(format!(
                    "removed {}, which git does not know as a worktree",
                    path.display()
                ));
            }
        }
        Ok(removed)
    }
}

/// Removes `index.lock` from a worktree's git dir (found from the repository, never through
/// the worktree's own `.git`, which may lead elsewhere).
fn remove_index_lock(git_dir: &Path) -> Result<Option<String>, WorkspaceError> {
    let lock = git_dir.join("index.lock");
    match fs::remove_file(&lock) {
        Ok(()) => Ok(Some(format!("removed stale {}", lock.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(WorkspaceError::Io { path: lock, source }),
    }
}
