//! `agentry status`: the status snapshot with its recommended actions.

use agentry_core::Timestamp;
use agentry_core::health::StatusSnapshot;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let snapshot = agentry_engine::status::snapshot(&store, &project.config, Timestamp::now())?;
    if json {
        return output::json(&snapshot);
    }
    print(&snapshot);
    Ok(())
}

fn print(s: &StatusSnapshot) {
    let depth: Vec<String> = s
        .queue
        .depth
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    outln!("issues: {}; ready {}", depth.join(", "), s.queue.ready);
    outln!("sessions running: {}", s.sessions.active.len());
    let flags: Vec<String> = s
        .flags
        .iter()
        .map(|f| format!("{} {} ({})", f.name, on_off(f.enabled), f.source))
        .collect();
    outln!("flags: {}", flags.join(", "));
    for error in &s.recent_errors {
        outln!(
            "error: {} {} {}: {}",
            error.at,
            error.issue_id,
            error.event_type,
            error.reason
        );
    }
    for note in &s.readiness_notes {
        outln!("note: {note}");
    }
    for action in &s.recommended_actions {
        outln!("action: {action}");
    }
}

pub fn on_off(enabled: bool) -> &'static str {
    if enabled { "on" } else { "off" }
}
