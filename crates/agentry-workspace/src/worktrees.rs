//! The worktrees git has registered, from `git worktree list --porcelain`.

use std::path::{Path, PathBuf};

use crate::{WorkspaceError, git};

/// One registered worktree.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Registered {
    pub(crate) path: PathBuf,
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
                prunable: false,
            });
        } else if let Some(last) = found.last_mut()
            && (line == "prunable" || line.starts_with("prunable "))
        {
            last.prunable = true;
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
    fn parses_paths_and_prunable_entries() {
        let porcelain = "worktree /r\nHEAD 1111\nbranch refs/heads/main\n\n\
                         worktree /r/.agentry/worktrees/i-1\nHEAD 2222\ndetached\n\n\
                         worktree /r/.agentry/worktrees/i-2\nHEAD 3333\nbranch refs/heads/agentry/i-2\n\
                         prunable gitdir file points to non-existent location\n\n";
        assert_eq!(
            parse(porcelain),
            vec![
                Registered {
                    path: "/r".into(),
                    prunable: false
                },
                Registered {
                    path: "/r/.agentry/worktrees/i-1".into(),
                    prunable: false
                },
                Registered {
                    path: "/r/.agentry/worktrees/i-2".into(),
                    prunable: true
                },
            ]
        );
    }
}
