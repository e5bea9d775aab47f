//! Configuration: `.agentry/config.toml` overridden by `SECTION__KEY` environment variables.
//!
//! Every setting has a default and a one-line description ([`SETTINGS`]); the same list
//! renders the file `agentry init` writes. Loading refuses unknown keys and bad values, naming
//! the key, the value, where it came from and what is allowed.

mod agents;
mod load;
mod render;
mod sandbox;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::alerts::AlertsConfig;

pub use agents::{AGENT_KEYS, AgentConfig, AgentKind, RolesConfig, default_pass_env};
pub use load::{ConfigError, load};
pub use render::render;
pub use sandbox::{NetworkMode, SandboxConfig, SandboxMode};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub scheduling: SchedulingConfig,
    pub planning: PlanningConfig,
    pub lean: LeanConfig,
    pub session: SessionConfig,
    pub roles: RolesConfig,
    pub budgets: BudgetsConfig,
    pub server: ServerConfig,
    pub sandbox: SandboxConfig,
    pub alerts: AlertsConfig,
    pub agents: BTreeMap<String, AgentConfig>,
    /// Where each setting given was set; the ones not listed have their defaults.
    #[serde(skip)]
    pub origins: Origins,
}

/// `section.key` → "config.toml" or "env NAME". Where values came from is not part of what a
/// config is: two configs with the same values are equal whatever their origins.
#[derive(Clone, Debug, Default)]
pub struct Origins(pub BTreeMap<String, String>);

impl Origins {
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name)
    }
}

impl PartialEq for Origins {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Spending limits in USD, from what agents report; 0 means no limit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetsConfig {
    pub per_session_usd: f64,
    pub per_day_usd: f64,
}

/// `agentry serve`: who may call it, and how much of it one caller may hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The bearer token for changes and diagnostics; empty: a random one per start.
    pub service_token: String,
    /// Host names a request's `Host` may name besides loopback and the bound address.
    pub allowed_hosts: Vec<String>,
    /// Origins (`scheme://host[:port]`) of other pages that may call the API.
    pub allowed_origins: Vec<String>,
    pub max_connections: u32,
    pub header_read_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            service_token: String::new(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_connections: 512,
            header_read_timeout_secs: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub backend: StoreBackend,
    pub path: String,
    pub busy_timeout_ms: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreBackend {
    #[default]
    Sqlite,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulingConfig {
    pub backend: SchedulingBackend,
    pub max_workers: u32,
    pub lease_secs: u64,
    pub shutdown_grace_secs: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulingBackend {
    /// A pool of `max_workers` sessions at once.
    #[default]
    Async,
    /// One session at a time.
    Sequential,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanningConfig {
    pub enabled: bool,
    /// The `[agents.NAME]` the planner asks; empty for none.
    pub agent: String,
    /// The most answers a planner run asks of the model before it gives up.
    pub max_recursions: u32,
}

/// The model fallbacks of the agent-output parser; both off until an operator turns them on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeanConfig {
    pub plan_rewrite: bool,
    pub field_fallback: bool,
    /// The `[agents.NAME]` the fallbacks ask; empty for none.
    pub model_agent: String,
    pub min_heuristic_confidence: f64,
    pub cooldown_ms: u64,
    pub include_optional_fields: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub spec_review_max_attempts: u32,
    pub quality_review_max_attempts: u32,
    pub base_branch: String,
    pub verify_timeout_secs: u64,
    pub max_sessions: u32,
    /// A turn whose change adds more bytes than this ends with an error.
    pub max_commit_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Sqlite,
            path: ".agentry/agentry.db".into(),
            busy_timeout_ms: 5_000,
        }
    }
}

impl Default for SchedulingConfig {
    fn default() -> Self {
        Self {
            backend: SchedulingBackend::Async,
            max_workers: 4,
            lease_secs: 60,
            shutdown_grace_secs: 10,
        }
    }
}

impl Default for PlanningConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            agent: String::new(),
            max_recursions: 3,
        }
    }
}

impl Default for LeanConfig {
    fn default() -> Self {
        Self {
            plan_rewrite: false,
            field_fallback: false,
            model_agent: String::new(),
            min_heuristic_confidence: 0.75,
            cooldown_ms: 5_000,
            include_optional_fields: false,
        }
    }
}

impl LeanConfig {
    /// The model agent, when one is named, must be configured.
    fn check(&self, agents: &BTreeMap<String, AgentConfig>) -> Result<(), String> {
        check_agent_name("lean.model_agent", &self.model_agent, agents)
    }
}

