//! The `command` backend against real child processes.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use agentry_agents::{AgentEvent, AgentFailure, CommandAgent, build};
use agentry_core::Role;
use agentry_core::config::{AgentConfig, AgentKind};
use agentry_process::is_alive;
use common::{Dirs, cancel_after_line, config, read, run, texts};

const ISSUE: &str = "i-greet1";

fn command(argv: &[&str]) -> AgentConfig {
    AgentConfig {
        command: argv.iter().map(|arg| arg.to_string()).collect(),
        ..config(AgentKind::Command)
    }
}

fn sh(script: &str) -> AgentConfig {
    command(&["sh", "-c", script])
}

fn agent(config: &AgentConfig) -> CommandAgent {
    CommandAgent::new("cmd", config).unwrap()
}

#[tokio::test]
async fn the_prompt_arrives_on_stdin_and_in_the_file_and_the_agent_runs_in_the_worktree() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let agent = agent(&sh(
        "pwd; cat; echo; echo ---; cat \"$AGENTRY_PROMPT_FILE\"",
    ));
    let (outcome, events) = run(&agent, &request).await;
    assert_eq!(outcome.failure, None, "{outcome:?}");
    assert_eq!(outcome.exit_code, Some(0));
    let cwd = dirs.workdir().canonicalize().unwrap();
    let expected = format!("{}\n{p}\n---\n{p}", cwd.display(), p = request.prompt);
    assert_eq!(outcome.text, expected);
    assert_eq!(read(&request.prompt_file), request.prompt);
    assert_eq!(texts(&events)[0], cwd.to_str().unwrap());
}

#[tokio::test]
async fn the_agent_sees_only_the_allowed_environment() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::SpecReviewer, ISSUE, "Greeting");
    let mut config = command(&["env"]);
    config.pass_env = vec!["PATH".into(), "NO_SUCH_VARIABLE_HERE".into()];
    config.env.insert("GREETING".into(), "hi".into());
    let (outcome, _) = run(&agent(&config), &request).await;
    let env: BTreeSet<&str> = outcome.text.lines().collect();
    let path = std::env::var("PATH").unwrap();
    let prompt_file = request.prompt_file.display();
    let expected: BTreeSet<String> = [
        format!("PATH={path}"),
        "GREETING=hi".into(),
        format!("AGENTRY_ISSUE_ID={ISSUE}"),
        "AGENTRY_ISSUE_TITLE=Greeting".into(),
        "AGENTRY_ROLE=spec_reviewer".into(),
        "AGENTRY_SESSION_ID=0b6a3c1e-session".into(),
        format!("AGENTRY_PROMPT_FILE={prompt_file}"),
    ]
    .into();
    assert_eq!(env, expected.iter().map(String::as_str).collect());
}

#[tokio::test]
async fn a_listed_variable_is_passed_and_an_unlisted_one_is_not() {
    // HOME is set in the test process; whether the agent sees it depends only on pass_env.
    let home = std::env::var("HOME").expect("tests run with HOME set");
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let script = "echo \"[$HOME]\"";
    let mut without = sh(script);
    without.pass_env = vec!["PATH".into()];
    let (outcome, _) = run(&agent(&without), &request).await;
    assert_eq!(outcome.text, "[]\n");
    let (outcome, _) = run(&agent(&sh(script)), &request).await;
    assert_eq!(outcome.text, format!("[{home}]\n"));
}

#[tokio::test]
async fn a_crash_carries_the_exit_code_and_the_stderr_tail() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let agent = agent(&sh(
        "echo partial; echo warming up >&2; echo 'boom: no greeting' >&2; exit 3",
    ));
    let (outcome, events) = run(&agent, &request).await;
    let failure = outcome.failure.clone().unwrap();
    assert_eq!(
        failure,
        AgentFailure::Crashed {
            exit_code: Some(3),
            signal: None,
            stderr_tail: "warming up\nboom: no greeting".into(),
        }
    );
    assert_eq!(
        failure.describe(),
        "agent exited with code 3: boom: no greeting"
    );
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.text, "partial\n");
    assert_eq!(events[0], AgentEvent::Started { pid: outcome.pid });
    assert!(events.contains(&AgentEvent::Text("partial".into())));
    assert!(events.contains(&AgentEvent::Stderr("boom: no greeting".into())));
    assert_eq!(events.last(), Some(&AgentEvent::Finished { ok: false }));
}

#[tokio::test]
async fn a_hang_times_out() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let config = AgentConfig {
        timeout_secs: 1,
        ..sh("sleep 300")
    };
    let started = Instant::now();
    let (outcome, _) = run(&agent(&config), &request).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::TimedOut { after_secs: 1 })
    );
    assert_eq!(outcome.exit_code, None);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn an_agent_that_goes_quiet_is_stopped_as_idle() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let config = AgentConfig {
        idle_timeout_secs: 1,
        ..sh("echo thinking; sleep 300")
    };
    let (outcome, _) = run(&agent(&config), &request).await;
    assert_eq!(outcome.failure, Some(AgentFailure::Idle { after_secs: 1 }));
    assert_eq!(outcome.text, "thinking\n");
}

#[tokio::test]
async fn a_flood_of_output_is_capped_and_the_turn_finishes() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let agent = agent(&sh(
        "head -c 9000000 /dev/zero | tr '\\0' x; echo; echo THE-END",
    ));
    let (outcome, events) = run(&agent, &request).await;
    assert_eq!(outcome.failure, None);
    assert!(
        outcome.text.len() < (4 << 20) + 100,
        "{} bytes kept",
        outcome.text.len()
    );
    assert!(outcome.text.contains("bytes not kept"));
    assert!(outcome.text.trim_end().ends_with("THE-END"));
    assert_eq!(texts(&events).last(), Some(&"THE-END"));
}

#[tokio::test]
async fn cancelling_stops_the_whole_process_group_promptly() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    // The agent ignores SIGTERM, so only the SIGKILL after the grace period stops it.
    let agent = agent(&sh("sleep 300 & echo $!; trap '' TERM; echo ready; wait"))
        .with_grace(Duration::from_millis(200));
    let started = Instant::now();
    let (outcome, events) = cancel_after_line(&agent, &request, "ready").await;
    assert_eq!(outcome.failure, Some(AgentFailure::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(30));
    let background: u32 = texts(&events)[0].parse().unwrap();
    for pid in [background, outcome.pid.unwrap()] {
        assert!(
            !is_alive(pid) || is_zombie(pid),
            "process {pid} was left running"
        );
    }
}

#[tokio::test]
async fn a_missing_program_fails_to_spawn() {
    let dirs = Dirs::new();
    let request = dirs.request(Role::Implementer, ISSUE, "Greeting");
    let (outcome, events) = run(&agent(&command(&["no-such-agent-program"])), &request).await;
    let Some(AgentFailure::Spawn(message)) = &outcome.failure else {
        panic!("expected a spawn failure, got {outcome:?}");
    };
    assert!(message.contains("no-such-agent-program"), "{message}");
    assert_eq!((outcome.pid, outcome.exit_code), (None, None));
    assert_eq!(events, vec![AgentEvent::Finished { ok: false }]);
}

#[test]
fn build_makes_a_command_agent_and_refuses_an_empty_argv() {
    let root = std::path::Path::new("/nonexistent");
    assert_eq!(build("cmd", &sh("true"), root).unwrap().kind(), "command");
    let err = build("cmd", &command(&[]), root).err().unwrap();
    assert_eq!(
        err.to_string(),
        "agent `cmd`: a command agent needs a non-empty `command` argv"
    );
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}
