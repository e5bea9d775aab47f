//! Cases for the counts `/metrics` reports.

use std::collections::BTreeMap;

use agentry_core::{EventType, NewIssue, Status};
use agentry_store::alert::AlertOutcome;
use agentry_store::{IssueFilter, Store, Tallies};
use serde_json::json;

use crate::MakeStore;
use crate::alerts::record;
use crate::cases::t0;

/// The same counts, from reading every row.
fn counted_from_rows(store: &dyn Store) -> Tallies {
    let mut tallies = Tallies::default();
    for issue in store.list_issues(&IssueFilter::default()).unwrap() {
        *tallies.issues.entry(issue.status.to_string()).or_default() += 1;
    }
    for event in store.events_after(0, None, usize::MAX).unwrap() {
        *tallies
            .events
            .entry(event.event_type.to_string())
            .or_default() += 1;
    }
    for alert in store.alerts(usize::MAX).unwrap() {
        *tallies.alerts.entry(alert.outcome.to_string()).or_default() += 1;
    }
    tallies
}

pub(crate) fn tallies_count_what_the_rows_hold(make: MakeStore) {
    let store = make();
    assert_eq!(store.tallies().unwrap(), Tallies::default());
    let ids: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|title| store.create_issue(NewIssue::new(*title), t0()).unwrap().id)
        .collect();
    store
        .set_status(&ids[0], Status::InProgress, "working", t0())
        .unwrap();
    store
        .append_event(&ids[1], EventType::ScopeWait, &json!({}), t0())
        .unwrap();
    for (n, outcome) in [AlertOutcome::Sent, AlertOutcome::Sent, AlertOutcome::Failed]
        .into_iter()
        .enumerate()
    {
        store
            .record_alert(&record("stale", outcome, n as i64))
            .unwrap();
    }

    let tallies = store.tallies().unwrap();
    assert_eq!(tallies, counted_from_rows(store.as_ref()));
    let statuses = BTreeMap::from([("in_progress".into(), 1), ("open".into(), 2)]);
    assert_eq!(tallies.issues, statuses);
    assert_eq!(tallies.events[EventType::ScopeWait.as_str()], 1);
    let outcomes = BTreeMap::from([("failed".into(), 1), ("sent".into(), 2)]);
    assert_eq!(tallies.alerts, outcomes);
}
