//! Attacks on the repository: an agent that breaks its worktree's link or moves its branch,
//! that changes nothing or too much, and what a run killed mid-session leaves behind. No
//! sandbox in these tests: the git-level defense must hold on its own.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::{
    AgentProcess, PROCESS_BOUND, Repo, agentry_command, agentry_in, assert_refused, command_agent,
    events_of, git_stdout, json_of, scripted_repo, stderr, strings, wait_bounded,
};

/// A repository where agentry runs without a sandbox, the implementer is a command agent
/// running `script` with `sh -c` in its worktree, and the reviewers pass.
fn project(script: &str) -> Repo {
    let repo = without_sandbox();
    repo.append_config(&command_agent("shell", &["sh", "-c", script], ""));
    repo.set_config("implementer", "\"shell\"");
    repo
}

/// [`scripted_repo`] (the implementer writes `done.txt`) without a sandbox.
fn without_sandbox() -> Repo {
    let repo = scripted_repo();
    repo.set_config("mode", "\"off\"");
    repo
}

/// The failed items of the issue's `SESSION_ERROR` events, oldest first.
fn session_errors(repo: &Repo, id: &str) -> Vec<String> {
    events_of(&repo.show(id), "SESSION_ERROR")
        .iter()
        .flat_map(|event| strings(&event["data"]["failed_items"]))
        .collect()
}

/// The refs under `refs/agentry/attempts/<id>/`.
fn attempt_refs(repo: &Repo, id: &str) -> Vec<String> {
    let prefix = format!("refs/agentry/attempts/{id}/");
    let listed = git_stdout(
        repo.path(),
        &["for-each-ref", "--format=%(refname)", &prefix],
    );
    listed.lines().map(str::to_string).collect()
}

/// A person's checkout as git and the disk have it: HEAD, the index, the tracked files'
/// status, and the files the test wrote there.
fn checkout_state(repo: &Repo) -> Vec<String> {
    let git = |args: &[&str]| git_stdout(repo.path(), args);
    vec![
        git(&["rev-parse", "HEAD"]),
        git(&["ls-files", "--stage"]),
        git(&["status", "--porcelain", "--untracked-files=no"]),
        repo.read("README.md"),
        repo.read("draft.txt"),
    ]
}

