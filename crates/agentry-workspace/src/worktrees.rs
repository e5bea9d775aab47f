//! The worktrees git has registered, from `git worktree list --porcelain`.

use std::path::{Path, PathBuf};

use crate::{WorkspaceError, git};

/// One registered worktree.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Registered {
    pub(crate) path: PathBuf,
    /// The full ref, `refs/heads/...`; `None` when detached.
    pub(crate) branch: Option<String>,
    /// Its directory is gone; `git worktree prune` will forget it.
    pub(crate) prunable: bool,
}

/// The worktrees of the repository at `root`, the main one first.
pub(crate) fn list(root: &Path) -> Result<Vec<Registered>, WorkspaceError> {
    Ok(parse(&git::run(
        root,
        &["worktree", "list", "--porcelain"],
    )?))
}

fn parse(porcelain: &str) -> Vec<Registered> {
    let mut found: Vec<Registered> = Vec::new();
    for line in porcelain.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            found.push(Registered {
                path: path.into(),
                branch: None,
                prunable: false,
            });
        } else if let Some(last) = found.last_mut() {
            if let Some(branch) = line.strip_prefix("branch ") {
                last.branch = Some(branch.to_string());
            } else if line == "prunable" || line.starts_with("prunable ") {
                last.prunable = true;
            }
        }
    }
    found
}

/// Whether two paths name the same place, seeing through symlinks where the paths exist (git
/// records a worktree's path as it was given, which may differ from ours).
pub(crate) fn same_place(a: &Path, b: &Path) -> bool {
    canonical(a) == canonical(b)
}

pub(crate) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_branches_detached_and_prunable_entries() {
        let porcelain = "worktree /r\nHEAD 1111\nbranch refs/heads/main\n\n\
                         worktree /r/.agentry/worktrees/i-1\nHEAD 2222\ndetached\n\n\
                         worktree /r/.agentry/worktrees/i-2\nHEAD 3333\nbranch refs/heads/agentry/i-2\n\
                         prunable gitdir file points to non-existent location\n\n";
        assert_eq!(
            parse(porcelain),
            vec![
                Registered {
                    path: "/r".into(),
                    branch: Some("refs/heads/main".into()),
                    prunable: false
                },
                Registered {
                    path: "/r/.agentry/worktrees/i-1".into(),
                    branch: None,
                    prunable: false
                },
                Registered {
                    path: "/r/.agentry/worktrees/i-2".into(),
                    branch: Some("refs/heads/agentry/i-2".into()),
                    prunable: true
                },
            ]
        );
    }
}
