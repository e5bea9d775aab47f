//! `agentry backup PATH` and `agentry restore PATH`: a consistent copy of the store, taken
//! while agentry may be running, and putting one back.

use std::path::Path;

use agentry_core::Timestamp;
use agentry_store::SqliteStore;
use anyhow::{Context, Result};

use crate::error::usage;
use crate::output::outln;
use crate::project::{Project, create_store};

pub fn backup(project: &Project, path: &Path) -> Result<()> {
    let store = project.open_store()?;
    store
        .backup_to(path)
        .with_context(|| format!("could not back up to {}", path.display()))?;
    outln!("backed up to {}", path.display());
    Ok(())
}

/// Refuses while a dispatcher runs: its sessions would write into the restored history. A
/// store that is gone is made again to take the copy, once the copy reads as a store.
pub fn restore(project: &Project, path: &Path, force: bool) -> Result<()> {
    SqliteStore::check_backup(path)?;
    let store = create_store(&project.root, &project.config)?;
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
