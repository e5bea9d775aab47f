//! The `Agent` trait and what goes in and out of one turn.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use agentry_core::{IssueId, Role};
use agentry_process::Confinement;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::{AgentOutcome, Usage};

/// One turn asked of an agent.
#[derive(Clone, Debug)]
pub struct AgentRequest {
    /// The role the agent plays in this turn.
    pub role: Role,
    /// The issue being worked on.
    pub issue_id: IssueId,
    /// The issue's title, passed to the agent as `AGENTRY_ISSUE_TITLE`.
    pub issue_title: String,
    /// The session this turn belongs to.
    pub session_id: String,
    /// What the agent is asked to do.
    pub prompt: String,
    /// The worktree; the agent's working directory.
    pub workdir: PathBuf,
    /// Where the prompt is also written for the agent (AGENTRY_PROMPT_FILE); the caller chooses it outside the worktree.
    pub prompt_file: PathBuf,
    /// How the agent's processes are held in: the run's sandbox, which the backend adds its
    /// CLI's own state folder to, and the file-size limit.
    pub confinement: Confinement,
}

/// The normalised stream every backend produces.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentEvent {
    /// The turn began; `pid` is the agent's process (its process group leader), if it has one.
    Started { pid: Option<u32> },
    /// A line the agent wrote or said.
    Text(String),
    /// A line the agent wrote to stderr.
    Stderr(String),
    /// The turn ended; `ok` when it ended without a failure.
    Finished { ok: bool },
    /// The agent's own session began (an agent CLI's session id and model).
    SessionStarted {
        session_id: Option<String>,
        model: Option<String>,
    },
    /// The agent called a tool: its name and a short summary of the input.
    ToolCall { name: String, summary: String },
    /// A tool's result came back to the agent: a short summary, and whether it was an error.
    ToolResult { summary: String, is_error: bool },
    /// Tokens used so far in the turn.
    Usage(Usage),
    /// The agent's final answer.
    Result { text: String, is_error: bool },
    /// Something the agent's output said went wrong.
    Error(String),
}

/// An agent backend.
pub trait Agent: Send + Sync {
    /// The backend kind, for logs and records ("command", "scripted").
    fn kind(&self) -> &'static str;

    /// Runs one turn. Events go to `events` as they happen (a send error is ignored: nobody listens). Must return promptly after `cancel` fires, with failure Cancelled, having stopped every process it started.
    fn run<'a>(
        &'a self,
        request: &'a AgentRequest,
        events: &'a UnboundedSender<AgentEvent>,
        cancel: &'a CancellationToken,
    ) -> Pin<Box<dyn Future<Output = AgentOutcome> + Send + 'a>>;
}

/// Sends `event`; a closed channel only means that nobody is listening.
pub(crate) fn emit(events: &UnboundedSender<AgentEvent>, event: AgentEvent) {
    let _ = events.send(event);
}

/// Ends a turn: reports `Finished` and hands the outcome back.
pub(crate) fn finish(events: &UnboundedSender<AgentEvent>, outcome: AgentOutcome) -> AgentOutcome {
    emit(
        events,
        AgentEvent::Finished {
            ok: outcome.failure.is_none(),
        },
    );
    outcome
}

/// Implements [`Agent`] for a backend with `async fn turn(&self, request, events, cancel) ->
/// AgentOutcome`: every backend ends its turn the same way, with a `Finished` event.
macro_rules! agent_from_turns {
    ($backend:ty, $kind:literal) => {
        impl $crate::Agent for $backend {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn run<'a>(
                &'a self,
                request: &'a $crate::AgentRequest,
                events: &'a ::tokio::sync::mpsc::UnboundedSender<$crate::AgentEvent>,
                cancel: &'a ::tokio_util::sync::CancellationToken,
            ) -> ::std::pin::Pin<
                Box<dyn ::std::future::Future<Output = $crate::AgentOutcome> + Send + 'a>,
            > {
                Box::pin(async move {
                    $crate::agent::finish(events, self.turn(request, events, cancel).await)
                })
            }
        }
    };
}
pub(crate) use agent_from_turns;
