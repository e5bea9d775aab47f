//! The agent's process. It lives for the whole turn and talks on its stdio, which
//! `agentry_process::run` (a program run to its end) does not fit; so it is started here,
//! confined as any agent is, in a group of its own that is stopped whole when the turn ends,
//! however it ends.

use std::process::ExitStatus;
use std::time::Duration;

use agentry_process::{Spec, Started};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::AgentEvent;
use crate::agent::emit;

/// Stderr kept for a crash report: the tail is what matters, so older text is dropped.
const STDERR_CAP: usize = 64 * 1024;

/// A running agent process (with what its sandbox needs) and its stderr reader.
pub(crate) struct AgentProcess {
    started: Started,
    pub(crate) pid: u32,
    stderr: JoinHandle<String>,
}

/// Starts `spec` (its stdin is not used), its stderr passed on as events.
pub(crate) fn spawn(
    spec: &Spec,
    events: &UnboundedSender<AgentEvent>,
) -> std::io::Result<(AgentProcess, ChildStdin, ChildStdout)> {
    let mut started = agentry_process::start(spec)?;
    let pid = started.pid;
    let child = &mut started.child;
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
    let stderr = child
        .stderr
        .take()
        .map(|stderr| read_stderr(stderr, events.clone()));
    match (stdin, stdout, stderr) {
        (Some(stdin), Some(stdout), Some(stderr)) => Ok((
            AgentProcess {
                started,
                pid,
                stderr,
            },
            stdin,
            stdout,
        )),
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
        let (_, status) = tokio::join!(stop, self.started.child.wait());
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