impl PlanningConfig {
    /// The planner's agent, when one is named, must be configured.
    fn check(&self, agents: &BTreeMap<String, AgentConfig>) -> Result<(), String> {
        check_agent_name("planning.agent", &self.agent, agents)
    }
}

/// `name`, set in `key`, is empty or one of the configured agents.
fn check_agent_name(
    key: &str,
    name: &str,
    agents: &BTreeMap<String, AgentConfig>,
) -> Result<(), String> {
    if name.is_empty() || agents.contains_key(name) {
        return Ok(());
    }
    let known: Vec<&str> = agents.keys().map(String::as_str).collect();
    Err(format!(
        "{key} = {name:?} names no agent (configured agents: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            spec_review_max_attempts: 3,
            quality_review_max_attempts: 2,
            base_branch: "main".into(),
            verify_timeout_secs: 600,
            max_sessions: 3,
            max_commit_bytes: 100 << 20,
        }
    }
}

/// A setting's place, the range of values it takes, and the comment it gets in config.toml.
pub struct Setting {
    pub section: &'static str,
    pub key: &'static str,
    pub doc: &'static str,
    pub allowed: Allowed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    Choice(&'static [&'static str]),
    Integer {
        min: i64,
        max: i64,
    },
    Bool,
    NonEmptyText,
    /// The name of an `[agents.NAME]` table, or empty for none.
    AgentName,
    /// An amount of US dollars, 0 or more.
    Dollars,
    /// Any string; empty for none.
    Text,
    /// A number from 0 to 1.
    Fraction,
    /// A list of strings; in the environment, separated by commas.
    List,
}

