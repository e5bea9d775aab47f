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

impl WorkspaceError {
    /// For `map_err`: an IO error about `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
