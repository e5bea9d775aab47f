//! agentry's agent backends: an [`AgentRequest`] (role, issue, prompt, worktree) goes in, a
//! stream of normalised [`AgentEvent`]s and an [`AgentOutcome`] come out. One module per
//! backend: `command` runs a program, `acp` talks to an ACP agent, `scripted` plays a steps file (for the demo and tests).
//!
//! This crate may depend only on `agentry-core` and `agentry-process` among agentry's crates;
//! every child process it starts goes through `agentry-process`.

mod acp;
mod agent;
mod child;
mod claude;
mod cli_files;
mod codex;
mod command;
mod error;
mod json_lines;
mod openai;
mod outcome;
mod scripted;
mod words;

use std::path::Path;
use std::sync::Arc;

use agentry_core::config::{AgentConfig, AgentKind};

pub use acp::AcpAgent;
pub use agent::{Agent, AgentEvent, AgentRequest};
pub use claude::{ClaudeAgent, ClaudeStream};
pub use codex::CodexAgent;
pub use command::CommandAgent;
pub use error::AgentError;
pub use openai::OpenAiAgent;
pub use outcome::{AgentFailure, AgentOutcome, Usage};

/// Builds the agent named `name` from its config; `root` is the repository root (relative script paths resolve against it).
pub fn build(name: &str, config: &AgentConfig, root: &Path) -> Result<Arc<dyn Agent>, AgentError> {
    Ok(match config.kind {
        AgentKind::Command => Arc::new(CommandAgent::new(name, config)?),
        AgentKind::Scripted => Arc::new(scripted::ScriptedAgent::load(name, config, root)?),
        AgentKind::Claude => Arc::new(ClaudeAgent::new(name, config)?),
        AgentKind::Openai => Arc::new(OpenAiAgent::new(name, config)?),
        AgentKind::Codex => Arc::new(CodexAgent::new(name, config)?),
        AgentKind::Acp => Arc::new(AcpAgent::new(name, config)?),
    })
}
