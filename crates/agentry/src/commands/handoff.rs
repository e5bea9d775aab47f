//! `agentry handoff`: COMPLETED (with evidence), PENDING (with reason), RISKS and NEXT, built
//! from the store.

use agentry_core::Timestamp;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let summary = agentry_engine::handoff::handoff(&store, &project.config, Timestamp::now())?;
    if json {
        return output::json(&summary);
    }
    let completed = summary
        .completed
        .iter()
        .map(|c| format!("{} — {}", c.item, c.evidence));
    let pending = summary
        .pending
        .iter()
        .map(|p| format!("{} — {}", p.item, p.reason));
    section("COMPLETED", completed.collect());
    section("PENDING", pending.collect());
    section("RISKS", summary.risks);
    section("NEXT", summary.next);
    Ok(())
}

fn section(name: &str, entries: Vec<String>) {
    outln!("{name}");
    if entries.is_empty() {
        outln!("- none");
    }
    for entry in entries {
        outln!("- {entry}");
    }
}
