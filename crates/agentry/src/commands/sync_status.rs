//! `agentry sync-status`: what changed since the last digest, or "no change" and nothing else.

use agentry_core::Timestamp;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let digest = agentry_engine::digest::sync_status(&store, Timestamp::now())?;
    if json {
        return output::json(&digest);
    }
    let Some(digest) = digest else {
        outln!("no change");
        return Ok(());
    };
    let counts: Vec<String> = digest
        .events
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    outln!("events: {}", counts.join(", "));
    for change in &digest.status_changes {
        outln!("{change}");
    }
    Ok(())
}
