//! End-to-end tests of `agentry run` and `agentry merge-watch`: whole issue sessions with
//! scripted and command agents, each in its own temporary git repository.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agentry_core::Timestamp;
use serde_json::{Value, json};
use support::{
    AgentProcess, PROCESS_BOUND, QUIET, Repo, agentry_command, agentry_in, assert_ok,
    assert_refused, command_agent, git, git_stdout, ids, json_of, kill, processes_with, rule,
    snapshot_types, stdout, strings, wait_bounded, write_step,
};

/// A generous bound on waiting for an agent to start (not a timing assertion).
const START_BOUND: Duration = Duration::from_secs(60);

/// The keys of a `loop_snapshot.v1` snapshot.
const SNAPSHOT_KEYS: [&str; 13] = [
    "schema_version",
    "session_id",
    "orchestrator_id",
    "issue_id",
    "task_id",
    "event_type",
    "stage",
    "status",
    "attempts",
    "failed_items",
    "fix_list",
    "verify",
    "timestamp",
];

/// A reviewer's answer that passes.
const PASS: &str = r#"{ say = "Looks right.\n```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }"#;

// ---------------------------------------------------------------------------------------------
// Projects, agents and config

/// A repository with one commit on `main` (a README and `check.sh` with the text given) where
/// `agentry init` has run.
fn project(check_sh: &str) -> Repo {
    let repo = Repo::new();
    std::fs::write(repo.file("README.md"), "# a test project\n").unwrap();
    std::fs::write(repo.file("check.sh"), check_sh).unwrap();
    git(repo.path(), &["add", "README.md", "check.sh"]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    assert_ok(&repo.run(&["init"]));
    repo
}

/// Sets `key = value` (value as TOML) on the one line of config.toml that sets `key`.
fn set(repo: &Repo, key: &str, value: &str) {
    let path = repo.file(".agentry/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let prefix = format!("{key} = ");
    let mut found = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) {
                found += 1;
                format!("{key} = {value}")
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_eq!(found, 1, "config.toml sets {key} once:\n{text}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// Appends `[agents.NAME]` tables to config.toml.
fn add_agents(repo: &Repo, tables: &str) {
    let path = repo.file(".agentry/config.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push('\n');
    text.push_str(tables);
    std::fs::write(&path, text).unwrap();
}

/// Names the agents of the roles; the fixer is left empty (it is the implementer's agent).
fn set_roles(repo: &Repo, implementer: &str, reviewer: &str) {
    set(repo, "implementer", &format!("{implementer:?}"));
    set(repo, "spec_reviewer", &format!("{reviewer:?}"));
    set(repo, "quality_reviewer", &format!("{reviewer:?}"));
}

/// Writes `script` as `<name>.toml` at the root and returns its `[agents.NAME]` table.
fn scripted_agent(repo: &Repo, name: &str, script: &str) -> String {
    let file = format!("{name}.toml");
    std::fs::write(repo.file(&file), script).unwrap();
    format!("[agents.{name}]\nkind = \"scripted\"\nscript = {file:?}\n\n")
}

/// A scripted agent named `script` plays every role.
fn use_script(repo: &Repo, script: &str) {
    add_agents(repo, &scripted_agent(repo, "script", script));
    set_roles(repo, "script", "script");
}

/// A reviewer's answer that fails with one failed item and one fix.
fn fail_verdict(item: &str, fix: &str) -> String {
    format!(
        r#"{{ say = "Not yet.\n```json\n{{\"verdict\": \"fail\", \"failed_items\": [\"{item}\"], \"fix_list\": [\"{fix}\"]}}\n```" }}"#
    )
}

/// Reviewers that pass everything, and an implementer that plays `implementer` on any issue.
fn passing_script(implementer: &[&str]) -> String {
    rule("implementer", "*", &[implementer])
        + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]])
}

// ---------------------------------------------------------------------------------------------
// Processes

/// An agentry process started in the background, killed and reaped when dropped.
struct Background(Option<Child>);

impl Background {
    fn pid(&self) -> u32 {
        self.0.as_ref().expect("still running").id()
    }

    /// kill -9, then reap.
    fn kill_9(&mut self) {
        let mut child = self.0.take().expect("still running");
        child.kill().expect("agentry can be killed");
        child.wait().expect("agentry is reaped");
    }

    /// Waits for the process to end by itself, within `limit`.
    fn wait(&mut self, limit: Duration) -> Output {
        let child = self.0.take().expect("still running");
        wait_bounded(child, limit, "the background agentry run")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A project whose implementer is a command agent that runs `before` (shell), says its pid
/// through a FIFO, then blocks in `sleep <marker>`; a passing scripted agent `script` is
/// configured too, for the roles to be switched to later. One issue.
struct HangingProject {
    repo: Repo,
    id: String,
    fifo: PathBuf,
    _fifo_dir: tempfile::TempDir,
}

fn hanging_project(marker: &str, before: &str, settings: &[(&str, &str)]) -> HangingProject {
    let repo = project("test -f src/after.txt\n");
    // These agents outlive their orchestrator and say their pid, as seen from outside, through
    // a FIFO outside their worktree: what only an unsandboxed agent does.
    set(&repo, "mode", "\"off\"");
    let fifo_dir = tempfile::tempdir().unwrap();
    let fifo = fifo_dir.path().join("started.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo works");
    let hang = command_agent(
        "hang",
        &[
            "sh",
            "-c",
            &format!("{before}echo $$ > \"$AGENTRY_TEST_FIFO\"; exec sleep {marker}"),
        ],
        &format!(
            "env = {{ AGENTRY_TEST_FIFO = {:?} }}\n",
            fifo.display().to_string()
        ),
    );
    let script = passing_script(&[&write_step("src/after.txt", "after the restart")]);
    add_agents(&repo, &(hang + &scripted_agent(&repo, "script", &script)));
    set_roles(&repo, "hang", "script");
    for (key, value) in settings {
        set(&repo, key, value);
    }
    let id = repo.add("Survive a crash", &["--verify", "sh check.sh"]);
    HangingProject {
        repo,
        id,
        fifo,
        _fifo_dir: fifo_dir,
    }
}

impl HangingProject {
    /// Starts `agentry run` (no --until-idle) in the background and waits for the agent to
    /// say its pid through the FIFO.
    fn start(&self) -> (Background, AgentProcess) {
        let started = read_fifo(self.fifo.clone());
        let child = agentry_command(self.repo.path(), &["run"], &QUIET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("agentry starts");
        let agentry = Background(Some(child));
        let said = started
            .recv_timeout(START_BOUND)
            .expect("the agent starts and writes its pid to the FIFO");
        let pid: u32 = said.trim().parse().expect("the agent wrote its pid");
        let agent = AgentProcess::new(pid);
        assert!(agent.running(), "the agent {pid} runs");
        (agentry, agent)
    }
}

/// The pids of the agent runs the store knows as running.
fn recorded_agent_pids(repo: &Repo) -> Vec<u32> {
    use agentry_store::{SqliteStore, Store};
    let store = SqliteStore::open(&repo.file(".agentry/agentry.db"), Duration::from_secs(5))
        .expect("the store opens");
    store
        .live_agent_runs()
        .expect("agent runs can be read")
        .into_iter()
        .map(|run| run.pid)
        .collect()
}

/// Reads the whole FIFO from a thread (opening it blocks until a writer comes).
fn read_fifo(path: PathBuf) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(text) = std::fs::read_to_string(path) {
            let _ = send.send(text);
        }
    });
    receive
}

// ---------------------------------------------------------------------------------------------
// Reading issues and events

fn events(detail: &Value) -> &Vec<Value> {
    detail["events"].as_array().expect("events")
}

/// The events that carry a `loop_snapshot.v1` snapshot.
fn snapshots(detail: &Value) -> Vec<&Value> {
    events(detail)
        .iter()
        .filter(|e| e["data"].get("schema_version").is_some())
        .collect()
}

fn types(detail: &Value) -> Vec<String> {
    events(detail)
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

/// The events of one type.
fn of_type<'a>(detail: &'a Value, event_type: &str) -> Vec<&'a Value> {
    events(detail)
        .iter()
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

/// The one event of a type.
fn only<'a>(detail: &'a Value, event_type: &str) -> &'a Value {
    let found = of_type(detail, event_type);
    assert_eq!(found.len(), 1, "one {event_type} in {detail:#}");
    found[0]
}

