//! The git layer on real temporary repositories. Nothing is configured globally: the tests'
//! own commits get their identity from environment variables on each command.

use std::fs;
use std::path::Path;
use std::process::Command;

use agentry_core::{IssueId, Timestamp};
use agentry_workspace::{MergeEvidence, Workspace, WorkspaceError};
use tempfile::TempDir;

/// A repository on `main` with one commit, and a workspace over it.
fn repo() -> (TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    fs::write(dir.path().join("README"), "hello\n").unwrap();
    git(dir.path(), &["add", "README"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    let workspace = Workspace::new(dir.path().to_path_buf());
    (dir, workspace)
}

/// Runs git with a test identity; panics when it fails; returns stdout without the last newline.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .envs([
            ("GIT_AUTHOR_NAME", "Test"),
            ("GIT_AUTHOR_EMAIL", "test@example.com"),
            ("GIT_COMMITTER_NAME", "Test"),
            ("GIT_COMMITTER_EMAIL", "test@example.com"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "git {args:?} failed: {stderr}");
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn issue(text: &str) -> IssueId {
    text.parse().unwrap()
}

/// Adds a commit to `main` in the main checkout and returns its sha.
fn advance_main(root: &Path, file: &str) -> String {
    fs::write(root.join(file), "from main\n").unwrap();
    git(root, &["add", file]);
    git(root, &["commit", "-q", "-m", "main moves on"]);
    git(root, &["rev-parse", "HEAD"])
}

#[test]
fn prepare_creates_the_worktree_on_a_new_branch_from_the_base() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    assert_eq!(path, dir.path().join(".agentry/worktrees/i-1"));
    assert_eq!(fs::read_to_string(path.join("README")).unwrap(), "hello\n");
    assert_eq!(
        git(&path, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "agentry/i-1"
    );
    assert_eq!(
        ws.branch_head(&id).unwrap(),
        Some(git(dir.path(), &["rev-parse", "main"]))
    );
    // The worktrees are excluded, so the main checkout stays clean.
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}

#[test]
fn prepare_twice_reuses_the_worktree() {
    let (_dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("work"), "in progress").unwrap();
    assert_eq!(ws.prepare(&id, "main").unwrap(), path);
    assert_eq!(
        fs::read_to_string(path.join("work")).unwrap(),
        "in progress"
    );
}

#[test]
fn prepare_refuses_a_path_taken_by_something_else() {
    let (dir, ws) = repo();
    fs::create_dir_all(dir.path().join(".agentry/worktrees/i-1")).unwrap();
    let err = ws.prepare(&issue("i-1"), "main").unwrap_err();
    assert!(matches!(err, WorkspaceError::Occupied { .. }), "{err}");
}

#[test]
fn a_retry_keeps_the_branch_commits() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("feature"), "done\n").unwrap();
    let commit = ws.commit_all(&id, "Add feature", 1).unwrap().unwrap();
    ws.remove(&id).unwrap();
    advance_main(dir.path(), "later");

    let path = ws.prepare(&id, "main").unwrap();
    assert_eq!(ws.branch_head(&id).unwrap(), Some(commit.sha));
    assert!(path.join("feature").exists());
    assert!(
        !path.join("later").exists(),
        "the branch was not reset to main"
    );
}

#[test]
fn commit_all_without_changes_makes_no_commit() {
    let (_dir, ws) = repo();
    let id = issue("i-1");
    ws.prepare(&id, "main").unwrap();
    let before = ws.branch_head(&id).unwrap();
    assert_eq!(ws.commit_all(&id, "Nothing", 1).unwrap(), None);
    assert_eq!(ws.branch_head(&id).unwrap(), before);
}

