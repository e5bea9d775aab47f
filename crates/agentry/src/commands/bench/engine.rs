//! The engine the session benchmarks run: agents that answer at once, no logs kept.

use std::path::Path;
use std::sync::Arc;

use agentry_agents::Agent;
use agentry_core::config::{AgentConfig, AgentKind, Config, default_pass_env};
use agentry_engine::{Engine, Identity, Prompts, RoleAgents, Settings};
use agentry_store::Store;
use agentry_workspace::Workspace;
use anyhow::Result;

/// Every role answers at once: the implementer changes nothing, the reviewers pass.
const INSTANT_SCRIPT: &str = r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ say = "done" }]]

[[rule]]
role = "spec_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\"}\n```" }]]

[[rule]]
role = "quality_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\"}\n```" }]]
"#;

/// A scripted agent from `INSTANT_SCRIPT`, its file written in `dir`.
pub fn instant_agent(dir: &Path) -> Result<Arc<dyn Agent>> {
    let script = dir.join("instant.toml");
    std::fs::write(&script, INSTANT_SCRIPT)?;
    let config = AgentConfig {
        kind: AgentKind::Scripted,
        command: Vec::new(),
        script: Some(script.display().to_string()),
        timeout_secs: 60,
        idle_timeout_secs: 0,
        env: Default::default(),
        pass_env: default_pass_env(),
    };
    Ok(agentry_agents::build("instant", &config, dir)?)
}

pub fn engine(
    store: Arc<dyn Store>,
    workspace: Option<Workspace>,
    agent: Arc<dyn Agent>,
    workers: usize,
    scratch: &Path,
) -> Result<Arc<Engine>> {
    let mut settings = Settings::from_config(&Config::default(), None);
    settings.max_workers = workers;
    Ok(Arc::new(Engine {
        store,
        workspace: workspace.map(Arc::new),
        agents: RoleAgents::all(agent),
        prompts: Prompts::load(None)?,
        settings,
        identity: Identity::current(),
        scratch: scratch.to_path_buf(),
    }))
}