/// The (from, to, reason) of every status change.
fn status_changes(detail: &Value) -> Vec<(String, String, String)> {
    of_type(detail, "STATUS_CHANGED")
        .iter()
        .map(|e| {
            let data = &e["data"];
            (
                data["from"].as_str().unwrap().to_string(),
                data["to"].as_str().unwrap().to_string(),
                data["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn micros(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    text.parse::<Timestamp>()
        .unwrap_or_else(|e| panic!("not a timestamp: {text}: {e}"))
        .unix_micros()
}

/// The event ids of an issue's (one) `SESSION_START` and (one) `SESSION_DONE`.
fn session_span(repo: &Repo, id: &str) -> (i64, i64) {
    let detail = repo.show(id);
    let start = only(&detail, "SESSION_START")["id"].as_i64().unwrap();
    let done = only(&detail, "SESSION_DONE")["id"].as_i64().unwrap();
    (start, done)
}

fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn worktree(repo: &Repo, id: &str) -> PathBuf {
    repo.file(&format!(".agentry/worktrees/{id}"))
}

fn branch(id: &str) -> String {
    format!("agentry/{id}")
}

fn git_out(repo: &Repo, args: &[&str]) -> String {
    git_stdout(repo.path(), args)
}

/// Whether `git worktree list` names the issue's worktree.
fn worktree_registered(repo: &Repo, id: &str) -> bool {
    git_out(repo, &["worktree", "list", "--porcelain"])
        .lines()
        .any(|line| line.ends_with(&format!("/.agentry/worktrees/{id}")))
}

// ---------------------------------------------------------------------------------------------
// A session from start to review

#[test]
fn a_clean_session_records_five_snapshots_and_leaves_one_commit_for_review() {
    let repo = project("grep -q hello src/greeting.txt\n");
    use_script(
        &repo,
        &passing_script(&[
            &write_step("src/greeting.txt", "hello"),
            r#"{ say = "done" }"#,
        ]),
    );
    let id = repo.add(
        "Add a greeting",
        &[
            "--verify",
            "sh check.sh",
            "--scope",
            "src/**",
            "--done-when",
            "src/greeting.txt says hello",
        ],
    );

    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 1, "outcomes": {"done": 1}, "issues": {"needs_review": 1}})
    );

    let detail = repo.show(&id);
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
    let snaps = snapshots(&detail);
    let session_id = snaps[0]["session_id"].clone();
    assert!(session_id.is_string());
    for event in &snaps {
        let data = &event["data"];
        let keys: BTreeSet<&str> = data
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(SNAPSHOT_KEYS), "snapshot keys: {data}");
        assert_eq!(data["schema_version"], "loop_snapshot.v1");
        assert_eq!(data["event_type"], event["event_type"]);
        assert_eq!(data["issue_id"], id.as_str());
        assert_eq!(data["task_id"], id.as_str());
        assert_eq!(data["session_id"], session_id);
        assert_eq!(event["session_id"], session_id);
        let timestamp = data["timestamp"].as_str().unwrap();
        assert!(timestamp.ends_with('Z'), "UTC timestamp: {timestamp}");
    }
    let stages: Vec<(&str, &str)> = snaps
        .iter()
        .map(|e| {
            (
                e["data"]["stage"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("RUNNING", "START"),
            ("RUNNING", "PASS"),
            ("SPEC_REVIEW", "PASS"),
            ("QUALITY_REVIEW", "PASS"),
            ("REVIEW_GATE", "NEEDS_REVIEW"),
        ]
    );
    let done = &snaps[4]["data"];
    assert_eq!(done["attempts"], json!({"spec": 1, "quality": 1}));
    assert_eq!(done["verify"]["command"], "sh check.sh");
    assert_eq!(done["verify"]["exit_code"], 0);
    assert!(
        done["verify"]["produced_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let moves: Vec<(String, String)> = status_changes(&detail)
        .into_iter()
        .map(|(from, to, _)| (from, to))
        .collect();
    assert_eq!(
        moves,
        [
            ("open".to_string(), "in_progress".to_string()),
            ("in_progress".to_string(), "needs_review".to_string())
        ]
    );

    let head = branch(&id);
    assert_eq!(
        git_out(&repo, &["log", "-1", "--format=%B", &head]).trim_end(),
        format!("Add a greeting\n\nAgentry-Issue: {id}")
    );
    assert_eq!(
        git_out(&repo, &["rev-list", "--count", &format!("main..{head}")]).trim(),
        "1"
    );
    assert_eq!(
        git_out(&repo, &["show", &format!("{head}:src/greeting.txt")]),
        "hello\n"
    );
    assert_eq!(git_out(&repo, &["rev-list", "--count", "main"]).trim(), "1");
    assert!(worktree(&repo, &id).join("src/greeting.txt").is_file());
    assert!(worktree_registered(&repo, &id), "the worktree is kept");
}

#[test]
fn a_failed_spec_review_is_fixed_and_passes_at_the_second_attempt() {
    let repo = project("test -f src/greeting.txt\n");
    let failed = fail_verdict("the greeting is not capitalised", "capitalise it");
    let script = rule(
        "implementer",
        "*",
        &[&[&write_step("src/greeting.txt", "hello")]],
    ) + &rule("fixer", "*", &[&[&write_step("src/greeting.txt", "Hello")]])
        + &rule("spec_reviewer", "*", &[&[&failed], &[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    use_script(&repo, &script);
    let id = repo.add("Greet politely", &["--verify", "sh check.sh"]);

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));

    let detail = repo.show(&id);
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
    let fail = &only(&detail, "SPEC_REVIEW_FAIL")["data"];
    assert_eq!(
        (&fail["stage"], &fail["status"]),
        (&json!("SPEC_REVIEW"), &json!("FAIL"))
    );
    assert_eq!(
        strings(&fail["failed_items"]),
        ["the greeting is not capitalised"]
    );
    assert_eq!(strings(&fail["fix_list"]), ["capitalise it"]);
    assert_eq!(fail["attempts"], json!({"spec": 1, "quality": 0}));
    let fixed = &only(&detail, "SPEC_FIX_APPLIED")["data"];
    assert_eq!(
        (&fixed["stage"], &fixed["status"]),
        (&json!("SPEC_FIX"), &json!("PASS"))
    );
    let pass = &only(&detail, "SPEC_REVIEW_PASS")["data"];
    assert_eq!(pass["attempts"], json!({"spec": 2, "quality": 0}));
    assert_eq!(pass["failed_items"], json!([]));
    let quality = &only(&detail, "QUALITY_REVIEW_PASS")["data"];
    assert_eq!(quality["attempts"], json!({"spec": 2, "quality": 1}));

    let head = branch(&id);
    assert_eq!(
        git_out(&repo, &["rev-list", "--count", &format!("main..{head}")]).trim(),
        "2",
        "the implementer's commit and the fixer's"
    );
    assert_eq!(
        git_out(&repo, &["show", &format!("{head}:src/greeting.txt")]),
        "Hello\n"
    );
    assert_eq!(
        git_out(&repo, &["log", "-1", "--format=%B", &head]).trim_end(),
        format!("Greet politely\n\nAgentry-Issue: {id}")
    );
}

// ---------------------------------------------------------------------------------------------
// Overflow into [FIX] issues

/// A project whose quality reviewer fails every issue but a `[FIX]` one, and one issue with
/// scope, verify and a definition of done, after `run --until-idle`. Returns the repository,
/// the run's summary, the original's id and the `[FIX]` issue's id.
fn overflowed_project() -> (Repo, Value, String, String) {
    let repo = project("test -f src/feature.txt\n");
    let failed = fail_verdict("the feature has no tests", "add a test");
    let script = rule(
        "implementer",
        "[FIX]",
        &[&[&write_step("src/test.txt", "a test")]],
    ) + &rule(
        "implementer",
        "*",
        &[&[&write_step("src/feature.txt", "v1")]],
    ) + &rule("fixer", "*", &[&[&write_step("src/feature.txt", "v2")]])
        + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "[FIX]", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[&failed]]);
    use_script(&repo, &script);
    let id = repo.add(
        "Build the feature",
        &[
            "--body",
            "Make the feature work.",
            "--priority",
            "1",
            "--scope",
            "src/**",
            "--verify",
            "sh check.sh",
            "--done-when",
            "the feature works",
            "--done-when",
            "the feature has a test",
        ],
    );
    let summary = repo.run_until_idle();
    let all = repo.json(&["issue", "list", "--json"]);
    let others: Vec<String> = ids(&all).into_iter().filter(|other| *other != id).collect();
    assert_eq!(others.len(), 1, "one [FIX] issue: {all:#}");
    let fix = others[0].clone();
    (repo, summary, id, fix)
}

#[test]
fn a_quality_review_cap_overflows_into_a_fix_issue_that_runs_from_the_original_branch() {
    let (repo, summary, id, fix) = overflowed_project();
    assert_eq!(
        summary,
        json!({"sessions": 2, "outcomes": {"done": 1, "overflowed": 1}, "issues": {"needs_review": 2}})
    );

    let original = repo.show(&id);
    assert_eq!(original["status"], "needs_review");
    assert_eq!(
        snapshot_types(&original),
        [
            "SESSION_START",
            "IMPLEMENT_DONE",
            "SPEC_REVIEW_PASS",
            "QUALITY_REVIEW_FAIL",
            "QUALITY_FIX_APPLIED",
            "QUALITY_REVIEW_FAIL",
            "OVERFLOW_FIX_CREATED"
        ]
    );
    let last_fail = of_type(&original, "QUALITY_REVIEW_FAIL")[1];
    assert_eq!(
        last_fail["data"]["attempts"],
        json!({"spec": 1, "quality": 2})
    );
    let created = &only(&original, "OVERFLOW_FIX_CREATED")["data"];
    assert_eq!(
        (&created["stage"], &created["status"]),
        (&json!("OVERFLOW"), &json!("FIX_CREATED"))
    );
    assert!(
        original["links"]
            .as_array()
            .unwrap()
            .contains(&json!({"src": id, "kind": "depends-on", "dst": fix})),
        "the original depends on its [FIX] issue: {:#}",
        original["links"]
    );
    let (_, to, reason) = status_changes(&original).pop().unwrap();
    assert_eq!(to, "needs_review");
    assert!(reason.contains(&fix), "{reason}");

    let detail = repo.show(&fix);
    assert_eq!(detail["title"], format!("[FIX] {id}: Build the feature"));
    let body = detail["body"].as_str().unwrap();
    for needle in [
        id.as_str(),
        "QUALITY_REVIEW failed at attempt 2/2",
        "the feature has no tests",
        "add a test",
        "`sh check.sh` exited 0",
        "the feature works",
        "the feature has a test",
        "Make the feature work.",
    ] {
        assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
    }
    for field in ["scope", "verify", "done_when", "priority"] {
        assert_eq!(detail[field], original[field], "{field} is inherited");
    }
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(
        snapshot_types(&detail).last().map(String::as_str),
        Some("SESSION_DONE")
    );

    // The [FIX] branch starts from the original's: it holds the original's commits.
    git(
        repo.path(),
        &["merge-base", "--is-ancestor", &branch(&id), &branch(&fix)],
    );
    assert_eq!(
        git_out(
            &repo,
            &["show", &format!("{}:src/feature.txt", branch(&fix))]
        ),
        "v2\n"
    );
    assert_eq!(
        git_out(&repo, &["log", "-1", "--format=%B", &branch(&fix)]).trim_end(),
        format!("[FIX] {id}: Build the feature\n\nAgentry-Issue: {fix}")
    );
}

#[test]
fn a_fix_issue_that_overflows_again_is_blocked_not_split() {
    let repo = project("true\n");
    set(&repo, "quality_review_max_attempts", "1");
    let failed = fail_verdict("still no tests", "add a test");
    let script = rule(
        "implementer",
        "*",
        &[&[&write_step("src/feature.txt", "v1")]],
    ) + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[&failed]]);
    use_script(&repo, &script);
    let id = repo.add("Never good enough", &["--verify", "sh check.sh"]);

    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 2, "outcomes": {"escalated": 1, "overflowed": 1}, "issues": {"blocked": 1, "needs_review": 1}})
    );
    let all = ids(&repo.json(&["issue", "list", "--json"]));
    assert_eq!(all.len(), 2, "no second [FIX] issue: {all:?}");
    let fix = all.into_iter().find(|other| *other != id).unwrap();

    let detail = repo.show(&fix);
    assert_eq!(detail["title"], format!("[FIX] {id}: Never good enough"));
    assert_eq!(detail["status"], "blocked");
    assert!(of_type(&detail, "OVERFLOW_FIX_CREATED").is_empty());
    let last = *snapshots(&detail).last().unwrap();
    assert_eq!(last["event_type"], "SESSION_ERROR");
    assert_eq!(
        (&last["data"]["stage"], &last["data"]["status"]),
        (&json!("OVERFLOW"), &json!("FAIL"))
    );
    let first_item = last["data"]["failed_items"][0].as_str().unwrap();
    assert!(
        first_item.contains("QUALITY_REVIEW failed at attempt 1/1")
            && first_item.contains("escalated"),
        "{first_item}"
    );
    let (_, to, reason) = status_changes(&detail).pop().unwrap();
    assert_eq!(to, "blocked");
    assert!(reason.contains("escalated"), "{reason}");
    assert!(
        detail["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|link| link["src"] != fix.as_str()),
        "the [FIX] issue depends on nothing new: {:#}",
        detail["links"]
    );
}

