//! The few git questions the CLI asks, answered by the `git` program.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::error::usage;

fn git(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("could not run git: is it installed and on PATH?")?;
    if !output.status.success() {
        return Ok(None);
    }
    Ok(Some(
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    ))
}

/// The root of the repository's main worktree, also when `dir` is inside a linked worktree
/// (an agent's session), so that every checkout finds the one store.
pub fn main_worktree_root(dir: &Path) -> Result<PathBuf> {
    let common = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )?
    .ok_or_else(|| {
        usage(format!(
            "{} is not inside a git repository (run `git init` first)",
            dir.display()
        ))
    })?;
    let common = PathBuf::from(common);
    let root = if common.file_name().is_some_and(|name| name == ".git") {
        common.parent().map(Path::to_path_buf)
    } else {
        git(dir, &["rev-parse", "--show-toplevel"])?.map(PathBuf::from)
    };
    root.ok_or_else(|| {
        usage(format!(
            "{} is a bare git repository; agentry needs a work tree",
            dir.display()
        ))
    })
}

/// The branch checked out in `root`, if one is (also on a branch with no commit yet).
pub fn current_branch(root: &Path) -> Result<Option<String>> {
    git(root, &["symbolic-ref", "--short", "-q", "HEAD"])
}

/// The repository's `info/exclude` file.
pub fn exclude_file(root: &Path) -> Result<PathBuf> {
    let path = git(
        root,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "info/exclude",
        ],
    )?
    .context("git could not name the info/exclude file")?;
    Ok(PathBuf::from(path))
}
