//! The `codex` backend run on codex's real recorded output (testdata/codex), by a program in
//! its place: the turn's outcome, text and usage follow from the last line, and the prompt
//! arrives on stdin. (The real codex is tested against the scripted model server in
//! crates/agentry-testkit.)

mod common;

use agentry_agents::{AgentFailure, AgentOutcome, CodexAgent};
use agentry_core::Role;
use agentry_core::config::AgentKind;
use common::{Dirs, read, run};

/// The first `lines` lines of a recorded output, printed by a shell.
fn print(fixture: &str, lines: usize) -> String {
    let path = format!("{}/testdata/codex/{fixture}", env!("CARGO_MANIFEST_DIR"));
    format!("head -n {lines} '{path}'")
}

/// Runs a `codex` that saves its stdin and arguments, runs `output` and exits with `code`.
async fn outcome_of(output: &str, code: i32) -> (AgentOutcome, Dirs) {
    let dirs = Dirs::new();
    let program = dirs.root.path().join("codex");
    let body = format!("cat > ../stdin; echo \"$@\" > ../args; {output}; exit {code}");
    std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&program)
        .status()
        .unwrap();
    let config = agentry_core::config::AgentConfig {
        program: Some(program.display().to_string()),
        model: Some("gpt-5.5".into()),
        ..common::config(AgentKind::Codex)
    };
    let agent = CodexAgent::new("codex", &config).unwrap();
    let request = dirs.request(Role::Implementer, "i-cx1", "Codex");
    let (outcome, _) = run(&agent, &request).await;
    (outcome, dirs)
}

#[tokio::test]
async fn a_completed_turn_answers_its_last_message_with_usage() {
    let (outcome, dirs) = outcome_of(&print("write_file.jsonl", 99), 0).await;
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.text, "Wrote hello.txt.");
    assert_eq!(outcome.usage.model.as_deref(), Some("gpt-5.5"));
    assert!(outcome.usage.tokens_in.unwrap() > 0 && outcome.usage.tokens_out.unwrap() > 0);
    assert_eq!(outcome.usage.cost_usd, None);
    assert_eq!(
        read(dirs.root.path().join("stdin")),
        "Fix the greeting.\nSecond line."
    );
    let args = read(dirs.root.path().join("args"));
    assert!(
        args.starts_with("exec --json ") && args.ends_with(" -\n"),
        "{args}"
    );
}

#[tokio::test]
async fn a_turn_failed_on_a_429_is_a_rate_limit() {
    let (outcome, _) = outcome_of(&print("rate_limited.jsonl", 99), 1).await;
    let message = "exceeded retry limit, last status: 429 Too Many Requests".to_string();
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::RateLimited {
            reset_at: None,
            message
        })
    );
}

#[tokio::test]
async fn a_turn_failed_on_a_server_error_is_reported() {
    let (outcome, _) = outcome_of(&print("server_error.jsonl", 99), 1).await;
    assert!(
        matches!(&outcome.failure, Some(AgentFailure::Reported(m)) if m.contains("high demand")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn output_that_stops_before_the_turn_ends_is_no_result() {
    let (outcome, _) = outcome_of(&print("write_file.jsonl", 7), 0).await;
    assert_eq!(outcome.text, "Wrote hello.txt.\n", "what it said is kept");
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::NoResult { exit_code: Some(0) })
    );
}