// ---------------------------------------------------------------------------------------------
// Failures

#[test]
fn a_failed_final_verification_reopens_the_issue_after_a_backoff_and_removes_its_worktree() {
    let repo = project("grep -q done src/feature.txt\n");
    use_script(
        &repo,
        &passing_script(&[&write_step("src/feature.txt", "not yet")]),
    );
    let id = repo.add("Half-finished work", &["--verify", "sh check.sh"]);

    // The run ends although the issue waits out a backoff.
    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 1, "outcomes": {"verify_failed": 1}, "issues": {"open": 1}})
    );

    let detail = repo.show(&id);
    assert_eq!(detail["status"], "open");
    assert_eq!(
        snapshot_types(&detail).last().map(String::as_str),
        Some("VERIFY_FAILED")
    );
    let failed = only(&detail, "VERIFY_FAILED");
    let data = &failed["data"];
    assert_eq!(
        (&data["stage"], &data["status"]),
        (&json!("VERIFICATION"), &json!("VERIFY_FAILED"))
    );
    assert_eq!(
        strings(&data["failed_items"]),
        ["verify exited with code 1: sh check.sh"]
    );
    assert_eq!(data["verify"]["exit_code"], 1);
    let backoff = micros(&detail["ready_at"]) - micros(&failed["created_at"]);
    assert!(
        (5_000_000..=30_000_000).contains(&backoff),
        "ready_at is {backoff} µs after VERIFY_FAILED"
    );
    assert!(
        repo.ready_ids(&[]).is_empty(),
        "not ready during the backoff"
    );

    assert!(!worktree(&repo, &id).exists(), "the worktree is removed");
    assert!(!worktree_registered(&repo, &id));
    assert_eq!(
        git_out(
            &repo,
            &["show", &format!("{}:src/feature.txt", branch(&id))]
        ),
        "not yet\n",
        "the branch is kept with the work"
    );
}

