//! One repository's issue worktrees and branches.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use agentry_core::{IssueId, Timestamp};

use crate::issue_tree::IssueTree;
use crate::worktrees::{self, Registered};
use crate::{WorkspaceError, git};

/// Where issue worktrees live, relative to the repository root.
pub(crate) const WORKTREES_DIR: &str = ".agentry/worktrees";
/// The line in `info/exclude` that keeps issue worktrees out of the main checkout's status
/// (and out of a `git add -A` there, which would record them as embedded repositories).
const EXCLUDE_LINE: &str = "/.agentry/worktrees/";
/// Who commits when the repository names nobody.
const FALLBACK_IDENTITY: [(&str, &str); 2] = [
    ("user.name", "agentry"),
    ("user.email", "agentry@localhost"),
];

/// The trailer line that ties a commit to its issue: `Agentry-Issue: <id>`.
pub const ISSUE_TRAILER: &str = "Agentry-Issue";

/// A repository whose issues each get a branch and a worktree. Keep one per repository and
/// share it: its lock is what keeps concurrent sessions' git commands from racing on the
/// repository's shared files.
#[derive(Debug)]
pub struct Workspace {
    pub(crate) root: PathBuf,
    lock: Mutex<()>,
    /// The most bytes one commit, or one kept attempt, may add.
    max_commit_bytes: u64,
    /// `worktrees/` in the common git dir, once known.
    pub(crate) admin_dir: OnceLock<PathBuf>,
}

/// A commit made in an issue's worktree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The commit's full sha.
    pub sha: String,
    /// The commit's committer time.
    pub at: Timestamp,
}

/// Why an issue's branch counts as merged: its head is an ancestor of the base's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeEvidence {
    /// The sha the issue's branch points at.
    pub branch_head: String,
    /// The sha the base points at, which has the branch head among its ancestors.
    pub base_head: String,
}

