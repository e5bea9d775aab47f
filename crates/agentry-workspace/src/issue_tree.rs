//! An issue's worktree as agentry's own git commands address it: its git dir is found from
//! the main repository's registrations, never from the `.git` file inside the worktree, which
//! the agent controls; git is given that git dir and the work tree explicitly, so it never
//! searches upwards into the user's checkout. And the checks that the worktree is still linked
//! to the repository and still on its issue's branch.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use agentry_core::IssueId;

use crate::git::{self, Place};
use crate::worktrees::same_place;
use crate::{Workspace, WorkspaceError};

/// A registered worktree: git runs there with `--git-dir` and `--work-tree` named.
#[derive(Debug)]
pub(crate) struct IssueTree {
    /// Its administrative folder, `.git/worktrees/<name>` in the repository.
    pub(crate) git_dir: PathBuf,
    pub(crate) work_tree: PathBuf,
}

impl Place for IssueTree {
    fn git(&self) -> Command {
        let mut command = self.work_tree.git();
        command
            .arg("--git-dir")
            .arg(&self.git_dir)
            .arg("--work-tree")
            .arg(&self.work_tree);
        command
    }
}

/// What an uncommitted change holds.
pub(crate) struct Pending {
    pub(crate) files: usize,
    /// The size on disk of every file it adds or rewrites.
    pub(crate) bytes: u64,
}

impl Workspace {
    /// Every worktree the repository has registered, from its `worktrees/*/gitdir` files.
    pub(crate) fn registered_trees(&self) -> Result<Vec<IssueTree>, WorkspaceError> {
        let admin = self.admin_dir()?;
        let entries = match fs::read_dir(&admin) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            entries => entries.map_err(WorkspaceError::io(&admin))?,
        };
        let mut trees = Vec::new();
        for entry in entries {
            let git_dir = entry.map_err(WorkspaceError::io(&admin))?.path();
            trees.extend(registered(git_dir));
        }
        Ok(trees)
    }

    /// The issue's worktree; `Unlinked` when the repository has none registered at its path.
    /// git names a worktree's folder after the worktree's (`<id>`, or `<id>1`... when taken),
    /// so that folder is looked at first and the others only when it is someone else's.
    pub(crate) fn issue_tree(&self, issue: &IssueId) -> Result<IssueTree, WorkspaceError> {
        let path = self.worktree_path(issue);
        let ours = |tree: &IssueTree| same_place(&tree.work_tree, &path);
        let named = registered(self.admin_dir()?.join(issue.as_str())).filter(ours);
        let found = match named {
            Some(tree) => Some(tree),
            None => self.registered_trees()?.into_iter().find(ours),
        };
        found.ok_or_else(|| WorkspaceError::Unlinked {
            path,
            found: "the repository has no worktree registered there".into(),
            kept: None,
        })
    }

    /// `worktrees/` in the repository's common git dir, where git keeps each worktree's
    /// folder; asked of git once.
    fn admin_dir(&self) -> Result<PathBuf, WorkspaceError> {
        if let Some(dir) = self.admin_dir.get() {
            return Ok(dir.clone());
        }
        let common = git::run(
            &self.root,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )?;
        let dir = Path::new(common.trim_end()).join("worktrees");
        Ok(self.admin_dir.get_or_init(|| dir).clone())
    }
}

/// The worktree whose folder in the repository is `git_dir`, if it is one: git writes the
/// path of the worktree's `.git` file in its `gitdir`, absolute or relative to the folder.
fn registered(git_dir: PathBuf) -> Option<IssueTree> {
    let gitdir = fs::read_to_string(git_dir.join("gitdir")).ok()?;
    let work_tree = git_dir.join(gitdir.trim_end()).parent()?.to_path_buf();
    Some(IssueTree { git_dir, work_tree })
}

impl IssueTree {
    /// Errors unless the worktree is still linked to its git dir and on the issue's branch.
    pub(crate) fn check(&self, issue: &IssueId) -> Result<(), WorkspaceError> {
        self.check_link()?;
        self.check_branch(issue)
    }

    /// Errors unless the worktree's `.git` is a file naming this git dir.
    pub(crate) fn check_link(&self) -> Result<(), WorkspaceError> {
        let dot_git = self.work_tree.join(".git");
        let found = match fs::symlink_metadata(&dot_git) {
            Err(_) => "its .git is gone".to_string(),
            Ok(meta) if !meta.is_file() => "its .git is not a file".to_string(),
            Ok(_) => match linked_dir(&dot_git) {
                Some(dir) if same_place(&dir, &self.git_dir) => return Ok(()),
                Some(dir) => format!("its .git points to {}", dir.display()),
                None => "its .git does not name a git dir".to_string(),
            },
        };
        Err(WorkspaceError::Unlinked {
            path: self.work_tree.clone(),
            found,
            kept: None,
        })
    }

    /// Errors unless HEAD is the issue's branch. Read from the worktree's `HEAD` file, as git
    /// itself reads it: one file instead of one more git process per commit.
    pub(crate) fn check_branch(&self, issue: &IssueId) -> Result<(), WorkspaceError> {
        let branch = Workspace::branch_name(issue);
        let file = self.git_dir.join("HEAD");
        let head = fs::read_to_string(&file).map_err(WorkspaceError::io(&file))?;
        let head = head.trim_end();
        let found = match head.strip_prefix("ref:").map(str::trim) {
            Some(name) if name.strip_prefix("refs/heads/") == Some(branch.as_str()) => {
                return Ok(());
            }
            Some(name) => name.to_string(),
            None => format!("detached at {head}"),
        };
        Err(WorkspaceError::LeftBranch {
            path: self.work_tree.clone(),
            branch,
            found,
            kept: None,
        })
    }

    /// The sha HEAD points at.
    pub(crate) fn head(&self) -> Result<String, WorkspaceError> {
        let sha = git::run(self, &["rev-parse", "--verify", "HEAD^{commit}"])?;
        Ok(sha.trim_end().to_string())
    }

    /// The uncommitted change, measured from the files on disk before any of it is stored in
    /// git (ignored files are not part of it).
    pub(crate) fn pending(&self) -> Result<Pending, WorkspaceError> {
        let args = [
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
        ];
        let status = git::run_bytes(self, &args)?;
        let mut pending = Pending { files: 0, bytes: 0 };
        // Each entry is `XY <path>`; a deleted file is no longer there and adds nothing.
        for entry in status.split(|b| *b == 0).filter(|e| e.len() > 3) {
            let path = self.work_tree.join(OsStr::from_bytes(&entry[3..]));
            pending.files += 1;
            pending.bytes += fs::symlink_metadata(path).map_or(0, |meta| meta.len());
        }
        Ok(pending)
    }
}

/// The git dir a `.git` file names (`gitdir: <path>`, relative to the worktree or absolute).
fn linked_dir(dot_git: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(dot_git).ok()?;
    let named = text.strip_prefix("gitdir:")?.trim();
    let parent = dot_git.parent()?;
    Some(parent.join(named))
}
