//! Real child processes: exits, streams, floods, hangs, timeouts and cancellation.

use std::time::{Duration, Instant};

use agentry_process::{Confinement, Ending, Spec, Watch, is_alive, pass_env, run};
use tokio_util::sync::CancellationToken;

fn sh(script: &str) -> Spec {
    Spec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        cwd: std::env::temp_dir(),
        env: pass_env(&["PATH"]),
        stdin: Vec::new(),
        timeout: Duration::from_secs(30),
        idle_timeout: None,
        output_cap: 1 << 16,
        grace: Duration::from_millis(200),
        confinement: Confinement::default(),
    }
}

#[tokio::test]
async fn reports_exit_code_lines_and_stdin() {
    let mut spec = sh("cat; echo oops >&2; exit 3");
    spec.stdin = b"one\ntwo".to_vec();
    let mut lines = Vec::new();
    let done = run(&spec, &CancellationToken::new(), |w| match w {
        Watch::Stdout(l) => lines.push(format!("out:{l}")),
        Watch::Stderr(l) => lines.push(format!("err:{l}")),
        Watch::Spawned(_) => {}
    })
    .await
    .unwrap();
    assert_eq!(done.ending, Ending::Exited(3));
    assert_eq!(done.stdout.text, "one\ntwo");
    assert_eq!(done.stderr.text, "oops\n");
    assert!(lines.contains(&"out:one".to_string()) && lines.contains(&"out:two".to_string()));
    assert!(lines.contains(&"err:oops".to_string()));
}

#[tokio::test]
async fn the_environment_is_only_what_is_given() {
    let mut spec = sh("echo \"[$HOME][$SECRET][$GIVEN]\"");
    spec.env.push(("GIVEN".into(), "yes".into()));
    let done = run(&spec, &CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(done.stdout.text, "[][][yes]\n");
}

#[tokio::test]
async fn a_flood_is_capped_and_the_end_is_kept() {
    let mut spec = sh("head -c 5000000 /dev/zero | tr '\\0' x; echo; echo THE-END");
    spec.output_cap = 4096;
    let done = run(&spec, &CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(done.ending, Ending::Exited(0));
    assert!(done.stdout.dropped > 4_000_000);
    assert!(done.stdout.text.len() < 5000);
    assert!(done.stdout.text.trim_end().ends_with("THE-END"));
}

#[tokio::test]
async fn a_hang_times_out_and_its_whole_group_is_killed() {
    let mut spec = sh("sleep 300 & echo $!; trap '' TERM; sleep 300");
    spec.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let done = run(&spec, &CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(done.ending, Ending::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(20));
    let background: u32 = done.stdout.text.trim().parse().unwrap();
    assert!(
        !is_alive(background) || is_zombie(background),
        "the background sleep was left running"
    );
}

#[tokio::test]
async fn silence_ends_the_run_when_an_idle_timeout_is_set() {
    let mut spec = sh("echo started; sleep 300");
    spec.idle_timeout = Some(Duration::from_millis(200));
    let done = run(&spec, &CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(done.ending, Ending::Idle);
    assert_eq!(done.stdout.text, "started\n");
}

#[tokio::test]
async fn cancelling_stops_the_child() {
    let cancel = CancellationToken::new();
    let spec = sh("echo ready; sleep 300");
    let trigger = cancel.clone();
    let done = run(&spec, &cancel, move |w| {
        if w == Watch::Stdout("ready") {
            trigger.cancel();
        }
    })
    .await
    .unwrap();
    assert_eq!(done.ending, Ending::Cancelled);
}

#[tokio::test]
async fn a_missing_program_is_an_error_naming_it() {
    let mut spec = sh("");
    spec.program = "no-such-program-here".into();
    let err = run(&spec, &CancellationToken::new(), |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("could not start no-such-program-here"),
        "{err}"
    );
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}
