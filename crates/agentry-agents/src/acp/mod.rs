//! The `acp` backend: any agent that speaks the Agent Client Protocol (JSON-RPC 2.0 on
//! stdio), e.g. `claude-code-acp`. One turn is `initialize`, `session/new` in the worktree
//! and one `session/prompt`, whose `session/update`s become events until its stop reason.

mod connection;
mod permission;
mod process;
mod rpc;
mod updates;

use std::process::ExitStatus;

use agentry_core::config::AgentConfig;
use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::agent::emit;
use crate::child::{AgentEnv, Limits};
use crate::cli_files::CliFiles;
use crate::words::says_rate_limited;
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use connection::{Connection, Stop};

/// The ACP version this client speaks.
const PROTOCOL_VERSION: u64 = 1;

#[derive(Clone, Debug)]
pub struct AcpAgent {
    argv: Vec<String>,
    limits: Limits,
    env: AgentEnv,
    /// Claude Code's, for the ACP agent that drives it.
    files: CliFiles,
}

/// How a turn's conversation ended, besides a stop reason.
enum Ended {
    Stopped(Stop),
    TimedOut,
    Cancelled,
}

impl AcpAgent {
    pub fn new(name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        let program = config.program.clone().filter(|p| !p.is_empty());
        let program = program.ok_or_else(|| AgentError::Config {
            agent: name.to_string(),
            problem: "an acp agent needs a program".into(),
        })?;
        let env = AgentEnv::from_config(config);
        Ok(Self {
            argv: [vec![program], config.args.clone()].concat(),
            limits: Limits::from_config(config),
            files: CliFiles::claude(&env),
            env,
        })
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        let confined = self.files.confine(request);
        let spec = self
            .limits
            .spec(&self.argv, &confined, self.env.for_request(request));
        let (process, stdin, stdout) = match process::spawn(&spec, events) {
            Ok(started) => started,
            Err(e) => {
                let failure = AgentFailure::Spawn(e.to_string());
                return AgentOutcome::new(String::new(), Some(failure), None);
            }
        };
        let pid = process.pid;
        emit(events, AgentEvent::Started { pid: Some(pid) });
        let idle = self.limits.idle_timeout();
        let sandboxed = request.confinement.sandbox.is_some();
        let mut connection =
            Connection::new(stdin, stdout, idle, &request.workdir, sandboxed, events);
        let ended = tokio::select! {
            talked = converse(&mut connection, request, events) => talked.map_err(Ended::Stopped),
            _ = tokio::time::sleep(self.limits.timeout()) => Err(Ended::TimedOut),
            _ = cancel.cancelled() => Err(Ended::Cancelled),
        };
        if let Some(text) = connection.updates.flush() {
            emit(events, text);
        }
        let text = std::mem::take(&mut connection.updates.last_message);
        drop(connection);
        let (status, stderr) = process.end(self.limits.grace).await;
        let failure = match ended {
            Ok(reason) => stop_failure(&reason),
            Err(ended) => self.failure(ended, status, &stderr),
        };
        AgentOutcome::new(text, failure, Some(pid))
    }

    fn failure(
        &self,
        ended: Ended,
        status: Option<ExitStatus>,
        stderr: &str,
    ) -> Option<AgentFailure> {
        Some(match ended {
            Ended::TimedOut => AgentFailure::TimedOut {
                after_secs: self.limits.timeout_secs,
            },
            Ended::Cancelled => AgentFailure::Cancelled,
            Ended::Stopped(Stop::Idle) => AgentFailure::Idle {
                after_secs: self.limits.idle_timeout_secs,
            },
            Ended::Stopped(Stop::Failed(message)) if says_rate_limited(&message) => {
                AgentFailure::RateLimited {
                    reset_at: None,
                    message,
                }
            }
            Ended::Stopped(Stop::Failed(message)) => AgentFailure::Reported(message),
            Ended::Stopped(Stop::Closed) => closed(status, stderr),
        })
    }
}

/// One prompt turn: the handshake, a session in the worktree, the prompt; its stop reason.
async fn converse(
    connection: &mut Connection<'_>,
    request: &AgentRequest,
    events: &UnboundedSender<AgentEvent>,
) -> Result<String, Stop> {
    // No fs or terminal capability: the agent edits and runs commands with its own tools,
    // inside the worktree it is started in.
    let capabilities =
        json!({"fs": {"readTextFile": false, "writeTextFile": false}, "terminal": false});
    let init = json!({"protocolVersion": PROTOCOL_VERSION, "clientCapabilities": capabilities});
    connection.call("initialize", init).await?;
    let new = json!({"cwd": request.workdir, "mcpServers": []});
    let session = connection.call("session/new", new).await?;
    let session_id = session["sessionId"].clone();
    let started = AgentEvent::SessionStarted {
        session_id: session_id.as_str().map(str::to_string),
        model: None,
    };
    emit(events, started);
    let prompt = json!([{"type": "text", "text": request.prompt}]);
    let params = json!({"sessionId": session_id, "prompt": prompt});
    let prompted = connection.call("session/prompt", params).await?;
    Ok(prompted["stopReason"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// `end_turn` is the only stop reason of a turn that did what it was asked.
fn stop_failure(reason: &str) -> Option<AgentFailure> {
    (reason != "end_turn").then(|| AgentFailure::Reported(format!("the turn stopped: {reason:?}")))
}

/// A process whose stdout closed before the prompt's response: a crash when it failed,
/// else a missing result.
fn closed(status: Option<ExitStatus>, stderr: &str) -> AgentFailure {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(status) if status.success() => AgentFailure::NoResult { exit_code: Some(0) },
        Some(status) => AgentFailure::crashed(status.code(), status.signal(), stderr),
        None => AgentFailure::NoResult { exit_code: None },
    }
}

crate::agent::agent_from_turns!(AcpAgent, "acp");
