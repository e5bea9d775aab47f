//! Building the engine of a project, and the runtime and stop signal its commands share.

use std::sync::Arc;

use agentry_core::{Role, Timestamp};
use agentry_engine::prompts::ROLE_TEMPLATES;
use agentry_engine::{Engine, Identity, Prompts, RoleAgents, SandboxSettings, Settings};
use agentry_store::Store;
use agentry_workspace::Workspace;
use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::error::usage;
use crate::project::{PROMPTS_DIR, Project};

pub const LOGS_DIR: &str = ".agentry/logs";
/// Files of running sessions that are not logs (prompt files); kept out of git by `init`.
pub const RUNTIME_DIR: &str = ".agentry/runtime";

/// The engine for this project's repository, store, agents and prompts.
pub fn build(project: &Project, max_workers: Option<usize>) -> Result<Arc<Engine>> {
    let agents = RoleAgents::from_config(&project.config, &project.root)?;
    let missing = agents.missing();
    if !missing.is_empty() {
        let roles: Vec<&str> = missing.iter().map(|r| Role::as_str(*r)).collect();
        return Err(usage(format!(
            "no agent is configured for: {} (add [agents.NAME] tables and name them in [roles] in .agentry/config.toml)",
            roles.join(", ")
        )));
    }
    let mut settings = Settings::from_config(&project.config, Some(project.root.join(LOGS_DIR)));
    settings.sandbox = SandboxSettings::for_project(&project.config, &project.root);
    if let Some(workers) = max_workers {
        settings.max_workers = workers;
    }
    let store: Arc<dyn Store> = Arc::new(project.open_store()?);
    seed_templates(project, store.as_ref())?;
    let prompts = Prompts::from_store(store.as_ref())?;
    if let Some(absent) = ROLE_TEMPLATES.iter().find(|t| !prompts.has(t.name)) {
        return Err(usage(format!(
            "prompt template {0} has no active version: run `agentry templates activate {0} VERSION`",
            absent.name
        )));
    }
    Ok(Arc::new(Engine {
        store,
        workspace: Some(Arc::new(
            Workspace::new(project.root.clone())
                .with_max_commit_bytes(project.config.session.max_commit_bytes),
        )),
        agents,
        prompts,
        settings,
        identity: Identity::current(),
        scratch: project.root.join(RUNTIME_DIR),
    }))
}

/// Brings the store's prompt templates up to date with `.agentry/prompts/` (see
/// `agentry_engine::templates::seed`); a file that does not compile is the error.
pub fn seed_templates(project: &Project, store: &dyn Store) -> Result<()> {
    let dir = project.root.join(PROMPTS_DIR);
    agentry_engine::templates::seed(store, Some(&dir), Timestamp::now())?;
    Ok(())
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// A token that fires on SIGINT or SIGTERM.
pub fn stop_on_signals() -> Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let stop = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let fire = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!(
            operation = "shutdown",
            "stopping: no new claims; running sessions get their grace period"
        );
        fire.cancel();
    });
    Ok(stop)
}