#[test]
fn after_max_sessions_failed_sessions_the_issue_is_blocked_naming_the_count() {
    let repo = project("true\n");
    set(&repo, "max_sessions", "1");
    add_agents(
        &repo,
        &command_agent("crash", &["sh", "-c", "echo kaput >&2; exit 4"], ""),
    );
    set_roles(&repo, "crash", "crash");
    let id = repo.add("Doomed", &["--verify", "sh check.sh"]);

    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 1, "outcomes": {"error": 1}, "issues": {"blocked": 1}})
    );
    let detail = repo.show(&id);
    assert_eq!(detail["status"], "blocked");
    let (from, to, reason) = status_changes(&detail).pop().unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("in_progress", "blocked"));
    assert!(
        reason.contains("1 of 1 sessions failed") && reason.contains("kaput"),
        "{reason}"
    );
}

#[test]
fn a_crashing_agent_ends_the_session_with_its_exit_code_and_stderr_and_a_backoff() {
    let repo = project("true\n");
    add_agents(
        &repo,
        &command_agent("crash", &["sh", "-c", "echo boom >&2; exit 3"], ""),
    );
    set_roles(&repo, "crash", "crash");
    let id = repo.add("Crash and burn", &["--verify", "sh check.sh"]);

    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 1, "outcomes": {"error": 1}, "issues": {"open": 1}})
    );
    let detail = repo.show(&id);
    assert_eq!(detail["status"], "open");
    assert_eq!(snapshot_types(&detail), ["SESSION_START", "SESSION_ERROR"]);
    let error = only(&detail, "SESSION_ERROR");
    let items = strings(&error["data"]["failed_items"]);
    assert_eq!(items.len(), 1);
    assert!(
        items[0].contains("code 3") && items[0].contains("boom"),
        "{items:?}"
    );
    assert_eq!(
        (&error["data"]["stage"], &error["data"]["status"]),
        (&json!("RUNNING"), &json!("FAIL"))
    );
    let backoff = micros(&detail["ready_at"]) - micros(&error["created_at"]);
    assert!(
        (5_000_000..=30_000_000).contains(&backoff),
        "ready_at is {backoff} µs after SESSION_ERROR"
    );
    assert!(!worktree(&repo, &id).exists());
}

