//! `agentry events`.

use std::time::Duration;

use agentry_core::{Event, IssueId};
use agentry_store::Store;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

/// How often `--follow` looks for new events written by another process.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

pub fn run(project: &Project, id: &IssueId, json: bool, follow: bool) -> Result<()> {
    let store = project.open_store()?;
    let events = store.events(id)?;
    if json && !follow {
        return output::json(&events);
    }
    let mut last = 0;
    print_events(&events, json, &mut last)?;
    if !follow {
        return Ok(());
    }
    loop {
        std::thread::sleep(FOLLOW_POLL);
        print_events(&store.events_after(last, Some(id), 1000)?, json, &mut last)?;
    }
}

/// One line per event: JSON Lines when following with `--json`, text otherwise.
fn print_events(events: &[Event], json: bool, last: &mut i64) -> Result<()> {
    for event in events {
        if json {
            outln!("{}", serde_json::to_string(event)?);
        } else {
            outln!(
                "{}  {:<28} {}",
                event.created_at,
                event.event_type,
                summary(event)
            );
        }
        *last = event.id;
    }
    Ok(())
}

/// The parts of an event worth a glance: stage, status, attempts, failed items, reason.
fn summary(event: &Event) -> String {
    let data = &event.data;
    if data.get("schema_version").is_some() {
        let failed = data["failed_items"]
            .as_array()
            .filter(|a| !a.is_empty())
            .map(|a| format!(" failed: {}", serde_json::Value::Array(a.clone())))
            .unwrap_or_default();
        return format!(
            "{} {} spec {} quality {}{failed}",
            data["stage"].as_str().unwrap_or(""),
            data["status"].as_str().unwrap_or(""),
            data["attempts"]["spec"],
            data["attempts"]["quality"]
        );
    }
    data.to_string()
}
