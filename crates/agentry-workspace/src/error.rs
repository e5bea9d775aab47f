//! What can go wrong in the git layer.

use std::io;
use std::path::{Path, PathBuf};

/// A failed workspace operation, each variant one line of text.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// git ran and failed.
    #[error("{command} failed: {stderr}")]
    Git {
        /// The command line, `git ...`.
        command: String,
        /// git's stderr with its lines joined by `; `.
        stderr: String,
    },
    /// git could not be started at all (not installed, not on `PATH`).
    #[error("could not run {command}: {source}")]
    Spawn {
        /// The command line, `git ...`.
        command: String,
        /// Why it did not start.
        #[source]
        source: io::Error,
    },
    /// git succeeded but printed something this crate does not understand.
    #[error("{command} printed unexpected output: {output:?}")]
    Unexpected {
        /// The command line, `git ...`.
        command: String,
        /// What it printed.
        output: String,
    },
    /// Something other than the worktree is at the worktree path.
    #[error("{} exists but is not the worktree of branch {branch}; run repair or remove it", path.display())]
    Occupied {
        /// The worktree path.
        path: PathBuf,
        /// The branch.
        branch: String,
    },
    /// An issue worktree whose `.git` no longer links it to its git dir in the repository:
    /// deleted, replaced, or pointing elsewhere. Nothing was committed.
    #[error("the worktree {} is no longer linked to the repository: {found}; nothing was committed{}", path.display(), kept_note(.kept))]
    Unlinked {
        /// The worktree path.
        path: PathBuf,
        /// What is there instead of the link.
        found: String,
        /// The attempt ref its work was kept under, if any was.
        kept: Option<String>,
    },
    /// An issue worktree whose HEAD is no longer its issue's branch. Nothing was committed.
    #[error("the worktree {} left branch {branch}: its HEAD is {found}; nothing was committed{}", path.display(), kept_note(.kept))]
    LeftBranch {
        /// The worktree path.
        path: PathBuf,
        /// The branch.
        branch: String,
        /// What HEAD is instead: another ref, or `detached at <sha>`.
        found: String,
        /// The attempt ref its work was kept under, if any was.
        kept: Option<String>,
    },
    /// A change bigger than `session.max_commit_bytes`. Nothing was committed.
    #[error(
        "the change adds {bytes} bytes, over session.max_commit_bytes ({limit}); nothing was committed"
    )]
    TooLarge {
        /// The size of the files the change adds or rewrites.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A file operation of this crate's own failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong with it.
        #[source]
        source: io::Error,
    },
}

/// The end of an integrity error's message: where the work was kept.
fn kept_note(kept: &Option<String>) -> String {
    kept.as_ref()
        .map(|name| format!("; its work is kept under {name}"))
        .unwrap_or_default()
}

impl WorkspaceError {
    /// For `map_err`: an IO error about `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The same integrity error, saying where the work was kept.
    pub(crate) fn with_kept(mut self, name: Option<String>) -> Self {
        if let Self::Unlinked { kept, .. } | Self::LeftBranch { kept, .. } = &mut self {
            *kept = name;
        }
        self
    }
}