#[test]
fn a_hanging_agent_is_stopped_at_its_timeout_and_leaves_no_process_behind() {
    const MARKER: &str = "600.123";
    let repo = project("true\n");
    add_agents(
        &repo,
        &command_agent("hang", &["sleep", MARKER], "timeout_secs = 1\n"),
    );
    set_roles(&repo, "hang", "hang");
    let id = repo.add("Hang forever", &["--verify", "sh check.sh"]);

    let began = Instant::now();
    let summary = repo.run_until_idle();
    let took = began.elapsed();
    assert!(took < Duration::from_secs(60), "the run took {took:?}");
    assert_eq!(summary["outcomes"], json!({"error": 1}));

    let detail = repo.show(&id);
    let error = only(&detail, "SESSION_ERROR");
    let items = strings(&error["data"]["failed_items"]);
    assert!(items[0].contains("timed out after 1s"), "{items:?}");
    assert_eq!(
        processes_with(MARKER),
        Vec::<u32>::new(),
        "no agent is left"
    );
}

#[test]
fn agents_flooding_their_output_still_complete_the_session() {
    let repo = project("test -f flood.txt\n");
    // Several MB of lines on stdout, a 3 MB line without a newline, 2 MB on stderr.
    let implementer = command_agent(
        "flood",
        &[
            "sh",
            "-c",
            "yes 'a line of flooding output, 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c 6000000; \
             head -c 3000000 /dev/zero | tr '\\0' x; echo; \
             yes 'flooding stderr' | head -c 2000000 >&2; \
             echo flooded > flood.txt",
        ],
        "",
    );
    // A reviewer whose verdict comes after 6 MB of thinking aloud.
    let reviewer = command_agent(
        "chatty",
        &[
            "sh",
            "-c",
            r#"yes 'reviewing the change line by line' | head -c 6000000; printf '\nAll good.\n```json\n{"verdict": "pass"}\n```\n'"#,
        ],
        "",
    );
    let script = rule("quality_reviewer", "*", &[&[PASS]]);
    add_agents(
        &repo,
        &(implementer + &reviewer + &scripted_agent(&repo, "review", &script)),
    );
    set_roles(&repo, "flood", "review");
    set(&repo, "spec_reviewer", "\"chatty\"");
    let id = repo.add("Talk a lot", &["--verify", "sh check.sh"]);

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    let detail = repo.show(&id);
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
    assert_eq!(
        git_out(&repo, &["show", &format!("{}:flood.txt", branch(&id))]),
        "flooded\n"
    );
    // The whole output is in the implementer's log of normalised events.
    let session = only(&detail, "SESSION_START")["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = repo.file(&format!(".agentry/logs/{session}/01-implementer.jsonl"));
    let size = std::fs::metadata(&log)
        .unwrap_or_else(|e| panic!("{}: {e}", log.display()))
        .len();
    assert!(size >= 11_000_000, "the log has {size} bytes");
}

// ---------------------------------------------------------------------------------------------
// Scheduling

#[test]
fn one_worker_starts_sessions_in_priority_order() {
    let repo = project("true\n");
    use_script(
        &repo,
        &passing_script(&[r#"{ run = "echo $AGENTRY_ISSUE_ID > work-$AGENTRY_ISSUE_ID.txt" }"#]),
    );
    let ids: Vec<(String, String)> = ["3", "0", "1", "2"]
        .iter()
        .map(|p| {
            (
                p.to_string(),
                repo.add(
                    &format!("priority {p}"),
                    &["--priority", p, "--verify", "sh check.sh"],
                ),
            )
        })
        .collect();

    let summary = repo.run_until_idle_with(&["--max-workers", "1"]);
    assert_eq!(summary["outcomes"], json!({"done": 4}));

    let mut spans: Vec<(i64, i64, String)> = ids
        .iter()
        .map(|(p, id)| {
            let (start, done) = session_span(&repo, id);
            (start, done, p.clone())
        })
        .collect();
    spans.sort();
    let order: Vec<&str> = spans.iter().map(|(_, _, p)| p.as_str()).collect();
    assert_eq!(order, ["0", "1", "2", "3"]);
    for pair in spans.windows(2) {
        assert!(pair[0].1 < pair[1].0, "one at a time: {spans:?}");
    }
}

#[test]
fn four_workers_overlap_disjoint_sessions_and_one_worker_runs_them_one_by_one() {
    let repo = project("true\n");
    use_script(
        &repo,
        &passing_script(&[
            "{ sleep_ms = 600 }",
            r#"{ run = "echo $AGENTRY_ISSUE_ID > work-$AGENTRY_ISSUE_ID.txt" }"#,
        ]),
    );
    let batch = |name: &str| -> Vec<String> {
        ["a", "b", "c", "d"]
            .iter()
            .map(|area| {
                repo.add(
                    &format!("{name} {area}"),
                    &[
                        "--scope",
                        &format!("{name}-{area}/**"),
                        "--verify",
                        "sh check.sh",
                    ],
                )
            })
            .collect()
    };
    let spans_of = |ids: &[String]| -> Vec<(i64, i64)> {
        ids.iter().map(|id| session_span(&repo, id)).collect()
    };
    let overlapping = |spans: &[(i64, i64)]| -> usize {
        let mut n = 0;
        for (i, a) in spans.iter().enumerate() {
            n += spans[i + 1..].iter().filter(|b| overlaps(*a, **b)).count();
        }
        n
    };

    let parallel = batch("parallel");
    let summary = repo.run_until_idle_with(&["--max-workers", "4"]);
    assert_eq!(summary["outcomes"], json!({"done": 4}));
    let spans = spans_of(&parallel);
    assert!(
        overlapping(&spans) >= 1,
        "at least two sessions ran at once: {spans:?}"
    );

    let serial = batch("serial");
    let summary = repo.run_until_idle_with(&["--max-workers", "1"]);
    assert_eq!(summary["outcomes"], json!({"done": 4}));
    let spans = spans_of(&serial);
    assert_eq!(overlapping(&spans), 0, "one at a time: {spans:?}");
}

#[test]
fn overlapping_scopes_never_run_at_once_and_the_later_notes_a_scope_wait() {
    let repo = project("true\n");
    use_script(
        &repo,
        &passing_script(&[
            "{ sleep_ms = 300 }",
            r#"{ run = "echo $AGENTRY_ISSUE_ID > work-$AGENTRY_ISSUE_ID.txt" }"#,
        ]),
    );
    let wide = repo.add("Wide", &["--scope", "src/**", "--verify", "sh check.sh"]);
    let narrow = repo.add(
        "Narrow",
        &["--scope", "src/app/*.rs", "--verify", "sh check.sh"],
    );

    let summary = repo.run_until_idle_with(&["--max-workers", "2"]);
    assert_eq!(summary["outcomes"], json!({"done": 2}));
    let (a, b) = (session_span(&repo, &wide), session_span(&repo, &narrow));
    assert!(!overlaps(a, b), "never at once: {a:?} {b:?}");

    let (first, later, later_scope, first_scope) = if a.0 < b.0 {
        (&wide, &narrow, "src/app/*.rs", "src/**")
    } else {
        (&narrow, &wide, "src/**", "src/app/*.rs")
    };
    let detail = repo.show(later);
    let wait = only(&detail, "SCOPE_WAIT");
    assert_eq!(wait["data"]["waits_for"], first.as_str());
    assert_eq!(wait["data"]["scope"], later_scope);
    assert_eq!(wait["data"]["overlaps"], first_scope);
    assert!(
        wait["id"].as_i64() < Some(session_span(&repo, later).0),
        "the wait comes before the start"
    );
    assert!(of_type(&repo.show(first), "SCOPE_WAIT").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Dependencies and merge-close

#[test]
fn a_dependent_issue_runs_once_its_dependency_is_merged_and_closed() {
    let repo = project("true\n");
    let script = rule(
        "implementer",
        "Add the parser",
        &[&[&write_step("src/parser.txt", "parser")]],
    ) + &rule(
        "implementer",
        "Use the parser",
        &[&[&write_step("src/user.txt", "user")]],
    ) + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    use_script(&repo, &script);
    let a = repo.add("Add the parser", &["--verify", "sh check.sh"]);
    let b = repo.add(
        "Use the parser",
        &["--verify", "sh check.sh", "--depends-on", &a],
    );

    let summary = repo.run_until_idle();
    assert_eq!(
        summary,
        json!({"sessions": 1, "outcomes": {"done": 1}, "issues": {"needs_review": 1, "open": 1}})
    );
    assert!(of_type(&repo.show(&b), "SESSION_START").is_empty());
    assert_eq!(repo.show(&b)["status"], "open");

    // Nothing is merged yet: merge-watch does nothing.
    let out = agentry_in(repo.path(), &["merge-watch", "--once"]);
    assert_eq!(assert_ok(&out), "");
    assert_eq!(repo.show(&a)["status"], "needs_review");

    git(
        repo.path(),
        &[
            "merge",
            "--no-ff",
            "-q",
            "-m",
            "Merge the parser",
            &branch(&a),
        ],
    );
    let head = git_out(&repo, &["rev-parse", &branch(&a)])
        .trim()
        .to_string();
    let out = agentry_in(repo.path(), &["merge-watch", "--once"]);
    let printed = assert_ok(&out);
    assert!(printed.starts_with(&format!("{a}: ")), "{printed}");

    let detail = repo.show(&a);
    assert_eq!(detail["status"], "closed");
    let evidence = only(&detail, "MERGE_EVIDENCE_RECORDED");
    assert_eq!(evidence["data"]["evidence"]["branch_head"], head.as_str());
    only(&detail, "MERGE_CLOSE_APPLIED");
    let (from, to, _) = status_changes(&detail).pop().unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("needs_review", "closed"));
    assert!(
        !worktree(&repo, &a).exists(),
        "a closed issue's worktree goes"
    );

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    assert_eq!(repo.show(&b)["status"], "needs_review");
    git(
        repo.path(),
        &["merge-base", "--is-ancestor", &branch(&a), &branch(&b)],
    );

    let (events_a, events_b) = (events(&repo.show(&a)).len(), events(&repo.show(&b)).len());
    let out = agentry_in(repo.path(), &["merge-watch", "--once"]);
    assert_eq!(assert_ok(&out), "", "a second look records nothing new");
    assert_eq!(events(&repo.show(&a)).len(), events_a);
    assert_eq!(events(&repo.show(&b)).len(), events_b);
}

#[test]
fn merging_a_fix_issue_branch_closes_its_parent_waiting_in_review() {
    let (repo, _, id, fix) = overflowed_project();
    git(
        repo.path(),
        &[
            "merge",
            "--no-ff",
            "-q",
            "-m",
            "Merge the fix",
            &branch(&fix),
        ],
    );
    let out = agentry_in(repo.path(), &["merge-watch", "--once"]);
    assert_ok(&out);

    let fixed = repo.show(&fix);
    assert_eq!(fixed["status"], "closed");
    only(&fixed, "MERGE_CLOSE_APPLIED");

    let parent = repo.show(&id);
    assert_eq!(parent["status"], "closed");
    let closed = only(&parent, "OVERFLOW_PARENT_CLOSED_BY_FIX");
    assert_eq!(closed["data"]["fix_issue"], fix.as_str());
    let closing: Vec<_> = status_changes(&parent)
        .into_iter()
        .filter(|(_, to, _)| to == "closed")
        .collect();
    assert_eq!(closing.len(), 1, "{closing:?}");
    assert_eq!(closing[0].0, "needs_review");
    assert!(closing[0].2.contains(&fix), "{closing:?}");
    assert!(!worktree(&repo, &fix).exists() && !worktree(&repo, &id).exists());
}

#[test]
fn merge_watch_leaves_an_issue_whose_branch_has_nothing_of_its_own_in_review() {
    let repo = project("true\n");
    use_script(
        &repo,
        &passing_script(&[&write_step("src/done.txt", "done")]),
    );
    let id = repo.add("Already done", &["--verify", "sh check.sh"]);
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    assert_eq!(repo.show(&id)["status"], "needs_review");
    // Someone points the branch back at the base: it holds nothing of its own, and looks
    // merged to a check that only asks whether it is an ancestor of main.
    git(
        repo.path(),
        &["update-ref", &format!("refs/heads/{}", branch(&id)), "main"],
    );

    // Nobody merged anything.
    let out = agentry_in(repo.path(), &["merge-watch", "--once"]);
    let printed = assert_ok(&out);
    let detail = repo.show(&id);
    assert_eq!(
        detail["status"], "needs_review",
        "closed without a merge: {printed}"
    );
    assert!(of_type(&detail, "MERGE_EVIDENCE_RECORDED").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Crashes, leases and stops

#[test]
fn after_a_kill_9_the_next_run_stops_the_orphaned_agent_and_reruns_the_issue() {
    // The agent leaves uncommitted work behind when its orchestrator dies.
    let project = hanging_project("600.456", "echo partial > partial.txt; ", &[]);
    let (mut agentry, agent) = project.start();
    let HangingProject {
        repo,
        id,
        _fifo_dir,
        ..
    } = project;
    let killed_pid = agentry.pid();
    agentry.kill_9();
    assert!(
        agent.running(),
        "the agent survives its orchestrator (own process group)"
    );
    assert_eq!(repo.show(&id)["status"], "in_progress");

    set_roles(&repo, "script", "script");
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    assert!(
        !agent.running(),
        "the orphaned agent {} is stopped",
        agent.pid
    );

    let detail = repo.show(&id);
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(
        snapshot_types(&detail),
        [
            "SESSION_START",
            "SESSION_ERROR",
            "SESSION_START",
            "IMPLEMENT_DONE",
            "SPEC_REVIEW_PASS",
            "QUALITY_REVIEW_PASS",
            "SESSION_DONE"
        ]
    );
    let error = only(&detail, "SESSION_ERROR");
    let item = error["data"]["failed_items"][0].as_str().unwrap();
    assert!(
        item.contains(&format!("orchestrator process {killed_pid} ")) && item.contains("is gone"),
        "{item}"
    );
    let starts = of_type(&detail, "SESSION_START");
    assert_eq!(
        error["session_id"], starts[0]["session_id"],
        "the error closes the killed session"
    );
    assert_ne!(starts[0]["session_id"], starts[1]["session_id"]);
    let moves = status_changes(&detail);
    let back = moves
        .iter()
        .position(|(from, to, _)| from == "in_progress" && to == "open")
        .expect("back to open");
    assert!(moves[back].2.contains("is gone"), "{moves:?}");
    assert!(
        micros(&detail["ready_at"]) <= micros(&error["created_at"]),
        "no backoff: ready_at {} is not after the error",
        detail["ready_at"]
    );

    let list = git_out(&repo, &["worktree", "list", "--porcelain"]);
    assert!(
        !list.contains("prunable") && !list.contains("locked"),
        "no missing or locked worktrees:\n{list}"
    );
    assert_eq!(
        git_stdout(&worktree(&repo, &id), &["status", "--porcelain"]),
        "",
        "the worktree is clean"
    );
    // The crashed session's uncommitted work is kept aside, not committed on the branch.
    let kept = git_out(
        &repo,
        &[
            "for-each-ref",
            "--format=%(refname)",
            &format!("refs/agentry/attempts/{id}/"),
        ],
    );
    let kept: Vec<&str> = kept.lines().collect();
    assert_eq!(kept.len(), 1, "one attempt kept: {kept:?}");
    assert_eq!(
        git_out(&repo, &["show", &format!("{}:partial.txt", kept[0])]),
        "partial\n"
    );
    let on_branch = git_out(&repo, &["ls-tree", "-r", "--name-only", &branch(&id)]);
    assert!(
        !on_branch.lines().any(|f| f == "partial.txt"),
        "{on_branch}"
    );
}

#[test]
fn an_agent_started_just_before_a_kill_9_is_stopped_by_the_next_run() {
    const MARKER: &str = "600.321";
    // The agent stops its orchestrator (SIGSTOP) as the first thing it does: agentry is
    // frozen just after starting it, where a kill -9 (or a power cut) could land.
    let project = hanging_project(MARKER, "kill -STOP $PPID; ", &[]);
    for _ in 0..40 {
        let (mut agentry, agent) = project.start();
        agentry.kill_9();
        let recorded = recorded_agent_pids(&project.repo).contains(&agent.pid);
        if recorded {
            // Not in the window this time: the next start's recovery cleans up.
            drop(agent);
            continue;
        }
        // agentry died with the agent running and its pid not in the store.
        set_roles(&project.repo, "script", "script");
        let summary = project.repo.run_until_idle();
        assert_eq!(summary["outcomes"], json!({"done": 1}));
        assert!(
            !agent.running(),
            "the agent {} started just before its orchestrator died is still running after \
             the next run's recovery (its pid was never recorded)",
            agent.pid
        );
        return;
    }
}

#[test]
fn a_claim_whose_process_is_gone_is_taken_back_at_once_not_when_its_lease_expires() {
    let project = hanging_project("600.457", "", &[("lease_secs", "5")]);
    let (mut agentry, agent) = project.start();
    let HangingProject {
        repo,
        id,
        _fifo_dir,
        ..
    } = project;
    agentry.kill_9();
    set_roles(&repo, "script", "script");
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    assert!(!agent.running());

    let detail = repo.show(&id);
    assert_eq!(detail["status"], "needs_review");
    let item = only(&detail, "SESSION_ERROR")["data"]["failed_items"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        item.contains("is gone") && !item.contains("lease expired"),
        "{item}"
    );
}

#[test]
fn a_claim_of_another_host_is_taken_back_only_once_its_lease_expired() {
    use agentry_store::session::ClaimHolder;
    use agentry_store::{SqliteStore, Store};

    let repo = project("true\n");
    set(&repo, "lease_secs", "5");
    use_script(
        &repo,
        &passing_script(&[&write_step("src/done.txt", "done")]),
    );
    let id = repo.add("Claimed elsewhere", &["--verify", "sh check.sh"]);

    // Another host claimed the issue and stopped renewing: its lease runs out in 2 s.
    let store = SqliteStore::open(&repo.file(".agentry/agentry.db"), Duration::from_secs(5))
        .expect("the store opens");
    let holder = ClaimHolder {
        session_id: "00000000-0000-4000-8000-000000000001".into(),
        orchestrator_id: "elsewhere.invalid-1-0000".into(),
        host: "elsewhere.invalid".into(),
        pid: 1,
    };
    let now = Timestamp::now();
    let lease_until = now.plus_secs(2);
    let claim = store
        .claim(&id.parse().unwrap(), &holder, lease_until, now)
        .expect("the claim is written");
    assert!(claim.claimed().is_some(), "the issue was claimable");
    drop(store);

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}));
    let detail = repo.show(&id);
    assert_eq!(detail["status"], "needs_review");
    let error = only(&detail, "SESSION_ERROR");
    assert_eq!(error["session_id"], holder.session_id.as_str());
    assert_eq!(
        strings(&error["data"]["failed_items"]),
        ["lease expired"],
        "{error:#}"
    );
    assert!(
        micros(&error["created_at"]) >= lease_until.unix_micros(),
        "taken back at {} although the lease ran until {lease_until}",
        error["created_at"]
    );
}

#[test]
fn a_claim_its_orchestrator_keeps_renewing_is_not_taken_back_by_another_run() {
    let repo = project("test -f src/slow.txt\n");
    set(&repo, "lease_secs", "5");
    let fifo_dir = tempfile::tempdir().unwrap();
    set(
        &repo,
        "writable",
        &format!("[{:?}]", fifo_dir.path().display().to_string()),
    );
    let fifo = fifo_dir.path().join("started.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // The implementer outlives one lease: it works for 8 s, the lease lasts 5.
    let slow = command_agent(
        "slow",
        &[
            "sh",
            "-c",
            "mkdir -p src; echo slow > src/slow.txt; echo $$ > \"$AGENTRY_TEST_FIFO\"; exec sleep 8",
        ],
        &format!(
            "env = {{ AGENTRY_TEST_FIFO = {:?} }}\n",
            fifo.display().to_string()
        ),
    );
    let review =
        rule("spec_reviewer", "*", &[&[PASS]]) + &rule("quality_reviewer", "*", &[&[PASS]]);
    add_agents(&repo, &(slow + &scripted_agent(&repo, "review", &review)));
    set_roles(&repo, "slow", "review");
    let id = repo.add("Take your time", &["--verify", "sh check.sh"]);

    let started = read_fifo(fifo);
    let first = agentry_command(repo.path(), &["run", "--until-idle", "--json"], &QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agentry starts");
    let mut first = Background(Some(first));
    started
        .recv_timeout(START_BOUND)
        .expect("the implementer starts");

    // A second orchestrator on the same repository while the session runs: it must leave the
    // claim alone and end once the first is done.
    let second = repo.run_until_idle();
    assert_eq!(second["sessions"], 0, "{second}");
    let first = json_of(&first.wait(PROCESS_BOUND));
    assert_eq!(first["outcomes"], json!({"done": 1}), "{first}");

    let detail = repo.show(&id);
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
}

#[test]
fn sigterm_stops_the_run_and_puts_the_issue_back_in_the_queue_without_a_backoff() {
    let project = hanging_project("600.789", "", &[]);
    let (mut agentry, agent) = project.start();
    let HangingProject {
        repo,
        id,
        _fifo_dir,
        ..
    } = project;
    kill(agentry.pid(), libc::SIGTERM);
    let out = agentry.wait(Duration::from_secs(60));
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit 0 after SIGTERM\nstdout: {}\nstderr: {}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!agent.running(), "the agent is stopped");
    assert_eq!(processes_with("600.789"), Vec::<u32>::new());

    let detail = repo.show(&id);
    assert_eq!(detail["status"], "open");
    assert_eq!(
        snapshot_types(&detail).last().map(String::as_str),
        Some("SESSION_ERROR")
    );
    assert_eq!(
        types(&detail).last().map(String::as_str),
        Some("STATUS_CHANGED"),
        "the status change that ends the session comes last"
    );
    let (from, to, reason) = status_changes(&detail).pop().unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("in_progress", "open"));
    assert!(reason.contains("stopped"), "{reason}");
    let stopped = of_type(&detail, "STATUS_CHANGED").pop().unwrap();
    assert!(
        micros(&detail["ready_at"]) <= micros(&stopped["created_at"]),
        "no backoff: ready_at {} is after the stop at {}",
        detail["ready_at"],
        stopped["created_at"]
    );
    assert_eq!(repo.ready_ids(&[]), vec![id], "ready again at once");
}

// ---------------------------------------------------------------------------------------------
// Dry run and configuration

#[test]
fn a_dry_run_needs_no_repository_and_prints_one_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = agentry_in(dir.path(), &["run", "--dry-run"]);
    let text = assert_ok(&out);
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report,
        json!({
            "last_event_type": "SESSION_DONE",
            "processed_issue": "i-dry1",
            "snapshot_count": 5,
            "status_updates": [["i-dry1", "in_progress"], ["i-dry1", "needs_review"]]
        })
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is written"
    );
}

#[test]
fn run_without_agents_is_refused_naming_the_missing_roles() {
    let repo = project("true\n");
    repo.add("Waits for agents", &[]);
    let out = agentry_in(repo.path(), &["run"]);
    assert_refused(
        &out,
        &[
            "no agent is configured for",
            "implementer",
            "fixer",
            "spec_reviewer",
            "quality_reviewer",
        ],
    );
}
