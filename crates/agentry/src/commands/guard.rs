//! The run guard: no dispatching while a recommended action asks a person to investigate,
//! unless `--force` (seeds/000).

use agentry_core::Timestamp;
use agentry_core::health::INVESTIGATE;
use agentry_engine::Engine;
use anyhow::Result;

use crate::project::Project;

/// The guard's refusal; the binary exits with 3 on it.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to dispatch while something needs investigating (rerun with --force to dispatch anyway): {0}"
)]
pub struct GuardRefusal(pub String);

/// Takes back what a crashed run left (so a stale lease does not stop the restart that clears
/// it), then refuses if any "Investigate" action stands.
pub async fn check(project: &Project, engine: &Engine, force: bool) -> Result<()> {
    for line in agentry_engine::recover(engine).await? {
        tracing::info!(operation = "recovery", "{line}");
    }
    let snapshot =
        agentry_engine::status::snapshot(engine.store.as_ref(), &project.config, Timestamp::now())?;
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
            tracing::warn!(operation = "guard", "dispatching despite: {action}");
        }
        return Ok(());
    }
    Err(GuardRefusal(investigate.join("; ")).into())
}
