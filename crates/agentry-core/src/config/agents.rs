//! `[agents.NAME]` tables and the `[roles]` that map session roles to them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{NetworkMode, SandboxMode};
use crate::Role;

/// One configured agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub kind: AgentKind,
    /// argv of a `command` agent; it runs in the worktree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Steps file of a `scripted` agent, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The program of an agent CLI (`claude`, ...): a path, or a name looked up on PATH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The model the agent is asked to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Extra arguments for the agent CLI, after the ones agentry gives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Claude Code's `--permission-mode` (default `bypassPermissions`: the worktree is the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<String>,
    /// Claude Code's `--allowedTools`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_tools: Vec<String>,
    /// The model API's base URL, e.g. `https://api.openai.com/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The name of the variable in agentry's environment that holds the API key; the key
    /// itself never goes in the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// The wire API codex speaks to `base_url` (codex's default, `responses`, when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_api: Option<String>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// Variables set for this agent.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Variables copied from agentry's environment; nothing else is.
    #[serde(default = "default_pass_env")]
    pub pass_env: Vec<String>,
    /// This agent's sandbox mode, over `sandbox.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxMode>,
    /// This agent's network, over `sandbox.network`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkMode>,
    /// Hosts this agent may reach with `network = "allow"`, besides `sandbox.allow_hosts`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_hosts: Vec<String>,
    /// Paths this agent may write, besides `sandbox.writable`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writable: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    Command,
    Scripted,
    /// Claude Code in headless mode (`claude -p --output-format stream-json`).
    Claude,
    /// A chat completions API (OpenAI's or a compatible one), for roles that need no tools.
    Openai,
    /// OpenAI's Codex CLI, non-interactively (`codex exec --json`).
    Codex,
    /// Any agent that speaks the Agent Client Protocol on stdio (`claude-code-acp`, ...).
    Acp,
}

impl AgentConfig {
    /// An agent of `kind` with every other setting at its default.
    pub fn new(kind: AgentKind) -> Self {
        Self {
            kind,
            command: Vec::new(),
            script: None,
            program: None,
            model: None,
            args: Vec::new(),
            permission_mode: None,
            allowed_tools: Vec::new(),
            base_url: None,
            api_key_env: None,
            wire_api: None,
            timeout_secs: default_timeout_secs(),
            idle_timeout_secs: default_idle_timeout_secs(),
            env: BTreeMap::new(),
            pass_env: default_pass_env(),
            sandbox: None,
            network: None,
            allow_hosts: Vec::new(),
            writable: Vec::new(),
        }
    }
}

/// The keys an `[agents.NAME]` table may hold.
pub const AGENT_KEYS: [&str; 19] = [
    "kind",
    "command",
    "script",
    "program",
    "model",
    "args",
    "permission_mode",
    "allowed_tools",
    "base_url",
    "api_key_env",
    "wire_api",
    "timeout_secs",
    "idle_timeout_secs",
    "env",
    "pass_env",
    "sandbox",
    "network",
    "allow_hosts",
    "writable",
];

fn default_timeout_secs() -> u64 {
    1800
}

fn default_idle_timeout_secs() -> u64 {
    300
}

pub fn default_pass_env() -> Vec<String> {
    ["PATH", "HOME", "USER", "LANG", "TERM", "TMPDIR"]
        .map(String::from)
        .to_vec()
}

/// Whether `name`, if given, can name an environment variable.
fn names_a_variable(name: Option<&str>) -> bool {
    name.is_none_or(|name| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Which agent plays each role; empty means not configured.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolesConfig {
    pub implementer: String,
    /// Defaults to the implementer's agent.
    pub fixer: String,
    pub spec_reviewer: String,
    pub quality_reviewer: String,
}

impl RolesConfig {
    /// The agent name configured for `role`, if any.
    pub fn agent_for(&self, role: Role) -> Option<&str> {
        let name = match role {
            Role::Implementer => &self.implementer,
            Role::Fixer if self.fixer.is_empty() => &self.implementer,
            Role::Fixer => &self.fixer,
            Role::SpecReviewer => &self.spec_reviewer,
            Role::QualityReviewer => &self.quality_reviewer,
        };
        (!name.is_empty()).then_some(name.as_str())
    }
}

/// A problem found across tables: an agent that cannot run, or a role naming no agent.
pub(super) fn check(
    agents: &BTreeMap<String, AgentConfig>,
    roles: &RolesConfig,
) -> Result<(), String> {
    for (name, agent) in agents {
        match agent.kind {
            AgentKind::Command if agent.command.is_empty() => {
                return Err(format!(
                    "agents.{name}.command: a command agent needs a non-empty argv"
                ));
            }
            AgentKind::Scripted if agent.script.as_deref().is_none_or(str::is_empty) => {
                return Err(format!(
                    "agents.{name}.script: a scripted agent needs a steps file"
                ));
            }
            AgentKind::Openai if agent.base_url.as_deref().is_none_or(str::is_empty) => {
                return Err(format!(
                    "agents.{name}.base_url: an openai agent needs the API's base URL, e.g. https://api.openai.com/v1"
                ));
            }
            AgentKind::Openai if agent.model.as_deref().is_none_or(str::is_empty) => {
                return Err(format!(
                    "agents.{name}.model: an openai agent needs a model"
                ));
            }
            AgentKind::Acp if agent.program.as_deref().is_none_or(str::is_empty) => {
                return Err(format!(
                    "agents.{name}.program: an acp agent needs the program that speaks ACP on stdio"
                ));
            }
            _ if !names_a_variable(agent.api_key_env.as_deref()) => {
                // The value is not repeated: it may be the key itself, pasted by mistake.
                return Err(format!(
                    "agents.{name}.api_key_env: must be the name of the variable that holds the key (letters, digits, _), not the key"
                ));
            }
            AgentKind::Codex
                if agent.base_url.is_none()
                    && (agent.wire_api.is_some() || agent.api_key_env.is_some()) =>
            {
                return Err(format!(
                    "agents.{name}.base_url: wire_api and api_key_env configure the model API at a codex agent's base_url"
                ));
            }
            _ if agent.timeout_secs == 0 => {
                return Err(format!("agents.{name}.timeout_secs: must be at least 1"));
            }
            _ => {}
        }
    }
    for role in Role::ALL {
        if let Some(name) = roles.agent_for(role).filter(|n| !agents.contains_key(*n)) {
            let known: Vec<&str> = agents.keys().map(String::as_str).collect();
            return Err(format!(
                "roles.{role} = {name:?} names no agent (configured agents: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    Ok(())
}
