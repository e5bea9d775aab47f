//! Playing one turn's steps.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::script::{FileText, Step};
use crate::agent::emit;
use crate::child::{AgentEnv, Limits, forward_output};
use crate::{AgentEvent, AgentFailure, AgentOutcome, AgentRequest};

/// What a turn plays against.
pub(super) struct Player<'a> {
    pub(super) request: &'a AgentRequest,
    pub(super) events: &'a UnboundedSender<AgentEvent>,
    pub(super) cancel: &'a CancellationToken,
    pub(super) limits: &'a Limits,
    pub(super) env: &'a AgentEnv,
    /// The whole turn, not each step, gets the config's timeout.
    pub(super) deadline: Instant,
}

impl Player<'_> {
    /// Plays `steps` until one fails; the outcome's text is what was said.
    pub(super) async fn play(&self, steps: &[Step]) -> AgentOutcome {
        let mut said = Vec::new();
        let failure = self.play_all(steps, &mut said).await.err();
        AgentOutcome::new(said.join("\n"), failure, None)
    }

    async fn play_all(&self, steps: &[Step], said: &mut Vec<String>) -> Result<(), AgentFailure> {
        for step in steps {
            if self.cancel.is_cancelled() {
                return Err(AgentFailure::Cancelled);
            }
            self.step(step, said).await?;
        }
        Ok(())
    }

    async fn step(&self, step: &Step, said: &mut Vec<String>) -> Result<(), AgentFailure> {
        match step {
            Step::Write(file) => self.write(file, false),
            Step::Append(file) => self.write(file, true),
            Step::Remove(path) => self.remove(path),
            Step::Run(command) => self.run(command).await,
            Step::Say(text) => {
                emit(self.events, AgentEvent::Text(text.clone()));
                said.push(text.clone());
                Ok(())
            }
            Step::Fail { message, exit_code } => {
                Err(AgentFailure::crashed(Some(*exit_code), None, message))
            }
            Step::Hang(_) => self.wait(None).await,
            Step::SleepMs(ms) => {
                self.wait(Some(Instant::now() + Duration::from_millis(*ms)))
                    .await
            }
        }
    }

    fn write(&self, file: &FileText, append: bool) -> Result<(), AgentFailure> {
        let path = self.request.workdir.join(&file.path);
        write_file(&path, &file.content, append).map_err(|e| file_failure("write", &file.path, e))
    }

    /// Removes a file; one that is already gone is fine, so a repeated turn can remove it again.
    fn remove(&self, path: &str) -> Result<(), AgentFailure> {
        match std::fs::remove_file(self.request.workdir.join(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(file_failure("remove", path, e))
            }
            _ => Ok(()),
        }
    }

    async fn run(&self, command: &str) -> Result<(), AgentFailure> {
        let argv = ["sh", "-c", command].map(String::from);
        let mut spec = self
            .limits
            .spec(&argv, self.request, self.env.for_request(self.request));
        spec.timeout = self.deadline.saturating_duration_since(Instant::now());
        let finished = agentry_process::run(&spec, self.cancel, forward_output(self.events))
            .await
            .map_err(|e| AgentFailure::Spawn(e.to_string()))?;
        self.limits.failure(&finished).map_or(Ok(()), Err)
    }

    /// Waits until `until`, or for ever when None; fails when cancelled or when the turn's
    /// deadline comes first.
    async fn wait(&self, until: Option<Instant>) -> Result<(), AgentFailure> {
        let wake = until.map_or(self.deadline, |until| until.min(self.deadline));
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(AgentFailure::Cancelled),
            () = sleep_until(wake) => {}
        }
        if until.is_some_and(|until| until <= self.deadline) {
            Ok(())
        } else {
            Err(AgentFailure::TimedOut {
                after_secs: self.limits.timeout_secs,
            })
        }
    }
}

// Small files written with std::fs: not worth a blocking-pool hop in a test double.
fn write_file(path: &Path, content: &str, append: bool) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)?
        .write_all(content.as_bytes())
}

fn file_failure(action: &str, path: &str, error: std::io::Error) -> AgentFailure {
    AgentFailure::crashed(None, None, &format!("cannot {action} {path}: {error}"))
}
