//! agentry's git layer. Each issue works on its own branch `agentry/<id>` in its own worktree
//! under `.agentry/worktrees/<id>`; this crate prepares those worktrees, commits in them, keeps
//! the work of a failed attempt before a retry, diffs a branch against its base, sees when a
//! person has merged it, repairs what a crash left behind, makes throw-away checkouts of a
//! branch's committed head, and runs the verify commands.
//! Every git operation runs the `git` program; there is no git library. On an issue's worktree
//! git is given the worktree's git dir (found from the main repository) and work tree, never
//! left to search from inside a folder the agent controls.
//!
//! Of agentry's crates it may depend only on `agentry-core` and `agentry-process`.

#![warn(missing_docs)]

mod clashes;
mod error;
mod fresh;
mod git;
mod issue_tree;
mod repair;
mod verify;
mod workspace;
mod worktrees;

pub use error::WorkspaceError;
pub use verify::{VerifyRun, verify};
pub use workspace::{Commit, MergeEvidence, Workspace};
