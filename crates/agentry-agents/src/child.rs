//! What both backends need to run a child process for an agent: its limits, its environment
//! and the mapping from how it ended to how the turn ended.

use std::collections::BTreeMap;
use std::time::Duration;

use agentry_core::config::AgentConfig;
use agentry_process::{Ending, Finished, Spec, Watch};
use tokio::sync::mpsc::UnboundedSender;

use crate::agent::emit;
use crate::{AgentEvent, AgentFailure, AgentRequest};

/// Bytes kept of each output stream: an agent's answer is its stdout, so keep a lot of it.
const OUTPUT_CAP: usize = 4 << 20;
/// Time between SIGTERM and SIGKILL, for an agent to save its work.
const GRACE: Duration = Duration::from_secs(5);

/// How long an agent's process may run, and how it is stopped.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) timeout_secs: u64,
    /// 0 means no idle timeout.
    pub(crate) idle_timeout_secs: u64,
    pub(crate) grace: Duration,
}

/// The environment an agent gets: nothing from agentry's own but the `pass_env` names.
#[derive(Clone, Debug)]
pub(crate) struct AgentEnv {
    pass: Vec<String>,
    set: BTreeMap<String, String>,
}

impl Limits {
    pub(crate) fn from_config(config: &AgentConfig) -> Self {
        Self {
            timeout_secs: config.timeout_secs,
            idle_timeout_secs: config.idle_timeout_secs,
            grace: GRACE,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The idle timeout, if there is one.
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        (self.idle_timeout_secs > 0).then(|| Duration::from_secs(self.idle_timeout_secs))
    }

    /// A spec for `argv` in the request's worktree, confined as the request says, with empty
    /// stdin and the full timeout.
    pub(crate) fn spec(
        &self,
        argv: &[String],
        request: &AgentRequest,
        env: Vec<(String, String)>,
    ) -> Spec {
        Spec {
            program: argv[0].clone(),
            args: argv[1..].to_vec(),
            cwd: request.workdir.clone(),
            env,
            stdin: Vec::new(),
            timeout: self.timeout(),
            idle_timeout: self.idle_timeout(),
            output_cap: OUTPUT_CAP,
            grace: self.grace,
            confinement: request.confinement.clone(),
        }
    }

    /// How the turn ended, given how its process ended; None for a clean exit.
    pub(crate) fn failure(&self, finished: &Finished) -> Option<AgentFailure> {
        let stderr = &finished.stderr.text;
        match finished.ending {
            Ending::Exited(0) => None,
            Ending::Exited(code) => Some(AgentFailure::crashed(Some(code), None, stderr)),
            Ending::Signalled(signal) => Some(AgentFailure::crashed(None, Some(signal), stderr)),
            Ending::TimedOut => Some(AgentFailure::TimedOut {
                after_secs: self.timeout_secs,
            }),
            Ending::Idle => Some(AgentFailure::Idle {
                after_secs: self.idle_timeout_secs,
            }),
            Ending::Cancelled => Some(AgentFailure::Cancelled),
        }
    }
}

impl AgentEnv {
    pub(crate) fn from_config(config: &AgentConfig) -> Self {
        Self {
            pass: config.pass_env.clone(),
            set: config.env.clone(),
        }
    }

    /// The value `name` has in the agent's environment.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        match self.set.get(name) {
            Some(value) => Some(value.clone()),
            None if self.pass.iter().any(|passed| passed == name) => std::env::var(name).ok(),
            None => None,
        }
    }

    /// The passed-through variables, then the configured ones, then agentry's own, which win.
    pub(crate) fn for_request(&self, request: &AgentRequest) -> Vec<(String, String)> {
        let mut env = agentry_process::pass_env(&self.pass);
        env.extend(self.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.extend(
            [
                ("AGENTRY_ISSUE_ID", request.issue_id.to_string()),
                ("AGENTRY_ISSUE_TITLE", request.issue_title.clone()),
                ("AGENTRY_ROLE", request.role.as_str().to_string()),
                ("AGENTRY_SESSION_ID", request.session_id.clone()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        env
    }
}

/// The event a line of the child's output (or its start) becomes.
pub(crate) fn event_of(watch: Watch<'_>) -> AgentEvent {
    match watch {
        Watch::Spawned(pid) => AgentEvent::Started { pid: Some(pid) },
        Watch::Stdout(line) => AgentEvent::Text(line.to_string()),
        Watch::Stderr(line) => AgentEvent::Stderr(line.to_string()),
    }
}

/// Passes the child's output lines on as events, leaving out its start.
pub(crate) fn forward_output(events: &UnboundedSender<AgentEvent>) -> impl FnMut(Watch<'_>) + '_ {
    |watch| {
        if !matches!(watch, Watch::Spawned(_)) {
            emit(events, event_of(watch));
        }
    }
}