#[test]
fn commit_all_commits_everything_as_agentry_when_nobody_is_configured() {
    let (dir, ws) = repo();
    // Empty values stand for an unconfigured repository whatever the machine's global config
    // says: git refuses an empty name just as it refuses a missing one.
    git(dir.path(), &["config", "user.name", ""]);
    git(dir.path(), &["config", "user.email", ""]);
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("README"), "changed\n").unwrap();
    fs::write(path.join("new"), "untracked\n").unwrap();
    let started = Timestamp::now();

    let commit = ws.commit_all(&id, "Fix the greeting", 1).unwrap().unwrap();

    assert_eq!(ws.branch_head(&id).unwrap().as_ref(), Some(&commit.sha));
    assert_eq!(
        git(&path, &["log", "-1", "--format=%B"]),
        "Fix the greeting\n\nAgentry-Issue: i-1"
    );
    assert_eq!(
        git(&path, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "agentry <agentry@localhost>|agentry <agentry@localhost>"
    );
    assert_eq!(
        git(&path, &["show", "--name-only", "--format=", "HEAD"]),
        "README\nnew"
    );
    assert_eq!(git(&path, &["status", "--porcelain"]), "");
    // Committer time has whole seconds.
    assert!(
        commit.at >= started.plus_secs(-1) && commit.at <= Timestamp::now(),
        "{}",
        commit.at
    );
}

#[test]
fn commit_all_keeps_a_configured_identity() {
    let (dir, ws) = repo();
    git(dir.path(), &["config", "user.name", "Alice"]);
    git(dir.path(), &["config", "user.email", "alice@example.com"]);
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("new"), "x").unwrap();
    ws.commit_all(&id, "Add", 1).unwrap().unwrap();
    assert_eq!(
        git(&path, &["log", "-1", "--format=%an <%ae>"]),
        "Alice <alice@example.com>"
    );
}

#[test]
fn save_attempt_keeps_tracked_and_untracked_work_and_leaves_a_clean_worktree() {
    let (_dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    let head = ws.branch_head(&id).unwrap();
    fs::write(path.join("README"), "half done\n").unwrap();
    fs::create_dir(path.join("notes")).unwrap();
    fs::write(path.join("notes/new.txt"), "untracked\n").unwrap();

    let kept = ws.save_attempt(&id, 1).unwrap();

    assert_eq!(kept.as_deref(), Some("refs/agentry/attempts/i-1/1"));
    assert_eq!(
        git(
            &path,
            &[
                "ls-tree",
                "-r",
                "--name-only",
                "refs/agentry/attempts/i-1/1"
            ]
        ),
        "README\nnotes/new.txt"
    );
    assert_eq!(
        git(&path, &["show", "refs/agentry/attempts/i-1/1:README"]),
        "half done"
    );
    assert_eq!(
        git(
            &path,
            &["show", "refs/agentry/attempts/i-1/1:notes/new.txt"]
        ),
        "untracked"
    );
    assert_eq!(
        git(&path, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert_eq!(fs::read_to_string(path.join("README")).unwrap(), "hello\n");
    assert!(!path.join("notes").exists());
    assert_eq!(ws.branch_head(&id).unwrap(), head);
    assert_eq!(
        ws.save_attempt(&id, 2).unwrap(),
        None,
        "a clean worktree keeps nothing"
    );
}

#[test]
fn remove_leaves_the_branch() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("dirty"), "x").unwrap();
    ws.remove(&id).unwrap();
    assert!(!path.exists());
    assert!(ws.branch_head(&id).unwrap().is_some());
    assert!(!git(dir.path(), &["worktree", "list"]).contains("i-1"));
    ws.remove(&id).unwrap();
}

#[test]
fn diff_shows_the_branch_change_and_is_cut_at_max_bytes() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("feature"), "hello from the branch\n").unwrap();
    ws.commit_all(&id, "Add feature", 1).unwrap().unwrap();
    advance_main(dir.path(), "later");

    let full = ws.diff(&id, "main", 1 << 20).unwrap();
    assert!(full.contains("+hello from the branch"), "{full}");
    assert!(
        !full.contains("later"),
        "main's own change is not the branch's: {full}"
    );

    let cut = ws.diff(&id, "main", 20).unwrap();
    assert!(cut.starts_with(&full[..20]), "{cut}");
    assert!(
        cut.contains(&format!("[diff cut at 20 of {} bytes]", full.len())),
        "{cut}"
    );
}

