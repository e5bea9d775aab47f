//! The `scripted` backend: rule matching, turn order, every step kind, and load-time checks.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentry_agents::{Agent, AgentError, AgentEvent, AgentFailure, build};
use agentry_core::Role;
use agentry_core::config::{AgentConfig, AgentKind};
use common::{Dirs, cancel_after_line, config, read, run, texts};

/// Writes `text` as the script file `name` in the repository root and builds an agent on it.
fn load(dirs: &Dirs, name: &str, text: &str) -> Result<Arc<dyn Agent>, AgentError> {
    load_with(dirs, name, text, config(AgentKind::Scripted))
}

fn load_with(
    dirs: &Dirs,
    name: &str,
    text: &str,
    base: AgentConfig,
) -> Result<Arc<dyn Agent>, AgentError> {
    std::fs::write(dirs.root.path().join(name), text).unwrap();
    let config = AgentConfig {
        script: Some(name.to_string()),
        ..base
    };
    build("bot", &config, dirs.root.path())
}

/// The outcome text of one turn for `role` on `issue`.
async fn answer(agent: &dyn Agent, dirs: &Dirs, role: Role, issue: &str, title: &str) -> String {
    let (outcome, _) = run(agent, &dirs.request(role, issue, title)).await;
    assert_eq!(outcome.failure, None, "{outcome:?}");
    outcome.text
}

#[tokio::test]
async fn turns_advance_per_issue_and_the_last_one_repeats() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ say = "first" }], [{ say = "second" }]]
"#,
    )
    .unwrap();
    let mut said = Vec::new();
    for issue in ["i-a", "i-a", "i-b", "i-a"] {
        said.push(answer(&*agent, &dirs, Role::Implementer, issue, "Anything").await);
    }
    assert_eq!(said, ["first", "second", "first", "second"]);
}

#[tokio::test]
async fn rules_match_by_id_title_substring_and_star_in_order() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "i-exact"
turns = [[{ say = "by id" }]]

[[rule]]
role = "implementer"
issue = "greeting"
turns = [[{ say = "by title" }]]

[[rule]]
role = "spec_reviewer"
issue = "*"
turns = [[{ say = "any issue" }]]
"#,
    )
    .unwrap();
    let cases = [
        (Role::Implementer, "i-exact", "Fix the greeting", "by id"),
        (
            Role::Implementer,
            "i-other",
            "Fix the greeting script",
            "by title",
        ),
        (
            Role::SpecReviewer,
            "i-other",
            "Fix the greeting",
            "any issue",
        ),
    ];
    for (role, issue, title, expected) in cases {
        assert_eq!(answer(&*agent, &dirs, role, issue, title).await, expected);
    }
    let request = dirs.request(Role::QualityReviewer, "i-other", "Fix the greeting");
    let (outcome, events) = run(&*agent, &request).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::Spawn(
            "no scripted rule for role quality_reviewer on issue i-other".into()
        ))
    );
    assert_eq!(events, [AgentEvent::Finished { ok: false }]);
}

#[tokio::test]
async fn file_steps_run_and_say_shape_the_worktree_events_and_answer() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[
  { write = { path = "src/greet.txt", content = "one\n" } },
  { append = { path = "src/greet.txt", content = "two\n" } },
  { write = { path = "scratch.txt", content = "x" } },
  { remove = "scratch.txt" },
  { remove = "never-existed.txt" },
  { run = "cat src/greet.txt; echo \"$AGENTRY_ROLE $AGENTRY_ISSUE_ID [$AGENTRY_PROMPT_FILE]\"" },
  { say = "implemented" },
  { say = "all done" },
]]
"#,
    )
    .unwrap();
    let (outcome, events) = run(&*agent, &dirs.request(Role::Implementer, "i-a", "T")).await;
    assert_eq!(outcome.failure, None, "{outcome:?}");
    assert_eq!((outcome.exit_code, outcome.pid), (Some(0), None));
    assert_eq!(outcome.text, "implemented\nall done");
    assert_eq!(read(dirs.workdir().join("src/greet.txt")), "one\ntwo\n");
    assert!(!dirs.workdir().join("scratch.txt").exists());
    assert_eq!(
        texts(&events),
        [
            "one",
            "two",
            "implementer i-a []",
            "implemented",
            "all done"
        ]
    );
    assert_eq!(events[0], AgentEvent::Started { pid: None });
    assert_eq!(events.last(), Some(&AgentEvent::Finished { ok: true }));
}

#[tokio::test]
async fn a_failing_run_or_fail_step_ends_the_turn_as_a_crash() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ say = "trying" }, { run = "echo nope >&2; exit 7" }, { say = "never said" }]]

[[rule]]
role = "fixer"
issue = "*"
turns = [[{ fail = { message = "cannot fix this", exit_code = 4 } }, { say = "never said" }]]
"#,
    )
    .unwrap();
    let (outcome, _) = run(&*agent, &dirs.request(Role::Implementer, "i-a", "T")).await;
    assert_eq!(outcome.text, "trying");
    assert_eq!(outcome.exit_code, Some(7));
    assert_eq!(
        outcome.failure.unwrap().describe(),
        "agent exited with code 7: nope"
    );
    let (outcome, _) = run(&*agent, &dirs.request(Role::Fixer, "i-a", "T")).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::Crashed {
            exit_code: Some(4),
            signal: None,
            stderr_tail: "cannot fix this".into()
        })
    );
    assert_eq!(outcome.text, "");
}

