//! Running one child process to its end.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::capture::{Capped, Captured, LineSplitter};
use crate::group::signal_group;
use crate::launch::{Confinement, start};

/// A line longer than this is passed on in pieces.
const MAX_LINE: usize = 1 << 20;
const CHUNK: usize = 16 * 1024;

/// What to run and within which limits.
#[derive(Clone, Debug)]
pub struct Spec {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment of the child: nothing else is inherited.
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
    pub timeout: Duration,
    /// Stop the child when it has written nothing for this long.
    pub idle_timeout: Option<Duration>,
    /// Bytes kept of each stream.
    pub output_cap: usize,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
    pub confinement: Confinement,
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signalled(i32),
    TimedOut,
    Idle,
    Cancelled,
}

#[derive(Clone, Debug)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    pub pid: u32,
}

/// What the caller is told while the child runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Watch<'a> {
    Spawned(u32),
    Stdout(&'a str),
    Stderr(&'a str),
}

/// One output stream being read.
struct Stream<R> {
    reader: Option<R>,
    lines: LineSplitter,
    kept: Capped,
}

impl<R: AsyncRead + Unpin> Stream<R> {
    fn new(reader: Option<R>, cap: usize) -> Self {
        Self {
            reader,
            lines: LineSplitter::new(MAX_LINE),
            kept: Capped::in_memory(cap),
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> usize {
        match self.reader.as_mut() {
            Some(reader) => reader.read(buf).await.unwrap_or(0),
            None => std::future::pending().await,
        }
    }

    /// Keeps `bytes` and returns the lines they complete; an empty read closes the stream.
    fn take(&mut self, bytes: &[u8]) -> Vec<String> {
        if bytes.is_empty() {
            self.reader = None;
            return self.lines.finish().into_iter().collect();
        }
        self.kept
            .push(bytes)
            .expect("writing to memory does not fail");
        self.lines.feed(bytes)
    }
}

/// Runs the child until it exits, times out, goes idle or `cancel` fires; in the last three
/// cases its group gets SIGTERM, then SIGKILL after the grace period.
pub async fn run(
    spec: &Spec,
    cancel: &CancellationToken,
    mut watch: impl FnMut(Watch<'_>),
) -> io::Result<Finished> {
    let mut started = start(spec)?;
    let (child, pid) = (&mut started.child, started.pid);
    watch(Watch::Spawned(pid));
    let _group = GroupGuard(pid);
    let mut stdin = child.stdin.take();
    let write_stdin = async {
        if let Some(pipe) = stdin.as_mut() {
            // A child that does not read its input is not an error.
            let _ = pipe.write_all(&spec.stdin).await;
        }
        drop(stdin);
    };
    tokio::pin!(write_stdin);
    let mut out = Stream::new(child.stdout.take(), spec.output_cap);
    let mut err = Stream::new(child.stderr.take(), spec.output_cap);
    let (mut out_buf, mut err_buf) = (vec![0; CHUNK], vec![0; CHUNK]);
    let started = Instant::now();
    let mut last_output = started;
    let mut status: Option<ExitStatus> = None;
    let mut stopped: Option<Ending> = None;
    let mut kill_at: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    let mut stdin_done = false;
    let far = started + Duration::from_secs(365 * 24 * 3600);
    loop {
        let streams_open = out.reader.is_some() || err.reader.is_some();
        if status.is_some() && (!streams_open || drain_until.is_some_and(|t| Instant::now() >= t)) {
            break;
        }
        let running = status.is_none();
        let idle_at = spec.idle_timeout.map_or(far, |idle| last_output + idle);
        tokio::select! {
            _ = &mut write_stdin, if !stdin_done => stdin_done = true,
            n = out.read(&mut out_buf) => {
                last_output = Instant::now();
                for line in out.take(&out_buf[..n]) { watch(Watch::Stdout(&line)); }
            }
            n = err.read(&mut err_buf) => {
                last_output = Instant::now();
                for line in err.take(&err_buf[..n]) { watch(Watch::Stderr(&line)); }
            }
            exit = child.wait(), if running => {
                status = Some(exit?);
                // Whatever the child left running in its group goes with it, so pipes close.
                signal_group(pid, libc::SIGKILL);
                drain_until = Some(Instant::now() + spec.grace);
            }
            _ = sleep_until(started + spec.timeout), if running && stopped.is_none() => {
                stopped = Some(Ending::TimedOut);
                kill_at = Some(terminate(pid, spec.grace));
            }
            _ = sleep_until(idle_at), if running && stopped.is_none() => {
                stopped = Some(Ending::Idle);
                kill_at = Some(terminate(pid, spec.grace));
            }
            _ = cancel.cancelled(), if running && stopped.is_none() => {
                stopped = Some(Ending::Cancelled);
                kill_at = Some(terminate(pid, spec.grace));
            }
            _ = sleep_until(kill_at.unwrap_or(far)), if running && kill_at.is_some() => {
                signal_group(pid, libc::SIGKILL);
                kill_at = None;
            }
            _ = sleep_until(drain_until.unwrap_or(far)), if drain_until.is_some() => {}
        }
    }
    let status = status.expect("the loop ends only after the child has exited");
    Ok(Finished {
        ending: stopped.unwrap_or_else(|| ending_of(status)),
        stdout: out.kept.captured(),
        stderr: err.kept.captured(),
        pid,
    })
}

fn terminate(pid: u32, grace: Duration) -> Instant {
    signal_group(pid, libc::SIGTERM);
    Instant::now() + grace
}

fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signalled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// Kills the child's group if the future running it is dropped half-way.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        signal_group(self.0, libc::SIGKILL);
    }
}
