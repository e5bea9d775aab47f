//! The handoff summary (seeds/002) built from the store: what is done with its evidence,
//! what is pending with its reason, the risks the status sees, and what comes next.

use agentry_core::config::Config;
use agentry_core::{Event, EventType, Issue, Status, Timestamp};
use agentry_lean::{Completed, HandoffSummary, Pending};
use agentry_store::{IssueFilter, Store, StoreError};
use serde_json::Value;

/// The most entries a list of the summary holds (the packet's limit).
const MAX_ENTRIES: usize = 100;
/// The longest text of an entry (the packet's limit).
const MAX_TEXT: usize = agentry_lean::NOTE_MAX as usize;
/// How many ready issues the summary names as next.
const NEXT: usize = 5;

pub fn handoff(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<HandoffSummary, StoreError> {
    let issues = store.list_issues(&IssueFilter::default())?;
    let mut completed = Vec::new();
    let mut pending = Vec::new();
    for issue in &issues {
        let done = matches!(issue.status, Status::Closed | Status::NeedsReview);
        // A full list takes no more entries: their events are not read.
        let full = match done {
            true => completed.len(),
            false => pending.len(),
        } >= MAX_ENTRIES;
        if full {
            continue;
        }
        let events = store.events(&issue.id)?;
        match done {
            true => completed.push(Completed {
                item: entry(issue),
                evidence: clip(evidence(issue, &events)),
            }),
            false => pending.push(Pending {
                item: entry(issue),
                reason: clip(reason(issue, &events, store, now)?),
            }),
        }
    }
    let status = crate::status::snapshot(store, config, now)?;
    let risks = status
        .recommended_actions
        .into_iter()
        .filter(|action| !action.starts_with("Enable") && !action.starts_with("Monitor telemetry"))
        .map(clip)
        .collect();
    let next = store
        .ready(now, NEXT)?
        .iter()
        .map(|issue| clip(format!("start {}", entry(issue))))
        .collect();
    Ok(HandoffSummary {
        completed,
        pending,
        risks,
        next,
    })
}

fn entry(issue: &Issue) -> String {
    clip(format!("{} {} ({})", issue.id, issue.title, issue.status))
}

/// The merge that closed it, else its last verify run, else what closed it.
fn evidence(issue: &Issue, events: &[Event]) -> String {
    let last = |kind: EventType| events.iter().rev().find(|e| e.event_type == kind);
    if let Some(merge) = last(EventType::MergeEvidenceRecorded) {
        return format!("merged: {}", merge.data["evidence"]);
    }
    let verified = last(EventType::SessionDone).and_then(|done| done.data.get("verify").cloned());
    if let Some(verify) = verified.filter(|v| !v.is_null()) {
        let command = verify["command"].as_str().unwrap_or_default();
        return format!("verify `{command}` exited {}", verify["exit_code"]);
    }
    match issue.status {
        Status::Closed => format!(
            "closed: {}",
            status_reason(events).unwrap_or("no reason given")
        ),
        _ => "reviewed; waiting to be merged".to_string(),
    }
}

/// Why an issue is not done yet.
fn reason(
    issue: &Issue,
    events: &[Event],
    store: &dyn Store,
    now: Timestamp,
) -> Result<String, StoreError> {
    Ok(match issue.status {
        Status::InProgress => "a session is working on it".into(),
        Status::Blocked => format!(
            "blocked: {}",
            status_reason(events).unwrap_or("no reason given")
        ),
        _ if issue.ready_at > now => {
            format!("waits until {} (a backoff or a delay)", issue.ready_at)
        }
        _ => {
            let open_deps: Vec<String> = store
                .links(&issue.id)?
                .into_iter()
                .filter(|l| l.src == issue.id && l.kind == agentry_core::LinkKind::DependsOn)
                .filter(|l| {
                    store
                        .issue(&l.dst)
                        .is_ok_and(|d| d.status != Status::Closed)
                })
                .map(|l| l.dst.to_string())
                .collect();
            match open_deps.is_empty() {
                true => "ready, not started".into(),
                false => format!("waits on {}", open_deps.join(", ")),
            }
        }
    })
}

/// The reason of the latest status change.
fn status_reason(events: &[Event]) -> Option<&str> {
    events
        .iter()
        .rev()
        .find(|e| e.event_type == EventType::StatusChanged)
        .and_then(|e| e.data.get("reason"))
        .and_then(Value::as_str)
        .filter(|reason| !reason.is_empty())
}

/// Text cut to the packet's limit, on a character boundary.
fn clip(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((at, _)) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use agentry_core::NewIssue;
    use agentry_store::SqliteStore;

    use super::*;

    #[test]
    fn clipping_keeps_whole_characters() {
        let long = "é".repeat(MAX_TEXT + 5);
        assert_eq!(clip(long).chars().count(), MAX_TEXT);
        assert_eq!(clip("short".into()), "short");
    }

    #[test]
    fn each_list_holds_at_most_the_packets_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
        let now = Timestamp::now();
        for n in 0..MAX_ENTRIES + 3 {
            let id = store
                .create_issue(NewIssue::new(format!("closed {n}")), now)
                .unwrap()
                .id;
            store.set_status(&id, Status::Closed, "done", now).unwrap();
            store
                .create_issue(NewIssue::new(format!("open {n}")), now)
                .unwrap();
        }

        let summary = handoff(&store, &Config::default(), now).unwrap();

        assert_eq!(summary.completed.len(), MAX_ENTRIES);
        assert_eq!(summary.pending.len(), MAX_ENTRIES);
        assert!(summary.completed[0].evidence.starts_with("closed: done"));
        assert_eq!(summary.next.len(), NEXT);
    }
}
