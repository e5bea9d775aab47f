//! The `command` backend: runs a program in the worktree with the prompt on stdin and in a file.

use std::path::Path;
use std::time::Duration;

use agentry_core::config::AgentConfig;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::agent::emit;
use crate::child::{AgentEnv, Limits, event_of};
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};

/// An agent that is a program: argv from the config, run once per turn.
#[derive(Clone, Debug)]
pub struct CommandAgent {
    argv: Vec<String>,
    limits: Limits,
    env: AgentEnv,
}

impl CommandAgent {
    /// Builds the agent named `name`; its config must have a non-empty `command`.
    pub fn new(name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        if config.command.is_empty() {
            return Err(AgentError::Config {
                agent: name.to_string(),
                problem: "a command agent needs a non-empty `command` argv".to_string(),
            });
        }
        Ok(Self {
            argv: config.command.clone(),
            limits: Limits::from_config(config),
            env: AgentEnv::from_config(config),
        })
    }

    /// Sets the time between SIGTERM and SIGKILL when the agent is stopped (5 s by default).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.limits.grace = grace;
        self
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        if let Err(e) = write_prompt(&request.prompt_file, &request.prompt) {
            let message = format!("cannot write {}: {e}", request.prompt_file.display());
            return AgentOutcome::new(String::new(), Some(AgentFailure::Spawn(message)), None);
        }
        let mut env = self.env.for_request(request);
        env.push((
            "AGENTRY_PROMPT_FILE".to_string(),
            request.prompt_file.display().to_string(),
        ));
        let mut spec = self.limits.spec(&self.argv, request, env);
        spec.stdin = request.prompt.clone().into_bytes();
        match agentry_process::run(&spec, cancel, |watch| emit(events, event_of(watch))).await {
            Ok(finished) => {
                let failure = self.limits.failure(&finished);
                AgentOutcome::new(finished.stdout.text, failure, Some(finished.pid))
            }
            Err(e) => AgentOutcome::new(
                String::new(),
                Some(AgentFailure::Spawn(e.to_string())),
                None,
            ),
        }
    }
}

crate::agent::agent_from_turns!(CommandAgent, "command");

fn write_prompt(path: &Path, prompt: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, prompt)
}
