//! `agentry backup PATH` and `agentry restore PATH`: a consistent copy of the store, taken
//! while agentry may be running, and putting one back.

use std::path::Path;

use agentry_core::Timestamp;
use anyhow::{Context, Result};

use crate::error::usage;
use crate::output::outln;
use crate::project::Project;

pub fn backup(project: &Project, path: &Path) -> Result<()> {
    let store = project.open_store()?;
    store
        .backup_to(path)
        .with_context(|| format!("could not back up to {}", path.display()))?;
    outln!("backed up to {}", path.display());
    Ok(())
}

/// Refuses while a dispatcher runs: its sessions would write into the restored history.
pub fn restore(project: &Project, path: &Path, force: bool) -> Result<()> {
    let store = project.open_store()?;
    let status = agentry_engine::status::snapshot(&store, &project.config, Timestamp::now())?;
    if status.orchestrator.running && !force {
        return Err(usage(
            "an orchestrator is running: stop it before restoring, or pass --force",
        ));
    }
    store
        .restore_from(path)
        .with_context(|| format!("could not restore from {}", path.display()))?;
    outln!("restored from {}", path.display());
    Ok(())
}
