//! The verify commands, run for real with `sh`.

use std::fs;
use std::time::{Duration, Instant};

use agentry_core::Timestamp;
use agentry_process::Confinement;
use agentry_workspace::{VerifyRun, verify};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

const GENEROUS: Duration = Duration::from_secs(60);

/// A verify run in a fresh directory.
struct Ran {
    done: VerifyRun,
    log: String,
    dir: TempDir,
}

/// Runs `commands` in a fresh directory with `GIVEN=yes` added to the environment.
async fn run(commands: &[&str], timeout: Duration, cancel: &CancellationToken) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/verify/run.log");
    let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
    let env = [("GIVEN".to_string(), "yes".to_string())];
    let confinement = Confinement::default();
    let done = verify(
        &commands,
        dir.path(),
        timeout,
        &log,
        &env,
        &confinement,
        cancel,
    )
    .await
    .unwrap();
    assert_eq!(done.output_ref, log);
    let log = fs::read_to_string(&log).unwrap();
    Ran { done, log, dir }
}

#[tokio::test]
async fn passing_commands_are_logged_with_headers_output_and_exit_lines() {
    let started = Timestamp::now();
    let Ran { done, log, .. } = run(
        &["echo one", "echo two >&2; printf three"],
        GENEROUS,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(done.exit_code, 0);
    assert!(!done.timed_out);
    assert_eq!(done.command, "echo one && echo two >&2; printf three");
    assert!(done.produced_at >= started);
    assert_eq!(
        log,
        "$ echo one\none\nexit 0\n$ echo two >&2; printf three\nthree\ntwo\nexit 0\n"
    );
}

#[tokio::test]
async fn the_first_failing_command_stops_the_rest() {
    let Ran { done, log, .. } = run(
        &["echo before", "echo broken >&2; exit 3", "echo never"],
        GENEROUS,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(done.exit_code, 3);
    assert!(!done.timed_out);
    assert!(
        log.contains("$ echo broken >&2; exit 3\nbroken\nexit 3\n"),
        "{log}"
    );
    assert!(!log.contains("never"), "{log}");
}

#[tokio::test]
async fn a_timeout_gives_124_and_returns_promptly() {
    let started = Instant::now();
    let Ran { done, log, .. } = run(
        &["echo started", "sleep 600", "echo never"],
        Duration::from_millis(300),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(done.exit_code, 124);
    assert!(done.timed_out);
    assert!(started.elapsed() < GENEROUS);
    assert!(log.contains("$ sleep 600\nexit 124 (timed out)\n"), "{log}");
    assert!(!log.contains("never"), "{log}");
}

#[tokio::test]
async fn cancellation_gives_130() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let Ran { done, log, .. } = run(&["sleep 600"], GENEROUS, &cancel).await;
    assert_eq!(done.exit_code, 130);
    assert!(!done.timed_out);
    assert!(log.ends_with("exit 130 (cancelled)\n"), "{log}");
}

#[tokio::test]
async fn no_commands_pass() {
    let Ran { done, log, .. } = run(&[], GENEROUS, &CancellationToken::new()).await;
    assert_eq!(done.exit_code, 0);
    assert_eq!(done.command, "");
    assert_eq!(log, "no verify commands\n");
}

#[tokio::test]
async fn commands_run_in_the_directory_with_the_extra_environment_only() {
    let Ran { done, log, dir } = run(
        &["pwd; echo \"[$GIVEN][${CARGO:-}]\""],
        GENEROUS,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(done.exit_code, 0);
    assert!(
        log.contains(&format!(
            "{}\n",
            dir.path().canonicalize().unwrap().display()
        )),
        "{log}"
    );
    assert!(log.contains("[yes][]\n"), "{log}");
}