#[test]
fn merged_into_sees_a_merge_into_the_base() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("feature"), "x").unwrap();
    let commit = ws.commit_all(&id, "Add feature", 1).unwrap().unwrap();
    assert_eq!(ws.merged_into(&id, "main").unwrap(), None);

    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "-m", "merge", "agentry/i-1"],
    );

    let base_head = git(dir.path(), &["rev-parse", "main"]);
    assert_eq!(
        ws.merged_into(&id, "main").unwrap(),
        Some(MergeEvidence {
            branch_head: commit.sha,
            base_head
        })
    );
}

#[test]
fn a_branch_without_the_issue_commit_is_not_merge_evidence() {
    let (dir, ws) = repo();
    let id = issue("i-4");
    ws.prepare(&id, "main").unwrap();
    assert_eq!(
        ws.merged_into(&id, "main").unwrap(),
        None,
        "the branch is only the base"
    );
    let other = issue("i-5");
    let path = ws.prepare(&other, "main").unwrap();
    fs::write(path.join("other"), "x").unwrap();
    ws.commit_all(&other, "Other work", 1).unwrap();
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "-m", "merge", "agentry/i-5"],
    );
    git(&ws.worktree_path(&id), &["reset", "-q", "--hard", "main"]);
    assert_eq!(
        ws.merged_into(&id, "main").unwrap(),
        None,
        "another issue's commit is no evidence"
    );
}

#[test]
fn merged_into_is_none_without_the_branch() {
    let (_dir, ws) = repo();
    assert_eq!(ws.merged_into(&issue("i-9"), "main").unwrap(), None);
}

#[test]
fn repair_prunes_removes_strays_and_stale_locks() {
    let (dir, ws) = repo();
    let stray = dir.path().join(".agentry/worktrees/stray");
    fs::create_dir_all(stray.join("sub")).unwrap();
    let locked = ws.prepare(&issue("i-3"), "main").unwrap();
    let lock = locked.join(git(&locked, &["rev-parse", "--git-path", "index.lock"]));
    fs::write(&lock, "").unwrap();
    // Deleted after the last prepare, which prunes on its own.
    let deleted = ws.prepare(&issue("i-2"), "main").unwrap();
    fs::remove_dir_all(&deleted).unwrap();

    let repaired = ws.repair().unwrap();

    assert_eq!(repaired.len(), 3, "{repaired:?}");
    assert!(
        repaired
            .iter()
            .any(|line| line.contains("pruned worktree") && line.contains("i-2")),
        "{repaired:?}"
    );
    assert!(
        repaired.iter().any(|line| line.contains("index.lock")),
        "{repaired:?}"
    );
    assert!(
        repaired.iter().any(|line| line.contains("stray")),
        "{repaired:?}"
    );
    assert!(!stray.exists());
    assert!(!lock.exists());
    assert!(locked.join("README").exists(), "a known worktree stays");
    assert!(!git(dir.path(), &["worktree", "list"]).contains("i-2"));
    fs::write(locked.join("README"), "git works again\n").unwrap();
    assert!(
        ws.commit_all(&issue("i-3"), "After repair", 1)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        ws.repair().unwrap(),
        Vec::<String>::new(),
        "nothing left to repair"
    );
}

#[test]
fn concurrent_prepares_of_different_issues_all_succeed() {
    let (dir, ws) = repo();
    let ids: Vec<IssueId> = ["i-a", "i-b", "i-c", "i-d"].map(issue).into();
    std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| scope.spawn(|| ws.prepare(id, "main")))
            .collect();
        for handle in handles {
            handle.join().unwrap().unwrap();
        }
    });
    let listed = git(dir.path(), &["worktree", "list"]);
    for id in &ids {
        assert!(listed.contains(&format!("[agentry/{id}]")), "{listed}");
    }
    // Each prepare checks the exclude file and appends to it; serialised, only one appends.
    let exclude = fs::read_to_string(dir.path().join(".git/info/exclude")).unwrap();
    assert_eq!(
        exclude
            .lines()
            .filter(|line| *line == "/.agentry/worktrees/")
            .count(),
        1,
        "{exclude}"
    );
}

