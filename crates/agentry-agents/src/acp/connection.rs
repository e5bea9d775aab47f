//! The client side of one ACP connection: requests out, their responses back, and what the
//! agent sends meanwhile — updates become events, permission requests get the policy's answer.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc::UnboundedSender;

use super::permission;
use super::rpc::{self, METHOD_NOT_FOUND, Message};
use super::updates::Updates;
use crate::AgentEvent;
use crate::agent::emit;

/// Why a request got no result.
#[derive(Debug, PartialEq)]
pub(crate) enum Stop {
    /// The agent's stdout closed: it exited or crashed.
    Closed,
    /// The agent sent nothing for the idle timeout.
    Idle,
    /// The agent answered with an error.
    Failed(String),
}

pub(crate) struct Connection<'a> {
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
    idle: Option<Duration>,
    worktree: &'a Path,
    /// Whether the agent runs in a sandbox, which then decides what it may do.
    sandboxed: bool,
    events: &'a UnboundedSender<AgentEvent>,
    pub(crate) updates: Updates,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(
        stdin: ChildStdin,
        stdout: ChildStdout,
        idle: Option<Duration>,
        worktree: &'a Path,
        sandboxed: bool,
        events: &'a UnboundedSender<AgentEvent>,
    ) -> Self {
        Self {
            stdin,
            stdout: BufReader::new(stdout).lines(),
            next_id: 0,
            idle,
            worktree,
            sandboxed,
            events,
            updates: Updates::default(),
        }
    }

    /// Sends `method` and serves the agent until its response comes.
    pub(crate) async fn call(&mut self, method: &str, params: Value) -> Result<Value, Stop> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&rpc::request(id, method, params)).await?;
        loop {
            match rpc::parse(&self.read_line().await?) {
                Some(Message::Response {
                    id: answered,
                    result,
                }) if answered == id => {
                    return result.map_err(Stop::Failed);
                }
                Some(Message::Request { id, method, params }) => {
                    let answer = self.serve(&method, &params);
                    self.send(&rpc::response(&id, answer)).await?;
                }
                Some(Message::Notification { method, params }) if method == "session/update" => {
                    for event in self.updates.update(&params["update"]) {
                        emit(self.events, event);
                    }
                }
                _ => {}
            }
        }
    }

    /// The answer to the agent's request. No fs or terminal capability is advertised, so
    /// permission is the only thing it should ask.
    fn serve(&self, method: &str, params: &Value) -> Result<Value, (i64, String)> {
        match method {
            "session/request_permission" => Ok(permission::answer(
                &params["toolCall"],
                &params["options"],
                self.worktree,
                self.sandboxed,
            )),
            _ => Err((METHOD_NOT_FOUND, format!("agentry does not offer {method}"))),
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), Stop> {
        let written = self.stdin.write_all(line.as_bytes()).await;
        match written.is_ok() && self.stdin.flush().await.is_ok() {
            true => Ok(()),
            false => Err(Stop::Closed),
        }
    }

    async fn read_line(&mut self) -> Result<String, Stop> {
        let next = self.stdout.next_line();
        let read = match self.idle {
            Some(idle) => tokio::time::timeout(idle, next)
                .await
                .map_err(|_| Stop::Idle)?,
            None => next.await,
        };
        read.ok().flatten().ok_or(Stop::Closed)
    }
}
