//! `agentry review-hard`: a strict next review, end to end with the real binary on temporary
//! repositories with scripted agents, from the command line and the API.

mod support;

use std::time::Duration;

use agentry_core::IssueId;
use agentry_engine::review_hard::{ReviewHardMark, pending_mark};
use agentry_store::SqliteStore;
use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{
    PASS, Repo, assert_refused, git, git_stdout, rule, scripted_repo, snapshot_types, strings,
    write_step,
};

/// A reviewer's answer that passes but still lists a failed item.
const PASS_WITH_ITEM: &str = r#"{ say = "Fine overall.\n```json\n{\"verdict\": \"pass\", \"failed_items\": [\"no test for an empty name\"], \"fix_list\": [\"add one\"]}\n```" }"#;

const AUTH: &str = "Authorization: Bearer s3cret";

/// Replaces the steps file `scripted_repo` set up.
fn use_script(repo: &Repo, script: String) {
    std::fs::write(repo.file("script.toml"), script).unwrap();
}

fn mark(repo: &Repo, id: &str) -> Option<ReviewHardMark> {
    let store =
        SqliteStore::open(&repo.file(".agentry/agentry.db"), Duration::from_secs(5)).unwrap();
    let id: IssueId = id.parse().unwrap();
    pending_mark(&store, &id).unwrap()
}

fn events(detail: &Value) -> impl Iterator<Item = &Value> {
    detail["events"].as_array().unwrap().iter()
}

fn last_of<'a>(detail: &'a Value, event_type: &str) -> &'a Value {
    events(detail)
        .filter(|e| e["event_type"] == event_type)
        .last()
        .unwrap_or_else(|| panic!("no {event_type}"))
}

fn roles(detail: &Value) -> Vec<String> {
    let runs = detail["runs"].as_array().unwrap();
    runs.iter()
        .map(|r| r["role"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_pass_with_failed_items_passes_a_normal_review_and_is_fixed_under_a_strict_one() {
    let repo = scripted_repo();
    use_script(
        &repo,
        rule("implementer", "*", &[&[&write_step("done.txt", "ok")]])
            + &rule("fixer", "*", &[&[&write_step("empty-name-test.txt", "ok")]])
            + &rule("spec_reviewer", "*", &[&[PASS_WITH_ITEM], &[PASS]])
            + &rule("quality_reviewer", "*", &[&[PASS]]),
    );
    let normal = repo.add("Greet by name", &[]);
    let strict = repo.add("Greet by name, strictly", &[]);
    let said = repo.ok(&["review-hard", &strict]);
    assert!(
        said.starts_with(&format!("{strict}: its next review is strict")),
        "{said}"
    );
    assert!(mark(&repo, &strict).is_some());

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 2}));

    let detail = repo.show(&normal);
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(
        snapshot_types(&detail),
        [
            "SESSION_START",
            "IMPLEMENT_DONE",
            "SPEC_REVIEW_PASS",
            "QUALITY_REVIEW_PASS",
            "SESSION_DONE"
        ]
    );
    assert!(!roles(&detail).contains(&"fixer".to_string()));

    let detail = repo.show(&strict);
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(
        snapshot_types(&detail),
        [
            "SESSION_START",
            "IMPLEMENT_DONE",
            "SPEC_REVIEW_FAIL",
            "SPEC_FIX_APPLIED",
            "SPEC_REVIEW_PASS",
            "QUALITY_REVIEW_PASS",
            "SESSION_DONE"
        ]
    );
    let fail = &last_of(&detail, "SPEC_REVIEW_FAIL")["data"];
    assert_eq!(
        strings(&fail["failed_items"]),
        ["no test for an empty name"]
    );
    assert_eq!(strings(&fail["fix_list"]), ["add one"]);
    assert!(roles(&detail).contains(&"fixer".to_string()));
    assert_eq!(
        last_of(&detail, "REVIEW_HARD_REQUESTED")["data"]["issue_id"],
        strict
    );
    assert_eq!(
        mark(&repo, &strict),
        None,
        "the strict review used the mark up"
    );
}