impl Workspace {
    /// A workspace over the repository checked out at `root`.
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            lock: Mutex::new(()),
            max_commit_bytes: u64::MAX,
            admin_dir: OnceLock::new(),
        }
    }

    /// The same workspace refusing to commit, or keep as an attempt, a change that adds more
    /// than `bytes`.
    pub fn with_max_commit_bytes(mut self, bytes: u64) -> Self {
        self.max_commit_bytes = bytes;
        self
    }

    /// `.agentry/worktrees/<issue-id>` under the root.
    pub fn worktree_path(&self, issue: &IssueId) -> PathBuf {
        self.root.join(relative_path(issue))
    }

    /// `agentry/<issue-id>`.
    pub fn branch_name(issue: &IssueId) -> String {
        format!("agentry/{issue}")
    }

    /// Creates the issue's worktree on branch `agentry/<id>`, starting the branch at `start` (a
    /// branch name or commit). A branch that already exists (a retry) is checked out as it is,
    /// not reset to `start`; a worktree already registered at the path is reused (whatever a
    /// crashed session's agent left checked out there, [`Workspace::save_attempt`] puts the
    /// branch back). Returns the worktree's path.
    pub fn prepare(&self, issue: &IssueId, start: &str) -> Result<PathBuf, WorkspaceError> {
        let _lock = self.lock();
        let path = self.worktree_path(issue);
        let branch = Self::branch_name(issue);
        if path.exists() {
            return match self.registration(&path)? {
                Some(_) => Ok(path),
                None => Err(WorkspaceError::Occupied { path, branch }),
            };
        }
        self.exclude_worktrees()?;
        // A registration left by a worktree whose directory was deleted would refuse the add.
        git::run(&self.root, &["worktree", "prune"])?;
        let relative = relative_path(issue);
        let mut add = vec!["worktree", "add", "--quiet"];
        if self.head_of(issue)?.is_some() {
            add.extend([relative.as_str(), branch.as_str()]);
        } else {
            // --no-track: a branch started from a remote branch must not push or pull there.
            add.extend(["--no-track", "-b", &branch, &relative, start]);
        }
        git::run(&self.root, &add)?;
        Ok(path)
    }

    /// Stages everything (`git add -A`) and commits it on branch `agentry/<id>` with the
    /// message `<title>\n\nAgentry-Issue: <id>`. `None` when nothing changed. Where the
    /// repository has no user.name or user.email, the commit is made as
    /// `agentry <agentry@localhost>`. A worktree no longer linked to the repository, or no
    /// longer on its branch, is an error; what it holds is kept first as attempt `n` (see
    /// [`Workspace::save_attempt`]). A change adding more than the workspace's
    /// `max_commit_bytes` is an error, and nothing of it is stored.
    pub fn commit_all(
        &self,
        issue: &IssueId,
        title: &str,
        n: u32,
    ) -> Result<Option<Commit>, WorkspaceError> {
        let _lock = self.lock();
        let tree = self.issue_tree(issue)?;
        if let Err(err) = tree.check(issue) {
            // The broken link or branch is what to report; a worktree too far gone to keep
            // anything from (its folder deleted) keeps nothing.
            let kept = self.keep_attempt(&tree, issue, n).unwrap_or(None);
            return Err(err.with_kept(kept));
        }
        let pending = tree.pending()?;
        if pending.bytes > self.max_commit_bytes {
            let (bytes, limit) = (pending.bytes, self.max_commit_bytes);
            return Err(WorkspaceError::TooLarge { bytes, limit });
        }
        // What status lists is what `add -A` stages: nothing listed, nothing to commit.
        if pending.files == 0 {
            return Ok(None);
        }
        git::run(&tree, &["add", "-A"])?;
        let message = format!("{title}\n\n{ISSUE_TRAILER}: {issue}");
        // --no-verify: the verify gate is agentry's check; a repository's pre-commit hook
        // failing must not lose the agent's work.
        run_as_committer(&tree, &["commit", "--quiet", "--no-verify", "-m", &message])?;
        last_commit(&tree).map(Some)
    }

    /// Before a retry resets the worktree: keeps its work as a commit under
    /// `refs/agentry/attempts/<id>/<m>`, `m` the first number from `n` not taken yet, then
    /// puts HEAD back on the issue's branch, resets the worktree to the branch head and removes
    /// untracked files. The work kept is the uncommitted change (tracked changes and untracked
    /// files, unless it adds more than `max_commit_bytes`) on top of HEAD, or HEAD alone when
    /// it left the branch. Returns the ref's name when something was kept. A worktree no
    /// longer linked to the repository is an error and is left as it is.
    pub fn save_attempt(&self, issue: &IssueId, n: u32) -> Result<Option<String>, WorkspaceError> {
        let _lock = self.lock();
        let tree = self.issue_tree(issue)?;
        tree.check_link()?;
        let kept = self.keep_attempt(&tree, issue, n)?;
        let branch = format!("refs/heads/{}", Self::branch_name(issue));
        git::run(&tree, &["symbolic-ref", "HEAD", &branch])?;
        git::run(&tree, &["reset", "--hard", "--quiet"])?;
        git::run(&tree, &["clean", "-fd", "--quiet"])?;
        Ok(kept)
    }

    /// Removes the issue's worktree (`git worktree remove --force`, then `git worktree prune`);
    /// the branch stays. A worktree whose link to the repository is gone is deleted as a
    /// folder (git refuses to remove it); a directory at the path that git does not know is
    /// left to [`Workspace::repair`].
    pub fn remove(&self, issue: &IssueId) -> Result<(), WorkspaceError> {
        let _lock = self.lock();
        let path = self.worktree_path(issue);
        let linked = self.issue_tree(issue).map(|tree| tree.check_link().is_ok());
        match linked {
            Ok(true) => {
                git::run(
                    &self.root,
                    &["worktree", "remove", "--force", &relative_path(issue)],
                )?;
            }
            Ok(false) if path.exists() => {
                fs::remove_dir_all(&path).map_err(WorkspaceError::io(&path))?;
            }
            _ => {}
        }
        git::run(&self.root, &["worktree", "prune"])?;
        Ok(())
    }

    /// The text of `git diff <merge-base of base and HEAD>..HEAD` in the issue's worktree: what
    /// the branch changed, not what the base did since. Longer than `max_bytes`, it is cut
    /// there and a line saying so is added.
    pub fn diff(
        &self,
        issue: &IssueId,
        base: &str,
        max_bytes: usize,
    ) -> Result<String, WorkspaceError> {
        let _lock = self.lock();
        let tree = self.issue_tree(issue)?;
        tree.check(issue)?;
        let fork = git::run(&tree, &["merge-base", base, "HEAD"])?;
        let range = format!("{}..HEAD", fork.trim_end());
        let text = git::run(&tree, &["diff", "--no-color", "--no-ext-diff", &range])?;
        Ok(cut(text, max_bytes))
    }

    /// Whether branch `agentry/<id>` changes anything at all: its tree differs from the tree
    /// where it forked from `base`, the change [`Workspace::diff`] shows.
    pub fn has_change(&self, issue: &IssueId, base: &str) -> Result<bool, WorkspaceError> {
        let _lock = self.lock();
        // `A...B` diffs B against the merge base of A and B; 1 means they differ.
        let range = format!("{base}...{}", Self::branch_name(issue));
        let same = git::probe(&self.root, &["diff", "--quiet", "--no-ext-diff", &range])?;
        Ok(same.is_none())
    }

    /// The head sha of branch `agentry/<id>`, `None` when there is no such branch.
    pub fn branch_head(&self, issue: &IssueId) -> Result<Option<String>, WorkspaceError> {
        let _lock = self.lock();
        self.head_of(issue)
    }

    /// Evidence that a person merged the issue's branch: its head is agentry's commit for the
    /// issue (it carries the issue's trailer) and an ancestor of `base`. `None` when it is
    /// not, when the branch has no such commit, or when the branch is gone.
    pub fn merged_into(
        &self,
        issue: &IssueId,
        base: &str,
    ) -> Result<Option<MergeEvidence>, WorkspaceError> {
        let _lock = self.lock();
        let Some(branch_head) = self.head_of(issue)? else {
            return Ok(None);
        };
        // A branch whose head is not agentry's commit for this issue holds none of its work:
        // a session that committed nothing leaves the branch at the base, "merged" already.
        let message = git::run(&self.root, &["log", "-1", "--format=%B", &branch_head])?;
        if !names_issue(&message, issue) {
            return Ok(None);
        }
        let base_head = resolve(&self.root, base)?;
        let merged = git::probe(
            &self.root,
            &["merge-base", "--is-ancestor", &branch_head, &base_head],
        )?
        .is_some();
        Ok(merged.then_some(MergeEvidence {
            branch_head,
            base_head,
        }))
    }

    /// Serialises git operations on this repository. A panic while holding it leaves nothing
    /// half-written in memory (the state is all in git), so a poisoned lock is taken as is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `.agentry/worktrees` under the root, where every worktree lives.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join(WORKTREES_DIR)
    }

    pub(crate) fn head_of(&self, issue: &IssueId) -> Result<Option<String>, WorkspaceError> {
        let reference = format!("refs/heads/{}^{{commit}}", Self::branch_name(issue));
        let head = git::probe(
            &self.root,
            &["rev-parse", "--verify", "--quiet", &reference],
        )?;
        Ok(head.map(|sha| sha.trim_end().to_string()))
    }

    fn registration(&self, path: &Path) -> Result<Option<Registered>, WorkspaceError> {
        let all = worktrees::list(&self.root)?;
        Ok(all
            .into_iter()
            .find(|w| worktrees::same_place(&w.path, path)))
    }

    fn exclude_worktrees(&self) -> Result<(), WorkspaceError> {
        let found = git::run(&self.root, &["rev-parse", "--git-path", "info/exclude"])?;
        // git prints the path relative to the root or absolute; join handles both.
        let exclude = self.root.join(found.trim_end());
        let current = fs::read_to_string(&exclude).unwrap_or_default();
        if current.lines().any(|line| line.trim() == EXCLUDE_LINE) {
            return Ok(());
        }
        let separator = if current.is_empty() || current.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        append(&exclude, &format!("{separator}{EXCLUDE_LINE}\n"))
    }
}

