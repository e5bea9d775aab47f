//! What agent CLIs that print JSON lines have in common (`claude`, `codex`): the prompt on
//! stdin, each stdout line read into events by the CLI's own reader, and the turn's outcome
//! from how the process ended and what its last line said.

use agentry_process::{Ending, Finished, Watch};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::agent::emit;
use crate::child::{AgentEnv, Limits, event_of};
use crate::{AgentEvent, AgentFailure, AgentOutcome, AgentRequest, Usage};

/// What a CLI's output said by its end.
pub(crate) struct StreamEnd {
    /// The final answer, if one came, and whether it was an error.
    pub(crate) result: Option<(String, bool)>,
    /// What the agent said along the way: the answer when no final one came.
    pub(crate) said: String,
    pub(crate) usage: Usage,
}

/// Runs `argv` for the request with the prompt on stdin, every stdout line going through
/// `read_line`; `Err` holds the outcome of a process that could not start.
pub(crate) async fn run(
    limits: &Limits,
    argv: &[String],
    env: &AgentEnv,
    request: &AgentRequest,
    events: &UnboundedSender<AgentEvent>,
    cancel: &CancellationToken,
    mut read_line: impl FnMut(&str) -> Vec<AgentEvent>,
) -> Result<Finished, AgentOutcome> {
    let mut spec = limits.spec(argv, request, env.for_request(request));
    spec.stdin = request.prompt.clone().into_bytes();
    let ran = agentry_process::run(&spec, cancel, |watch| match watch {
        Watch::Stdout(line) => read_line(line)
            .into_iter()
            .for_each(|event| emit(events, event)),
        other => emit(events, event_of(other)),
    })
    .await;
    ran.map_err(|e| {
        AgentOutcome::new(
            String::new(),
            Some(AgentFailure::Spawn(e.to_string())),
            None,
        )
    })
}

/// A stopped or killed process fails the turn whatever it printed; otherwise the final line
/// decides, an error answer becoming what `failed` makes of it.
pub(crate) fn outcome(
    limits: &Limits,
    finished: &Finished,
    end: StreamEnd,
    failed: impl FnOnce(&str) -> AgentFailure,
) -> AgentOutcome {
    let (text, failure) = match end.result {
        _ if !matches!(finished.ending, Ending::Exited(_)) => (end.said, limits.failure(finished)),
        Some((text, true)) => {
            let failure = failed(&text);
            (text, Some(failure))
        }
        Some((text, false)) => (text, limits.failure(finished)),
        None => {
            let exit_code = match finished.ending {
                Ending::Exited(code) => Some(code),
                _ => None,
            };
            (end.said, Some(AgentFailure::NoResult { exit_code }))
        }
    };
    let mut outcome = AgentOutcome::new(text, failure, Some(finished.pid));
    outcome.usage = end.usage;
    outcome
}