#[test]
fn a_git_failure_is_one_line_with_the_command() {
    let (_dir, ws) = repo();
    let err = ws
        .prepare(&issue("i-1"), "no-such-start")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("git worktree add"), "{err}");
    assert!(err.contains("no-such-start failed: fatal:"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn a_fresh_checkout_holds_only_what_the_branch_committed_and_is_removed_without_a_trace() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    fs::write(path.join("feature"), "done\n").unwrap();
    ws.commit_all(&id, "Add feature", 1).unwrap().unwrap();
    fs::write(path.join("uncommitted"), "only here\n").unwrap();

    let fresh = dir.path().join("scratch/fresh");
    ws.add_fresh_checkout(&id, &fresh).unwrap();
    assert_eq!(fs::read_to_string(fresh.join("feature")).unwrap(), "done\n");
    assert!(!fresh.join("uncommitted").exists());
    assert_eq!(
        git(&fresh, &["rev-parse", "HEAD"]),
        ws.branch_head(&id).unwrap().unwrap()
    );

    ws.remove_fresh_checkout(&fresh).unwrap();
    assert!(!fresh.exists());
    let listed = git(dir.path(), &["worktree", "list", "--porcelain"]);
    assert!(!listed.contains("scratch/fresh"), "{listed}");
    assert!(
        path.join("uncommitted").exists(),
        "the issue's worktree is untouched"
    );
}

/// Whether the repository at `dir` stores an object with `content`'s blob id.
fn stores_blob(dir: &Path, content: &str) -> bool {
    let file = dir.join(".probe-blob");
    fs::write(&file, content).unwrap();
    let sha = git(dir, &["hash-object", "--no-filters", ".probe-blob"]);
    fs::remove_file(&file).unwrap();
    Command::new("git")
        .args(["-C", &dir.to_string_lossy(), "cat-file", "-e", &sha])
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_worktree_whose_git_file_is_deleted_commits_nothing_anywhere_and_keeps_its_work() {
    let (dir, ws) = repo();
    let root = dir.path();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    // The user's own uncommitted work in the main checkout.
    fs::write(root.join("README"), "the user's edit\n").unwrap();
    fs::write(root.join("draft.txt"), "the user's draft\n").unwrap();
    let main_head = git(root, &["rev-parse", "HEAD"]);
    // The agent cuts its worktree off: git in there now finds the main repository.
    fs::remove_file(path.join(".git")).unwrap();
    fs::write(path.join("work.txt"), "the agent's work\n").unwrap();

    let err = ws.commit_all(&id, "Agent work", 3).unwrap_err();

    assert!(matches!(err, WorkspaceError::Unlinked { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("its .git is gone"), "{text}");
    assert!(
        text.contains("refs/agentry/attempts/i-1/3"),
        "names where the work is: {text}"
    );
    assert_eq!(git(root, &["rev-parse", "HEAD"]), main_head);
    assert_eq!(
        git(root, &["status", "--porcelain"]),
        " M README\n?? draft.txt",
        "the main checkout's index and files are untouched"
    );
    assert_eq!(
        git(root, &["show", "refs/agentry/attempts/i-1/3:work.txt"]),
        "the agent's work"
    );
    assert_eq!(ws.branch_head(&id).unwrap(), Some(main_head));

    ws.remove(&id).unwrap();
    assert!(!path.exists(), "an unlinked worktree is deleted");
    ws.prepare(&id, "main").unwrap();
    assert!(
        path.join(".git").is_file(),
        "the next prepare starts afresh"
    );
}

#[test]
fn a_worktree_that_left_its_branch_commits_nothing_and_keeps_the_other_branch_work() {
    let (dir, ws) = repo();
    let root = dir.path();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    let start = ws.branch_head(&id).unwrap();
    git(&path, &["checkout", "-q", "-b", "other"]);
    fs::write(path.join("work.txt"), "on the other branch\n").unwrap();
    git(&path, &["add", "work.txt"]);
    git(&path, &["commit", "-q", "-m", "elsewhere"]);
    let other = git(root, &["rev-parse", "other"]);

    let err = ws.commit_all(&id, "Agent work", 2).unwrap_err();

    assert!(matches!(err, WorkspaceError::LeftBranch { .. }), "{err}");
    assert!(err.to_string().contains("refs/heads/other"), "{err}");
    assert_eq!(
        ws.branch_head(&id).unwrap(),
        start,
        "nothing on agentry/i-1"
    );
    assert_eq!(git(root, &["rev-parse", "other"]), other, "nor on other");
    assert_eq!(
        git(root, &["rev-parse", "refs/agentry/attempts/i-1/2"]),
        other,
        "the other branch's commit is kept"
    );

    // The next session's preparation puts the worktree back on its branch.
    assert_eq!(ws.prepare(&id, "main").unwrap(), path);
    assert_eq!(
        ws.save_attempt(&id, 2).unwrap(),
        Some("refs/agentry/attempts/i-1/3".into()),
        "a taken attempt number is not overwritten"
    );
    assert_eq!(
        git(&path, &["symbolic-ref", "HEAD"]),
        "refs/heads/agentry/i-1"
    );
    assert!(!path.join("work.txt").exists());
}

#[test]
fn a_change_over_max_commit_bytes_is_refused_and_never_stored() {
    let (dir, ws) = repo();
    let ws = ws.with_max_commit_bytes(1000);
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    let big = "x".repeat(1200);
    fs::write(path.join("big.txt"), &big).unwrap();

    let err = ws.commit_all(&id, "Too big", 1).unwrap_err();

    assert!(
        matches!(
            err,
            WorkspaceError::TooLarge {
                bytes: 1200,
                limit: 1000
            }
        ),
        "{err}"
    );
    assert_eq!(ws.save_attempt(&id, 1).unwrap(), None);
    assert!(!stores_blob(dir.path(), &big), "the big file is not in git");
    fs::write(path.join("small.txt"), "small\n").unwrap();
    assert!(ws.commit_all(&id, "Small", 1).unwrap().is_some());
}

#[test]
fn has_change_compares_the_branch_with_its_fork_point() {
    let (dir, ws) = repo();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    advance_main(dir.path(), "later.txt");
    assert!(
        !ws.has_change(&id, "main").unwrap(),
        "main moving on is no change"
    );
    fs::write(path.join("new.txt"), "x\n").unwrap();
    ws.commit_all(&id, "Add", 1).unwrap().unwrap();
    assert!(ws.has_change(&id, "main").unwrap());
    fs::remove_file(path.join("new.txt")).unwrap();
    ws.commit_all(&id, "Take it back", 1).unwrap().unwrap();
    assert!(
        !ws.has_change(&id, "main").unwrap(),
        "commits that cancel out"
    );
}

#[test]
fn stale_index_locks_are_removed_except_in_held_worktrees() {
    let (_dir, ws) = repo();
    let (held, free) = (issue("i-1"), issue("i-2"));
    let mut locks = Vec::new();
    for id in [&held, &free] {
        let path = ws.prepare(id, "main").unwrap();
        let lock = path.join(git(&path, &["rev-parse", "--git-path", "index.lock"]));
        fs::write(&lock, "").unwrap();
        locks.push(lock);
    }

    let removed = ws
        .remove_stale_index_locks(std::slice::from_ref(&held))
        .unwrap();

    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].contains("i-2") && removed[0].contains("index.lock"));
    assert!(locks[0].exists(), "a live session's lock stays");
    assert!(!locks[1].exists());
}

#[test]
fn a_worktree_whose_git_file_points_at_the_main_repository_commits_nothing_there() {
    let (dir, ws) = repo();
    let root = dir.path();
    let id = issue("i-1");
    let path = ws.prepare(&id, "main").unwrap();
    let main_head = git(root, &["rev-parse", "HEAD"]);
    let main_git = root.join(".git");
    fs::write(
        path.join(".git"),
        format!("gitdir: {}\n", main_git.display()),
    )
    .unwrap();
    fs::write(path.join("work.txt"), "the agent's work\n").unwrap();

    let err = ws.commit_all(&id, "Agent work", 1).unwrap_err();

    assert!(matches!(err, WorkspaceError::Unlinked { .. }), "{err}");
    assert!(err.to_string().contains("its .git points to"), "{err}");
    assert_eq!(git(root, &["rev-parse", "HEAD"]), main_head);
    assert_eq!(git(root, &["status", "--porcelain"]), "");
}
