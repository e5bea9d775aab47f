//! `[sandbox]`: how agents and verify commands are contained, and what they may reach.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    pub mode: SandboxMode,
    pub network: NetworkMode,
    /// With `network = "allow"`: hosts (`name`, `name:port`, `*.name`) besides the agent's API.
    pub allow_hosts: Vec<String>,
    /// Paths hidden besides `.agentry/` and the usual credentials.
    pub hide: Vec<String>,
    /// Paths writable besides the worktree and a private `/tmp`; `~` is the agent's HOME.
    pub writable: Vec<String>,
    pub max_file_mb: u64,
    pub max_log_mb: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            mode: SandboxMode::Auto,
            network: NetworkMode::Host,
            allow_hosts: Vec::new(),
            hide: Vec::new(),
            writable: Vec::new(),
            max_file_mb: 1024,
            max_log_mb: 64,
        }
    }
}

/// Whether a child process runs in a sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// bubblewrap where it works on this machine; none (and every run says so) elsewhere.
    #[default]
    Auto,
    /// bubblewrap, or the run fails.
    Bwrap,
    /// No sandbox.
    Off,
}

/// What an agent's network reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// The host's network, as agentry's.
    #[default]
    Host,
    /// Loopback only, inside the sandbox.
    None,
    /// Only the allowed hosts, through agentry's proxy.
    Allow,
}
