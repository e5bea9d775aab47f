//! The `scripted` backend: plays the turns of a steps file in-process, for the demo and tests.

mod play;
mod script;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use agentry_core::IssueId;
use agentry_core::config::AgentConfig;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::agent::emit;
use crate::child::{AgentEnv, Limits};
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use play::Player;
use script::{Script, Step};

/// An agent that plays a script loaded once at build.
pub(crate) struct ScriptedAgent {
    script: Script,
    /// Turns played so far, by rule index and issue.
    played: Mutex<HashMap<(usize, IssueId), usize>>,
    limits: Limits,
    env: AgentEnv,
}

impl ScriptedAgent {
    /// Reads and checks the script named in `config`, relative to `root`.
    pub(crate) fn load(name: &str, config: &AgentConfig, root: &Path) -> Result<Self, AgentError> {
        let Some(file) = config.script.as_deref().filter(|f| !f.is_empty()) else {
            return Err(AgentError::Config {
                agent: name.to_string(),
                problem: "a scripted agent needs a `script` file".to_string(),
            });
        };
        let text =
            std::fs::read_to_string(root.join(file)).map_err(|source| AgentError::ReadScript {
                agent: name.to_string(),
                path: file.to_string(),
                source,
            })?;
        let script =
            Script::parse(Path::new(file), &text).map_err(|problem| AgentError::BadScript {
                agent: name.to_string(),
                path: file.to_string(),
                problem,
            })?;
        Ok(Self {
            script,
            played: Mutex::default(),
            limits: Limits::from_config(config),
            env: AgentEnv::from_config(config),
        })
    }

    /// The steps of the next turn of the first rule that matches, counting it as played.
    fn next_turn(&self, request: &AgentRequest) -> Option<&[Step]> {
        let (index, rule) = self
            .script
            .rules
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.matches(request))?;
        // A panic elsewhere cannot leave the counts half-updated, so a poisoned lock is usable.
        let mut played = self.played.lock().unwrap_or_else(PoisonError::into_inner);
        let count = played.entry((index, request.issue_id.clone())).or_default();
        let turn = (*count).min(rule.turns.len() - 1);
        *count += 1;
        Some(&rule.turns[turn])
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        let Some(steps) = self.next_turn(request) else {
            let message = format!(
                "no scripted rule for role {} on issue {}",
                request.role, request.issue_id
            );
            return AgentOutcome::new(String::new(), Some(AgentFailure::Spawn(message)), None);
        };
        emit(events, AgentEvent::Started { pid: None });
        let player = Player {
            request,
            events,
            cancel,
            limits: &self.limits,
            env: &self.env,
            deadline: Instant::now() + self.limits.timeout(),
        };
        player.play(steps).await
    }
}

crate::agent::agent_from_turns!(ScriptedAgent, "scripted");
