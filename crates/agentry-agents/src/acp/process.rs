//! The agent's process. It lives for the whole turn and talks on its stdio, which
//! `agentry_process::run` (a program run to its end) does not fit; so it is started here, in
//! a group of its own that is stopped whole when the turn ends, however it ends.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::agent::emit;
use crate::{AgentEvent, AgentRequest};

/// Stderr kept for a crash report: the tail is what matters, so older text is dropped.
const STDERR_CAP: usize = 64 * 1024;

/// A running agent process and its stderr reader.
pub(crate) struct AgentProcess {
    child: Child,
    pub(crate) pid: u32,
    stderr: JoinHandle<String>,
}

/// Starts `argv` in the worktree with only `env`, its stderr passed on as events.
pub(crate) fn spawn(
    argv: &[String],
    request: &AgentRequest,
    env: Vec<(String, String)>,
    events: &UnboundedSender<AgentEvent>,
) -> std::io::Result<(AgentProcess, ChildStdin, ChildStdout)> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(&request.workdir)
        .env_clear()
        .envs(env)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().unwrap_or_default();
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
    let stderr = child
        .stderr
        .take()
        .map(|stderr| read_stderr(stderr, events.clone()));
    match (stdin, stdout, stderr) {
        (Some(stdin), Some(stdout), Some(stderr)) => {
            Ok((AgentProcess { child, pid, stderr }, stdin, stdout))
        }
        _ => Err(std::io::Error::other("the agent's stdio is not piped")),
    }
}

impl AgentProcess {
    /// Stops the group (SIGTERM, SIGKILL after `grace`) and gives how the process ended
    /// and its stderr's tail.
    pub(crate) async fn end(mut self, grace: Duration) -> (Option<ExitStatus>, String) {
        // Reaped while the group is stopped: an unreaped leader would count as a live member
        // and hold the stop for the whole grace.
        let stop = agentry_process::stop_group(self.pid, grace);
        let (_, status) = tokio::join!(stop, self.child.wait());
        let status = status.ok();
        (status, self.stderr.await.unwrap_or_default())
    }
}

/// Reads stderr line by line into events until it closes, keeping about its last
/// [`STDERR_CAP`] bytes. Bytes that are not UTF-8 are replaced, not fatal: stopping early
/// would leave the pipe full and the agent blocked.
fn read_stderr(
    stderr: impl AsyncRead + Unpin + Send + 'static,
    events: UnboundedSender<AgentEvent>,
) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stderr);
        let (mut buf, mut kept) = (Vec::new(), String::new());
        while reader
            .read_until(b'\n', &mut buf)
            .await
            .is_ok_and(|n| n > 0)
        {
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            buf.clear();
            drop_head(&mut kept);
            kept.push_str(&line);
            kept.push('\n');
            emit(&events, AgentEvent::Stderr(line));
        }
        kept
    })
}

/// Halves `kept` from the front once it is over the cap.
fn drop_head(kept: &mut String) {
    if kept.len() > STDERR_CAP {
        let mut cut = kept.len() - STDERR_CAP / 2;
        while !kept.is_char_boundary(cut) {
            cut += 1;
        }
        kept.drain(..cut);
    }
}