/// Whether the repository holds an object with this content, written or not by a commit.
fn stores_content(repo: &Repo, content: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("probe");
    std::fs::write(&file, content).unwrap();
    let sha = git_stdout(repo.path(), &["hash-object", &file.to_string_lossy()]);
    Command::new("git")
        .args([
            "-C",
            &repo.path().to_string_lossy(),
            "cat-file",
            "-e",
            sha.trim(),
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// `run --until-idle`, expected to be killed by its own agent or verify command.
fn run_killed_from_inside(repo: &Repo) {
    let out = agentry_in(repo.path(), &["run", "--until-idle", "--json"]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "the run was killed mid-session: {}",
        stderr(&out)
    );
}

/// A shell condition true the first time it runs only, across runs (`mkdir` is atomic).
fn first_time(flags: &Path) -> String {
    format!("mkdir {:?} 2>/dev/null", flags.join("once"))
}

#[test]
fn an_agent_that_deletes_its_worktree_git_gets_nothing_committed_in_the_users_checkout() {
    // Without its `.git` file, git in the worktree finds the user's repository above it.
    let repo = project("rm -rf .git && echo work > work.txt");
    let id = repo.add("Cut the worktree loose", &[]);
    std::fs::write(repo.file("README.md"), "the user's unfinished edit\n").unwrap();
    std::fs::write(repo.file("draft.txt"), "the user's untracked draft\n").unwrap();
    let before = checkout_state(&repo);

    repo.run_until_idle();

    assert_eq!(
        checkout_state(&repo),
        before,
        "the user's checkout is untouched"
    );
    assert_ne!(repo.show(&id)["status"], "needs_review");
    let errors = session_errors(&repo, &id);
    let named = "is no longer linked to the repository: its .git is gone";
    assert!(errors.iter().any(|e| e.contains(named)), "{errors:?}");
    let kept = attempt_refs(&repo, &id);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let work = git_stdout(repo.path(), &["show", &format!("{}:work.txt", kept[0])]);
    assert_eq!(work, "work\n");
}

#[test]
fn an_agent_that_moves_its_worktree_to_another_branch_never_reaches_review() {
    let repo = project(
        "git checkout -q -b other && echo work > work.txt && git add work.txt && \
         git -c user.name=agent -c user.email=agent@agentry.invalid commit -q -m elsewhere",
    );
    let id = repo.add("Work elsewhere", &[]);

    repo.run_until_idle();

    assert_ne!(repo.show(&id)["status"], "needs_review");
    let errors = session_errors(&repo, &id);
    let named = format!("left branch agentry/{id}: its HEAD is refs/heads/other");
    assert!(errors.iter().any(|e| e.contains(&named)), "{errors:?}");
    let kept = attempt_refs(&repo, &id);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let work = git_stdout(repo.path(), &["show", &format!("{}:work.txt", kept[0])]);
    assert_eq!(work, "work\n", "the work on the other branch is kept");
    let branch = format!("agentry/{id}");
    let on_branch = git_stdout(repo.path(), &["ls-tree", "-r", "--name-only", &branch]);
    assert!(!on_branch.lines().any(|f| f == "work.txt"), "{on_branch}");
}

#[test]
fn an_implementer_that_changes_nothing_never_reaches_review() {
    let repo = project("echo nothing to do here");
    let id = repo.add("Nothing to do", &[]);

    let summary = repo.run_until_idle();

    let detail = repo.show(&id);
    assert_ne!(detail["status"], "needs_review", "{summary}");
    assert_eq!(session_errors(&repo, &id), ["no change was made"]);
    for review in ["SPEC_REVIEW_PASS", "SPEC_REVIEW_FAIL"] {
        assert!(events_of(&detail, review).is_empty(), "no reviewer ran");
    }
}

#[test]
fn a_change_over_max_commit_bytes_ends_the_session_and_is_not_stored() {
    let repo = project("head -c 4096 /dev/zero > big.bin");
    repo.set_config("max_commit_bytes", "1024");
    let id = repo.add("Write a big file", &[]);

    repo.run_until_idle();

    assert_ne!(repo.show(&id)["status"], "needs_review");
    let errors = session_errors(&repo, &id);
    let named = "the change adds 4096 bytes, over session.max_commit_bytes (1024)";
    assert!(errors.iter().any(|e| e.contains(named)), "{errors:?}");
    assert!(
        !stores_content(&repo, &[0; 4096]),
        "the big file is not in git"
    );
}

#[test]
fn a_stale_index_lock_left_by_a_killed_run_is_removed_by_the_next_run() {
    let flags = tempfile::tempdir().unwrap();
    // The first time, the agent leaves git's lock behind and kills its orchestrator -9, as a
    // crash in the middle of a commit would.
    let repo = project(&format!(
        "if {}; then touch \"$(git rev-parse --git-path index.lock)\"; kill -9 $PPID; fi; \
         echo work > work.txt",
        first_time(flags.path())
    ));
    let id = repo.add("Survive a crash mid-commit", &[]);
    run_killed_from_inside(&repo);
    let lock = repo.file(&format!(".git/worktrees/{id}/index.lock"));
    assert!(lock.exists(), "the killed run left {}", lock.display());

    let next = agentry_command(
        repo.path(),
        &["run", "--until-idle", "--json"],
        &[("AGENTRY_LOG", "info")],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("agentry starts");
    let out = wait_bounded(next, PROCESS_BOUND, "the next run");

    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("removed stale") && log.contains("index.lock"),
        "{log}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["outcomes"], json!({"done": 1}), "{log}");
    assert_eq!(repo.show(&id)["status"], "needs_review");
}

#[test]
fn a_verify_command_left_by_a_killed_run_is_stopped_by_the_next_run() {
    let flags = tempfile::tempdir().unwrap();
    let pid_file = flags.path().join("verify.pid");
    // The first time, the verify command kills its orchestrator -9 and goes on running.
    let verify = format!(
        "if {}; then echo $$ > {:?}; kill -9 $PPID; exec sleep 600; fi",
        first_time(flags.path()),
        pid_file
    );
    let repo = without_sandbox();
    let id = repo.add("Verify through a crash", &["--verify", &verify]);
    run_killed_from_inside(&repo);
    let pid = std::fs::read_to_string(&pid_file).expect("the verify command wrote its pid");
    let verify_process = AgentProcess::new(pid.trim().parse().expect("a pid"));
    assert!(
        verify_process.running(),
        "the verify command outlives its run"
    );

    let summary = repo.run_until_idle();

    assert_eq!(summary["outcomes"], json!({"done": 1}));
    assert!(
        !verify_process.running(),
        "the next run's recovery stops the verify command {}",
        verify_process.pid
    );
    assert_eq!(repo.show(&id)["status"], "needs_review");
}

#[test]
fn max_workers_0_is_refused_like_the_config_value() {
    let repo = without_sandbox();
    let out = repo.run(&["run", "--until-idle", "--max-workers", "0"]);
    assert_refused(&out, &["--max-workers", "a whole number from 1 to 256"]);
    let ran = json_of(&agentry_in(
        repo.path(),
        &["run", "--until-idle", "--json", "--max-workers", "256"],
    ));
    assert_eq!(ran["outcomes"], json!({}));
}