fn relative_path(issue: &IssueId) -> String {
    format!("{WORKTREES_DIR}/{issue}")
}

impl Workspace {
    /// Keeps the worktree's work under the first free `refs/agentry/attempts/<id>/<m>` from
    /// `n`: the uncommitted change on top of HEAD (when it is within `max_commit_bytes`), or
    /// HEAD alone when it left the issue's branch. The ref's name, or `None` when there was
    /// nothing to keep.
    fn keep_attempt(
        &self,
        tree: &IssueTree,
        issue: &IssueId,
        n: u32,
    ) -> Result<Option<String>, WorkspaceError> {
        let pending = tree.pending()?;
        let stash = if pending.files > 0 && pending.bytes <= self.max_commit_bytes {
            // Staged first so that untracked files are in the stash commit's tree too.
            git::run(tree, &["add", "-A"])?;
            let message = format!("agentry attempt {n} of {issue}");
            run_as_committer(tree, &["stash", "create", &message])?
        } else {
            String::new()
        };
        let sha = match stash.trim_end() {
            // Nothing uncommitted and still on its branch: all of it is on the branch.
            "" if tree.check_branch(issue).is_ok() => return Ok(None),
            "" => {
                let head = tree.head()?;
                if self.head_of(issue)?.as_ref() == Some(&head) {
                    return Ok(None);
                }
                head
            }
            stash => stash.to_string(),
        };
        let name = free_attempt_ref(&self.root, issue, n)?;
        git::run(&self.root, &["update-ref", &name, &sha])?;
        Ok(Some(name))
    }
}