/// Every setting, in the order config.toml lists them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        section: "store",
        key: "backend",
        doc: "Where issues, events and runs are kept: sqlite (a file in this repository).",
        allowed: Allowed::Choice(&["sqlite"]),
    },
    Setting {
        section: "store",
        key: "path",
        doc: "The SQLite database file, relative to the repository root.",
        allowed: Allowed::NonEmptyText,
    },
    Setting {
        section: "store",
        key: "busy_timeout_ms",
        doc: "How long a write waits for another writer before failing, in milliseconds.",
        allowed: Allowed::Integer {
            min: 0,
            max: 600_000,
        },
    },
    Setting {
        section: "scheduling",
        key: "backend",
        doc: "async runs up to max_workers sessions at once; sequential runs one at a time.",
        allowed: Allowed::Choice(&["async", "sequential"]),
    },
    Setting {
        section: "scheduling",
        key: "max_workers",
        doc: "How many issue sessions may run at once.",
        allowed: Allowed::Integer { min: 1, max: 256 },
    },
    Setting {
        section: "scheduling",
        key: "lease_secs",
        doc: "How long a claim on an issue lasts without a heartbeat before it is taken back.",
        allowed: Allowed::Integer {
            min: 5,
            max: 86_400,
        },
    },
    Setting {
        section: "scheduling",
        key: "shutdown_grace_secs",
        doc: "On SIGINT/SIGTERM, how long running sessions may go on before their agents are stopped.",
        allowed: Allowed::Integer { min: 0, max: 3_600 },
    },
    Setting {
        section: "planning",
        key: "enabled",
        doc: "Use the planner; false swaps in a pass-through planner (one issue, as written).",
        allowed: Allowed::Bool,
    },
    Setting {
        section: "planning",
        key: "agent",
        doc: "The agent (an [agents.NAME] table, e.g. of kind openai) that plans goals and splits issues; needed while planning is enabled.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "planning",
        key: "max_recursions",
        doc: "The most answers one plan asks of the planner's agent; a rejected answer is asked again with the reasons.",
        allowed: Allowed::Integer { min: 1, max: 10 },
    },
    Setting {
        section: "lean",
        key: "plan_rewrite",
        doc: "Let a model rewrite the extraction plan when the parse heuristics are unsure.",
        allowed: Allowed::Bool,
    },
    Setting {
        section: "lean",
        key: "field_fallback",
        doc: "Let a model fill the required fields the parse heuristics could not find.",
        allowed: Allowed::Bool,
    },
    Setting {
        section: "lean",
        key: "model_agent",
        doc: "The agent (an [agents.NAME] table, e.g. of kind openai) the lean fallbacks ask; needed when either is on.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "lean",
        key: "min_heuristic_confidence",
        doc: "A plan rewrite runs only when the heuristics' confidence is below this (or the request's threshold, if higher).",
        allowed: Allowed::Fraction,
    },
    Setting {
        section: "lean",
        key: "cooldown_ms",
        doc: "The least time between two plan rewrites, in milliseconds; a parse inside it skips the rewrite.",
        allowed: Allowed::Integer {
            min: 0,
            max: 3_600_000,
        },
    },
    Setting {
        section: "lean",
        key: "include_optional_fields",
        doc: "Let the field fallback ask for missing optional fields too, not only required ones.",
        allowed: Allowed::Bool,
    },
    Setting {
        section: "session",
        key: "spec_review_max_attempts",
        doc: "Spec reviews a session may run before the rest is split into a [FIX] issue.",
        allowed: Allowed::Integer { min: 1, max: 20 },
    },
    Setting {
        section: "session",
        key: "quality_review_max_attempts",
        doc: "Quality reviews a session may run before the rest is split into a [FIX] issue.",
        allowed: Allowed::Integer { min: 1, max: 20 },
    },
    Setting {
        section: "session",
        key: "base_branch",
        doc: "The branch sessions start from and merges are detected on.",
        allowed: Allowed::NonEmptyText,
    },
    Setting {
        section: "session",
        key: "verify_timeout_secs",
        doc: "How long the issue's verify commands may run, all together, in seconds.",
        allowed: Allowed::Integer {
            min: 1,
            max: 86_400,
        },
    },
    Setting {
        section: "session",
        key: "max_sessions",
        doc: "Failed sessions (verify failure or error) after which an issue is blocked for a person.",
        allowed: Allowed::Integer { min: 1, max: 100 },
    },
    Setting {
        section: "session",
        key: "max_commit_bytes",
        doc: "A turn whose change adds more bytes than this ends with an error instead of a commit.",
        allowed: Allowed::Integer {
            min: 1,
            max: 1 << 40,
        },
    },
    Setting {
        section: "roles",
        key: "implementer",
        doc: "The agent (an [agents.NAME] table) that implements issues.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "roles",
        key: "fixer",
        doc: "The agent that applies review fixes; empty: the implementer's.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "roles",
        key: "spec_reviewer",
        doc: "The agent that checks the change against the issue's definition of done.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "roles",
        key: "quality_reviewer",
        doc: "The agent that checks the change is fit to merge.",
        allowed: Allowed::AgentName,
    },
    Setting {
        section: "budgets",
        key: "per_session_usd",
        doc: "A session that has cost more (as its agents report) ends with budget_exceeded; 0: no limit.",
        allowed: Allowed::Dollars,
    },
    Setting {
        section: "budgets",
        key: "per_day_usd",
        doc: "Once agents have cost this much since midnight UTC, no new session starts; 0: no limit.",
        allowed: Allowed::Dollars,
    },
    Setting {
        section: "server",
        key: "service_token",
        doc: "The bearer token `agentry serve` requires for changes and diagnostics; empty: a random one at each start, in .agentry/runtime/token.",
        allowed: Allowed::Text,
    },
    Setting {
        section: "server",
        key: "allowed_hosts",
        doc: "Host names a request may name in Host besides loopback and the bound address (e.g. a reverse proxy's).",
        allowed: Allowed::List,
    },
    Setting {
        section: "server",
        key: "allowed_origins",
        doc: "Origins (scheme://host:port) of other web pages that may call the API; the dashboard's own always may.",
        allowed: Allowed::List,
    },
    Setting {
        section: "server",
        key: "max_connections",
        doc: "Connections served at once; past it, the longest idle one is closed for the new one.",
        allowed: Allowed::Integer {
            min: 1,
            max: 100_000,
        },
    },
    Setting {
        section: "server",
        key: "header_read_timeout_secs",
        doc: "How long a connection may take to send a request's headers before it is closed.",
        allowed: Allowed::Integer { min: 1, max: 3_600 },
    },
    Setting {
        section: "sandbox",
        key: "mode",
        doc: "How agents and verify commands are contained: auto (bwrap where it works), bwrap (required), off.",
        allowed: Allowed::Choice(&["auto", "bwrap", "off"]),
    },
    Setting {
        section: "sandbox",
        key: "network",
        doc: "An agent's network: host (as agentry's), none, or allow (only allow_hosts and the agent's API host, through agentry's proxy).",
        allowed: Allowed::Choice(&["host", "none", "allow"]),
    },
    Setting {
        section: "sandbox",
        key: "allow_hosts",
        doc: "With network = allow: the hosts (name or name:port; *.name for its subdomains) agents may reach besides their API host.",
        allowed: Allowed::List,
    },
    Setting {
        section: "sandbox",
        key: "hide",
        doc: "Paths hidden from agents besides .agentry/ and the usual credentials (~/.ssh, ~/.aws, ~/.config/gh, ~/.git-credentials, ~/.netrc).",
        allowed: Allowed::List,
    },
    Setting {
        section: "sandbox",
        key: "writable",
        doc: "Paths agents may write besides their worktree and a private /tmp (~ is the agent's HOME).",
        allowed: Allowed::List,
    },
    Setting {
        section: "sandbox",
        key: "max_file_mb",
        doc: "The largest file an agent or verify command may write, in MiB.",
        allowed: Allowed::Integer {
            min: 1,
            max: 1_048_576,
        },
    },
    Setting {
        section: "sandbox",
        key: "max_log_mb",
        doc: "The most of one agent run's log kept on disk, in MiB (its head and tail).",
        allowed: Allowed::Integer {
            min: 1,
            max: 65_536,
        },
    },
    Setting {
        section: "alerts",
        key: "enabled",
        doc: "Send ops alerts (raised health conditions) to the webhooks below.",
        allowed: Allowed::Bool,
    },
    Setting {
        section: "alerts",
        key: "webhook_url",
        doc: "The default webhook (http:// or https://) for alerts no route below takes; empty: none.",
        allowed: Allowed::Text,
    },
    Setting {
        section: "alerts",
        key: "routing_key",
        doc: "Sent as routingKey with alerts to the default webhook (e.g. a PagerDuty routing key).",
        allowed: Allowed::Text,
    },
    Setting {
        section: "alerts",
        key: "environment",
        doc: "Sent as environment with every alert (e.g. staging); empty: none.",
        allowed: Allowed::Text,
    },
    Setting {
        section: "alerts",
        key: "source",
        doc: "Sent as source with every alert.",
        allowed: Allowed::NonEmptyText,
    },
    Setting {
        section: "alerts",
        key: "debounce_window_secs",
        doc: "An alert is sent to the same webhook and routing key at most once in this many seconds.",
        allowed: Allowed::Integer {
            min: 0,
            max: 86_400,
        },
    },
    Setting {
        section: "alerts",
        key: "severity_filter",
        doc: "The least severity that is sent.",
        allowed: Allowed::Choice(&["info", "warning", "error"]),
    },
    Setting {
        section: "alerts",
        key: "check_interval_secs",
        doc: "How often a running orchestrator checks its health and raises alerts.",
        allowed: Allowed::Integer { min: 1, max: 3_600 },
    },
];

