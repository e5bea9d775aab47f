//! `agentry recover`: the runbook's recovery procedure in one command. No dispatcher may be
//! running; claims whose holder is gone or whose lease expired, and `in_progress` issues no
//! session holds, go back to the queue with a `SESSION_ERROR`; leftover agents are stopped.

use agentry_core::Timestamp;
use anyhow::Result;

use super::engine::{build, runtime};
use crate::error::usage;
use crate::output::outln;
use crate::project::Project;

pub fn run(project: &Project, force: bool) -> Result<()> {
    let engine = build(project, None)?;
    let status =
        agentry_engine::status::snapshot(engine.store.as_ref(), &project.config, Timestamp::now())?;
    if status.orchestrator.running && !force {
        let id = status.orchestrator.id.unwrap_or_default();
        return Err(usage(format!(
            "orchestrator {id} is running (its heartbeat is fresh): stop it first, or pass --force"
        )));
    }
    let done = runtime()?.block_on(agentry_engine::recover(&engine))?;
    if done.is_empty() {
        outln!("nothing to recover");
    }
    for line in done {
        outln!("{line}");
    }
    Ok(())
}