#[test]
fn a_strict_review_verifies_a_fresh_worktree_which_lacks_uncommitted_files() {
    let repo = scripted_repo();
    std::fs::write(repo.file(".gitignore"), "build/\n").unwrap();
    git(repo.path(), &["add", ".gitignore"]);
    git(repo.path(), &["commit", "-q", "-m", "ignore build output"]);
    let implementer: &[&str] = &[&write_step("done.txt", "ok"), &write_step("build/ok", "ok")];
    use_script(
        &repo,
        rule("implementer", "*", &[implementer])
            + &rule("spec_reviewer", "*", &[&[PASS]])
            + &rule("quality_reviewer", "*", &[&[PASS]]),
    );
    let verify = ["--verify", "test -f build/ok"];
    let normal = repo.add("Build it", &verify);
    let strict = repo.add("Build it, strictly", &verify);
    repo.ok(&["review-hard", &strict]);

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1, "verify_failed": 1}));
    assert_eq!(repo.show(&normal)["status"], "needs_review");

    let detail = repo.show(&strict);
    assert_eq!(
        detail["status"], "open",
        "back in the queue after a backoff"
    );
    let failed = &last_of(&detail, "VERIFY_FAILED")["data"];
    assert_eq!(
        strings(&failed["failed_items"]),
        ["fresh-worktree verification failed: verify exited with code 1: test -f build/ok"]
    );
    assert_eq!(
        mark(&repo, &strict),
        None,
        "the strict review used the mark up"
    );

    let worktrees = git_stdout(repo.path(), &["worktree", "list", "--porcelain"]);
    let paths: Vec<&str> = worktrees
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .collect();
    assert_eq!(
        paths.len(),
        2,
        "the main checkout and the normal issue's: {worktrees}"
    );
    assert!(
        paths[1].ends_with(&format!(".agentry/worktrees/{normal}")),
        "{worktrees}"
    );
}

#[test]
fn review_hard_refuses_unknown_and_closed_issues() {
    let repo = Repo::initialized();
    let closed = repo.add("Done already", &[]);
    repo.ok(&["issue", "close", &closed]);
    assert_refused(&repo.run(&["review-hard", "i-zzzz"]), &["i-zzzz"]);
    assert_refused(&repo.run(&["review-hard", &closed]), &[&closed, "closed"]);

    let open = repo.add("Still open", &[]);
    let requested = repo.json(&["review-hard", &open, "--json"]);
    assert_eq!(requested["issue_id"], open);
    assert_eq!(requested["status"], "open");
    assert_eq!(requested["consumed_at"], Value::Null);
}

#[test]
fn the_api_marks_a_task_and_refuses_unknown_and_closed_ones() {
    let repo = Repo::initialized();
    let open = repo.add("Still open", &[]);
    let closed = repo.add("Done already", &[]);
    repo.ok(&["issue", "close", &closed]);
    let server = Server::start(
        &repo,
        &["--no-dispatch"],
        &[("SERVER__SERVICE_TOKEN", "s3cret")],
    );
    let path = |id: &str| format!("/api/v1/tasks/{id}/review-hard");

    assert_eq!(server.json("POST", &path(&open), &[], None).0, 401);
    let (status, error) = server.json("POST", &path("i-zzzz"), &[AUTH], None);
    assert_eq!(status, 404, "{error}");
    let (status, error) = server.json("POST", &path(&closed), &[AUTH], None);
    assert_eq!(status, 409, "{error}");
    assert!(error_of(&error).contains("closed"), "{error}");

    let (status, marked) = server.json("POST", &path(&open), &[AUTH], None);
    assert_eq!(status, 200, "{marked}");
    assert_eq!(
        (&marked["issue_id"], &marked["status"]),
        (&json!(open), &json!("open"))
    );
    let (_, detail) = server.get(&format!("/api/v1/tasks/{open}"));
    assert_eq!(
        detail["review_hard"]["requested_at"],
        marked["requested_at"]
    );
    assert_eq!(last_of(&detail, "REVIEW_HARD_REQUESTED")["issue_id"], open);
}