/// Tables inside a section that are not settings of their own: `[alerts.routes.NAME]` and
/// `[alerts.slo_thresholds]`. They are read from the file only.
pub const NESTED_TABLES: &[(&str, &str)] = &[("alerts", "routes"), ("alerts", "slo_thresholds")];

/// The section of `[agents.NAME]` tables, which has no fixed keys of its own.
pub const AGENTS_SECTION: &str = "agents";

/// The sections, in the order config.toml lists them.
pub fn sections() -> Vec<&'static str> {
    let mut sections: Vec<&str> = SETTINGS.iter().map(|s| s.section).collect();
    sections.dedup();
    sections
}

impl Allowed {
    /// What the setting takes, for error messages.
    pub fn describe(self) -> String {
        match self {
            Allowed::Choice(values) => format!("one of: {}", values.join(", ")),
            Allowed::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Allowed::Dollars => "an amount of dollars, 0 or more (0: no limit)".into(),
            Allowed::Bool => "true or false".into(),
            Allowed::NonEmptyText => "a non-empty string".into(),
            Allowed::AgentName => "the name of an [agents.NAME] table, or \"\"".into(),
            Allowed::Text => "a string (\"\" for none)".into(),
            Allowed::Fraction => "a number from 0 to 1".into(),
            Allowed::List => {
                "a list of strings ([] for none; commas between them in the environment)".into()
            }
        }
    }
}

impl Config {
    /// The config as it may be printed: every secret replaced (see [`crate::secret`]).
    pub fn redacted(&self) -> Config {
        use crate::secret::{base_url, hidden, url};
        let mut shown = self.clone();
        shown.server.service_token = hidden(&shown.server.service_token);
        shown.alerts.webhook_url = url(&shown.alerts.webhook_url);
        shown.alerts.routing_key = hidden(&shown.alerts.routing_key);
        for route in shown.alerts.routes.values_mut() {
            route.webhook_url = url(&route.webhook_url);
            route.routing_key = hidden(&route.routing_key);
        }
        for agent in shown.agents.values_mut() {
            agent
                .env
                .values_mut()
                .for_each(|value| *value = hidden(value));
            agent.base_url = agent.base_url.as_deref().map(base_url);
        }
        shown
    }
}
