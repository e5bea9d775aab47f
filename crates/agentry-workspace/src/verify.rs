//! The verify commands: a project's own checks, run in an issue's worktree.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentry_core::Timestamp;
use agentry_process::{Confinement, DEFAULT_PASS_ENV, Ending, Spec, pass_env, run};
use tokio::fs::{self, File};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// The exit code of a run that ran out of time, as `timeout(1)` reports it.
const TIMED_OUT: i32 = 124;
/// The exit code of a cancelled run, as a shell reports an interrupt.
const CANCELLED: i32 = 130;
/// Bytes kept of each stream of each command: the start and the end survive a flood.
const OUTPUT_CAP: usize = 1 << 20;
/// Time a command gets to stop after SIGTERM, before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// The outcome of one verify run, the evidence the verify gate records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyRun {
    /// The commands joined with ` && `.
    pub command: String,
    /// 0 when every command passed, else the failing command's code (124 timed out, 130
    /// cancelled, 128 + n killed by signal n).
    pub exit_code: i32,
    /// When the last command finished.
    pub produced_at: Timestamp,
    /// The log file with every command's output.
    pub output_ref: PathBuf,
    /// The run was stopped because the time limit ran out.
    pub timed_out: bool,
}

/// Runs `commands` one after the other with `sh -c` in `dir`, each in its own process group,
/// confined by `confinement`, with only the default pass-through environment plus `extra_env`
/// (which wins on a clash), stopping at the first that fails. `timeout` bounds the whole run: running out gives exit
/// code 124 and `timed_out`; `cancel` gives 130. The log at `log` (parent directories created,
/// an old file replaced) gets, per command, a line `$ <command>`, its stdout and stderr, and a
/// line `exit <code>`. No commands is a pass, logged as "no verify commands".
pub async fn verify(
    commands: &[String],
    dir: &Path,
    timeout: Duration,
    log: &Path,
    extra_env: &[(String, String)],
    confinement: &Confinement,
    cancel: &CancellationToken,
) -> io::Result<VerifyRun> {
    let mut file = create_log(log).await?;
    let deadline = Instant::now() + timeout;
    let mut env = pass_env(&DEFAULT_PASS_ENV);
    env.extend_from_slice(extra_env);
    let mut ending = Ending::Exited(0);
    if commands.is_empty() {
        file.write_all(b"no verify commands\n").await?;
    }
    for command in commands {
        let mut spec = sh(
            command,
            dir,
            &env,
            deadline.saturating_duration_since(Instant::now()),
        );
        spec.confinement = confinement.clone();
        ending = run_logged(&spec, command, cancel, &mut file).await?;
        if ending != Ending::Exited(0) {
            break;
        }
    }
    file.flush().await?;
    Ok(VerifyRun {
        command: commands.join(" && "),
        exit_code: exit_code(ending),
        produced_at: Timestamp::now(),
        output_ref: log.to_path_buf(),
        timed_out: timed_out(ending),
    })
}

async fn create_log(log: &Path) -> io::Result<File> {
    if let Some(parent) = log.parent() {
        fs::create_dir_all(parent).await?;
    }
    File::create(log)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", log.display())))
}

fn sh(command: &str, dir: &Path, env: &[(String, String)], timeout: Duration) -> Spec {
    Spec {
        program: "sh".into(),
        args: vec!["-c".into(), command.into()],
        cwd: dir.to_path_buf(),
        env: env.to_vec(),
        stdin: Vec::new(),
        timeout,
        idle_timeout: None,
        output_cap: OUTPUT_CAP,
        grace: GRACE,
        confinement: Confinement::default(),
    }
}

/// Runs one command and appends its header, output and exit line to the log.
async fn run_logged(
    spec: &Spec,
    command: &str,
    cancel: &CancellationToken,
    log: &mut File,
) -> io::Result<Ending> {
    log.write_all(format!("$ {command}\n").as_bytes()).await?;
    let finished = run(spec, cancel, |_| {}).await?;
    for text in [&finished.stdout.text, &finished.stderr.text] {
        log.write_all(text.as_bytes()).await?;
        if !text.is_empty() && !text.ends_with('\n') {
            log.write_all(b"\n").await?;
        }
    }
    let note = match finished.ending {
        Ending::TimedOut | Ending::Idle => " (timed out)",
        Ending::Cancelled => " (cancelled)",
        Ending::Exited(_) | Ending::Signalled(_) => "",
    };
    log.write_all(format!("exit {}{note}\n", exit_code(finished.ending)).as_bytes())
        .await?;
    Ok(finished.ending)
}

fn exit_code(ending: Ending) -> i32 {
    match ending {
        Ending::Exited(code) => code,
        // What a shell reports for a child killed by a signal.
        Ending::Signalled(signal) => 128 + signal,
        Ending::TimedOut | Ending::Idle => TIMED_OUT,
        Ending::Cancelled => CANCELLED,
    }
}

fn timed_out(ending: Ending) -> bool {
    matches!(ending, Ending::TimedOut | Ending::Idle)
}
