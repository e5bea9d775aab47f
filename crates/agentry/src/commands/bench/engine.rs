//! The engine the session benchmarks run: no logs kept, and a timed run until idle.

use std::path::Path;
use std::sync::Arc;

use agentry_agents::Agent;
use agentry_core::Timestamp;
use agentry_engine::templates::seeded_prompts;
use agentry_engine::{Engine, Identity, RoleAgents, RunOptions, RunSummary, Settings};
use tokio_util::sync::CancellationToken;

use crate::commands::engine::runtime;
use agentry_store::Store;
use agentry_workspace::Workspace;
use anyhow::Result;

/// The agent that passes every issue at once.
pub fn instant_agent(dir: &Path) -> Result<Arc<dyn Agent>> {
    agentry_engine::dry_run::instant_agent(dir).map_err(anyhow::Error::msg)
}

pub fn engine(
    store: Arc<dyn Store>,
    workspace: Option<Workspace>,
    agent: Arc<dyn Agent>,
    workers: usize,
    scratch: &Path,
) -> Result<Arc<Engine>> {
    // The defaults, with the environment's `SECTION__KEY` overrides: `SANDBOX__MODE=off`
    // measures the same run without a sandbox.
    let config = agentry_core::config::load("", std::env::vars())?;
    let mut settings = Settings::from_config(&config, None);
    settings.max_workers = workers;
    let prompts = seeded_prompts(store.as_ref(), None, Timestamp::now())?;
    Ok(Arc::new(Engine {
        store,
        workspace: workspace.map(Arc::new),
        agents: RoleAgents::all(agent),
        prompts,
        settings,
        identity: Identity::current(),
        scratch: scratch.to_path_buf(),
    }))
}

/// Runs `engine` until idle; every one of `issues` sessions must pass. Returns how long it took.
pub fn run_all_passing(
    engine: Arc<Engine>,
    issues: usize,
) -> Result<(RunSummary, std::time::Duration)> {
    let started = std::time::Instant::now();
    let options = RunOptions { until_idle: true };
    let summary = runtime()?.block_on(agentry_engine::run(
        engine,
        options,
        CancellationToken::new(),
    ));
    let elapsed = started.elapsed();
    let summary = summary.map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        summary.outcomes.get("done") == Some(&issues),
        "not every session passed: {summary:?}"
    );
    Ok((summary, elapsed))
}