#[tokio::test]
async fn a_hang_ends_on_cancel_or_timeout() {
    let dirs = Dirs::new();
    let script = r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ say = "hanging" }, { hang = true }]]
"#;
    let agent = load(&dirs, "steps.toml", script).unwrap();
    let request = dirs.request(Role::Implementer, "i-a", "T");
    let started = Instant::now();
    let (outcome, _) = cancel_after_line(&*agent, &request, "hanging").await;
    assert_eq!(outcome.failure, Some(AgentFailure::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(30));

    let base = AgentConfig {
        timeout_secs: 1,
        ..config(AgentKind::Scripted)
    };
    let agent = load_with(&dirs, "steps.toml", script, base).unwrap();
    let (outcome, _) = run(&*agent, &request).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::TimedOut { after_secs: 1 })
    );
    assert_eq!(outcome.text, "hanging");
}

#[tokio::test]
async fn sleep_waits_and_can_be_cancelled() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ sleep_ms = 20 }, { say = "woke" }, { sleep_ms = 600000 }]]
"#,
    )
    .unwrap();
    let request = dirs.request(Role::Implementer, "i-a", "T");
    let started = Instant::now();
    let (outcome, _) = cancel_after_line(&*agent, &request, "woke").await;
    assert_eq!(outcome.failure, Some(AgentFailure::Cancelled));
    assert_eq!(outcome.text, "woke");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn cancelling_a_run_step_stops_its_process() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.toml",
        r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ run = "echo ready; sleep 300" }]]
"#,
    )
    .unwrap();
    let request = dirs.request(Role::Implementer, "i-a", "T");
    let started = Instant::now();
    let (outcome, _) = cancel_after_line(&*agent, &request, "ready").await;
    assert_eq!(outcome.failure, Some(AgentFailure::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn the_json_form_works() {
    let dirs = Dirs::new();
    let agent = load(
        &dirs,
        "steps.json",
        r#"{"rule": [{"role": "quality_reviewer", "issue": "*", "turns": [
            [{"write": {"path": "notes.md", "content": "ok"}}, {"say": "approved"}]
        ]}]}"#,
    )
    .unwrap();
    assert_eq!(agent.kind(), "scripted");
    let answer = answer(&*agent, &dirs, Role::QualityReviewer, "i-a", "T").await;
    assert_eq!(answer, "approved");
    assert_eq!(read(dirs.workdir().join("notes.md")), "ok");
}

#[test]
fn paths_escaping_the_worktree_are_refused_at_build() {
    let dirs = Dirs::new();
    for (path, problem) in [
        (
            "../outside.txt",
            "path `../outside.txt` leaves the worktree",
        ),
        ("/etc/passwd", "path `/etc/passwd` is absolute"),
    ] {
        let script = format!(
            "[[rule]]\nrole = \"implementer\"\nissue = \"*\"\nturns = [[{{ write = {{ path = \"{path}\", content = \"x\" }} }}]]\n"
        );
        let err = load(&dirs, "steps.toml", &script)
            .err()
            .unwrap()
            .to_string();
        let expected =
            format!("agent `bot`: bad script steps.toml: rule 1: turn 1, step 1: {problem}");
        assert!(err.starts_with(&expected), "{err}");
    }
}

#[test]
fn a_bad_script_file_is_an_error_naming_the_file_and_the_problem() {
    let dirs = Dirs::new();
    let rule = "[[rule]]\nrole = \"implementer\"\nissue = \"*\"\n";
    let cases = [
        (
            "steps.toml",
            format!("{rule}turns = [[{{ wirte = \"x\" }}]]\n"),
            "unknown variant `wirte`",
        ),
        (
            "steps.toml",
            format!("{rule}turns = []\n"),
            "rule 1: no turns",
        ),
        (
            "steps.toml",
            format!("{rule}turns = [[{{ hang = false }}]]\n"),
            "`hang = false` does nothing",
        ),
        (
            "steps.toml",
            "[[rule]]\nrole = \"boss\"\n".to_string(),
            "unknown variant `boss`",
        ),
        ("steps.toml", "not toml at all".to_string(), "line 1"),
        (
            "steps.json",
            "{\"rule\": [".to_string(),
            "EOF while parsing",
        ),
        ("steps.yaml", String::new(), "unknown format"),
    ];
    for (name, text, problem) in cases {
        let err = load(&dirs, name, &text).err().unwrap().to_string();
        assert!(
            err.starts_with(&format!("agent `bot`: bad script {name}: ")),
            "{err}"
        );
        assert!(err.contains(problem), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn a_missing_script_file_is_an_error_naming_it() {
    let dirs = Dirs::new();
    let config = AgentConfig {
        script: Some("missing.toml".into()),
        ..config(AgentKind::Scripted)
    };
    let err = build("bot", &config, dirs.root.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("agent `bot`: cannot read script missing.toml: "),
        "{err}"
    );
}