/// `refs/agentry/attempts/<id>/<m>` for the first `m` from `n` that no ref has.
fn free_attempt_ref(root: &Path, issue: &IssueId, n: u32) -> Result<String, WorkspaceError> {
    let mut m = n;
    loop {
        let name = format!("refs/agentry/attempts/{issue}/{m}");
        if git::probe(root, &["rev-parse", "--verify", "--quiet", &name])?.is_none() {
            return Ok(name);
        }
        m += 1;
    }
}

/// Runs a git command that makes commits, naming agentry for whichever of user.name and
/// user.email the repository leaves unset or empty. Only this command sees the fallback, and
/// `GIT_AUTHOR_*`/`GIT_COMMITTER_*` variables still win over it.
fn run_as_committer(tree: &IssueTree, args: &[&str]) -> Result<String, WorkspaceError> {
    // Both keys in one question: `<key> <value>` lines, the last one of a key winning.
    let set = git::probe(tree, &["config", "--get-regexp", r"^user\.(name|email)$"])?;
    let named = |key: &str| {
        set.iter()
            .flat_map(|text| text.lines())
            .map(|line| line.split_once(' ').unwrap_or((line, "")))
            .rfind(|(name, _)| *name == key)
            .is_some_and(|(_, value)| !value.trim().is_empty())
    };
    let mut full = Vec::new();
    for (key, fallback) in FALLBACK_IDENTITY {
        if !named(key) {
            full.extend(["-c".to_string(), format!("{key}={fallback}")]);
        }
    }
    full.extend(args.iter().map(|arg| arg.to_string()));
    git::run(tree, &full)
}

fn last_commit(tree: &IssueTree) -> Result<Commit, WorkspaceError> {
    let args = ["log", "-1", "--format=%H %ct"];
    let shown = git::run(tree, &args)?;
    let parsed = shown
        .trim_end()
        .split_once(' ')
        .and_then(|(sha, secs)| Some((sha, secs.parse::<i64>().ok()?)));
    let (sha, secs) = parsed.ok_or_else(|| WorkspaceError::Unexpected {
        command: git::command_line(&args),
        output: shown.clone(),
    })?;
    Ok(Commit {
        sha: sha.to_string(),
        at: Timestamp::from_unix_micros(secs * 1_000_000),
    })
}

fn resolve(root: &Path, revision: &str) -> Result<String, WorkspaceError> {
    let sha = git::run(
        root,
        &["rev-parse", "--verify", &format!("{revision}^{{commit}}")],
    )?;
    Ok(sha.trim_end().to_string())
}

fn append(path: &Path, text: &str) -> Result<(), WorkspaceError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(WorkspaceError::io(parent))?;
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(WorkspaceError::io(path))?;
    file.write_all(text.as_bytes())
        .map_err(WorkspaceError::io(path))
}

/// `text` cut to at most `max_bytes` (on a character boundary) plus a line saying it was cut.
fn cut(mut text: String, max_bytes: usize) -> String {
    let total = text.len();
    if total <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!("\n[diff cut at {end} of {total} bytes]\n"));
    text
}

/// Whether a commit message carries the issue's trailer (`Sudocode-Issue:` is accepted too).
fn names_issue(message: &str, issue: &IssueId) -> bool {
    message.lines().any(|line| {
        let line = line.trim();
        [ISSUE_TRAILER, "Sudocode-Issue"].iter().any(|key| {
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
                == Some(issue.as_str())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_not_cut() {
        assert_eq!(cut("abc".into(), 3), "abc");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_a_note() {
        // "é" is two bytes; a cut at 2 would split it.
        assert_eq!(cut("aébc".into(), 2), "a\n[diff cut at 1 of 5 bytes]\n");
    }
}
