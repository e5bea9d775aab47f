//! The run guard: no dispatching (or parsing) while a recommended action asks a person to
//! investigate, unless `--force` (seeds/000).

use agentry_core::Timestamp;
use agentry_core::config::Config;
use agentry_core::health::INVESTIGATE;
use agentry_engine::Engine;
use agentry_store::Store;
use anyhow::Result;

use crate::project::Project;

/// What the guard stands before.
#[derive(Clone, Copy, Debug)]
pub enum Guarded {
    Dispatch,
    Parse,
}

impl Guarded {
    fn verb(self) -> &'static str {
        match self {
            Guarded::Dispatch => "dispatch",
            Guarded::Parse => "parse",
        }
    }

    fn gerund(self) -> &'static str {
        match self {
            Guarded::Dispatch => "dispatching",
            Guarded::Parse => "parsing",
        }
    }
}

/// The guard's refusal; the binary exits with 3 on it.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to {} while something needs investigating (rerun with --force to {} anyway): {actions}",
    guarded.verb(),
    guarded.verb()
)]
pub struct GuardRefusal {
    pub guarded: Guarded,
    pub actions: String,
}

/// Takes back what a crashed run left (so a stale lease does not stop the restart that clears
/// it), then refuses if any "Investigate" action stands.
pub async fn check(project: &Project, engine: &Engine, force: bool) -> Result<()> {
    for line in agentry_engine::recover(engine).await? {
        tracing::info!(operation = "recovery", "{line}");
    }
    refuse_if_investigating(
        engine.store.as_ref(),
        &project.config,
        force,
        Guarded::Dispatch,
    )
}

/// Refuses to go on with `guarded` while an "Investigate" action stands in the status, unless `force`.
pub fn refuse_if_investigating(
    store: &dyn Store,
    config: &Config,
    force: bool,
    guarded: Guarded,
) -> Result<()> {
    let snapshot = agentry_engine::status::snapshot(store, config, Timestamp::now())?;
    let investigate: Vec<&str> = snapshot
        .recommended_actions
        .iter()
        .map(String::as_str)
        .filter(|action| action.starts_with(INVESTIGATE))
        .collect();
    if investigate.is_empty() {
        return Ok(());
    }
    if force {
        for action in &investigate {
            tracing::warn!(
                operation = "guard",
                "{} despite: {action}",
                guarded.gerund()
            );
        }
        return Ok(());
    }
    Err(GuardRefusal {
        guarded,
        actions: investigate.join("; "),
    }
    .into())
}
