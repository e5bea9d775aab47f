//! The `claude` backend facing output that is not what Claude Code normally writes: a
//! program in its place prints stray or truncated lines, floods, fails, or hangs ignoring
//! SIGTERM. Each ends the turn cleanly with its own reason. (The real Claude Code, and its real
//! failures, are tested against the scripted model server in crates/agentry-testkit.)

mod common;

use std::time::{Duration, Instant};

use agentry_agents::{AgentFailure, ClaudeAgent};
use agentry_core::Role;
use agentry_core::config::{AgentConfig, AgentKind};
use common::{Dirs, run};

/// A `claude` that is a shell script doing `body`, whatever arguments it is given, with
/// `limits` (timeout and idle timeout, in seconds).
fn fake_claude(
    dirs: &Dirs,
    body: &str,
    (timeout_secs, idle_timeout_secs): (u64, u64),
) -> ClaudeAgent {
    let program = dirs.root.path().join("claude");
    std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&program)
        .status()
        .unwrap();
    let config = AgentConfig {
        program: Some(program.display().to_string()),
        timeout_secs,
        idle_timeout_secs,
        ..AgentConfig::new(AgentKind::Claude)
    };
    ClaudeAgent::new("claude", &config).unwrap()
}

async fn outcome_of(body: &str, limits: (u64, u64)) -> agentry_agents::AgentOutcome {
    let dirs = Dirs::new();
    let agent = fake_claude(&dirs, body, limits);
    run(&agent, &dirs.request(Role::Implementer, "i-out1", "Output"))
        .await
        .0
}

const RESULT_OK: &str = r#"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","total_cost_usd":0.5,"usage":{"input_tokens":3,"output_tokens":4}}"#;

#[tokio::test]
async fn stray_lines_without_a_result_end_as_no_result() {
    let outcome = outcome_of(
        "echo 'npm WARN deprecated'; echo 'not json at all'",
        (30, 0),
    )
    .await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::NoResult { exit_code: Some(0) })
    );
}

#[tokio::test]
async fn a_truncated_last_line_ends_as_no_result() {
    let outcome = outcome_of(
        r#"printf '{"type":"system","subtype":"init"}\n{"type":"result","subtype":"succ'"#,
        (30, 0),
    )
    .await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::NoResult { exit_code: Some(0) })
    );
}

#[tokio::test]
async fn a_good_result_with_a_failing_exit_is_a_crash() {
    let outcome = outcome_of(
        &format!("echo '{RESULT_OK}'; echo boom >&2; exit 2"),
        (30, 0),
    )
    .await;
    assert!(
        matches!(
            outcome.failure,
            Some(AgentFailure::Crashed {
                exit_code: Some(2),
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.usage.cost_usd,
        Some(0.5),
        "usage is kept even when the turn fails"
    );
}

#[tokio::test]
async fn an_error_result_is_reported_and_a_429_is_a_rate_limit() {
    let reported = r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 500 oops","api_error_status":500}"#;
    let outcome = outcome_of(&format!("echo '{reported}'; exit 1"), (30, 0)).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::Reported("API Error: 500 oops".into()))
    );
    let limited = r#"{"type":"result","subtype":"success","is_error":true,"result":"Claude AI usage limit reached|1893456000"}"#;
    let outcome = outcome_of(&format!("echo '{limited}'; exit 1"), (30, 0)).await;
    assert!(
        matches!(
            outcome.failure,
            Some(AgentFailure::RateLimited {
                reset_at: Some(1893456000),
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_flood_of_output_is_read_with_bounded_memory_and_ends_cleanly() {
    // 100 MB without a newline, then a result: read in pieces, the result still found.
    let body = format!("head -c 100000000 /dev/zero | tr '\\0' x; echo; echo '{RESULT_OK}'");
    let outcome = outcome_of(&body, (120, 0)).await;
    assert_eq!(outcome.failure, None, "{:?}", outcome.failure);
    assert_eq!(outcome.text, "done");
}

#[tokio::test]
async fn silence_longer_than_the_idle_timeout_ends_the_turn() {
    let outcome = outcome_of(
        "echo '{\"type\":\"system\",\"subtype\":\"init\"}'; sleep 300",
        (60, 1),
    )
    .await;
    assert_eq!(outcome.failure, Some(AgentFailure::Idle { after_secs: 1 }));
}

#[tokio::test]
async fn a_hang_that_ignores_sigterm_is_killed_at_the_timeout() {
    let started = Instant::now();
    let outcome = outcome_of(
        "trap '' TERM; echo '{\"type\":\"system\",\"subtype\":\"init\"}'; sleep 300 & wait",
        (1, 0),
    )
    .await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::TimedOut { after_secs: 1 })
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    let pid = outcome.pid.unwrap();
    assert!(
        !agentry_process::is_alive(pid)
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    );
}
