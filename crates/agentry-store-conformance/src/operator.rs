//! Cases for state objects and review assignments.

use agentry_core::{EventType, NewIssue, Status};
use agentry_store::StoreError;
use serde_json::json;

use crate::MakeStore;
use crate::cases::t0;

pub(crate) fn state_objects_are_replaced_and_listed_by_prefix(make: MakeStore) {
    let store = make();
    assert_eq!(store.state("flag:a").unwrap(), None);
    store
        .put_state("flag:a", &json!({"enabled": false}), t0())
        .unwrap();
    store
        .put_state("flag:a", &json!({"enabled": true}), t0().plus_secs(5))
        .unwrap();
    store.put_state("flag:b", &json!(1), t0()).unwrap();
    store.put_state("flag_c", &json!(2), t0()).unwrap();
    store
        .put_state("orchestrator:x", &json!("up"), t0())
        .unwrap();

    let a = store.state("flag:a").unwrap().unwrap();
    assert_eq!(a.value, json!({"enabled": true}));
    assert_eq!(a.updated_at, t0().plus_secs(5));
    let keys: Vec<String> = store
        .states("flag:")
        .unwrap()
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    assert_eq!(keys, ["flag:a", "flag:b"]);
}

pub(crate) fn a_deleted_state_object_is_gone_and_its_neighbours_stay(make: MakeStore) {
    let store = make();
    store.put_state("scope_lock:a", &json!(1), t0()).unwrap();
    store.put_state("scope_lock:b", &json!(2), t0()).unwrap();
    assert!(store.delete_state("scope_lock:a").unwrap());
    assert!(!store.delete_state("scope_lock:a").unwrap());
    assert_eq!(store.state("scope_lock:a").unwrap(), None);
    let keys: Vec<String> = store
        .states("scope_lock:")
        .unwrap()
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    assert_eq!(keys, ["scope_lock:b"]);
}

pub(crate) fn reviews_are_assigned_to_issues_that_wait_on_a_person(make: MakeStore) {
    let store = make();
    let open = store.create_issue(NewIssue::new("open"), t0()).unwrap();
    let err = store.assign_review(&open.id, "ana", t0()).unwrap_err();
    assert!(matches!(err, StoreError::NotReviewable { .. }), "{err}");

    let waiting = store.create_issue(NewIssue::new("waiting"), t0()).unwrap();
    store
        .set_status(&waiting.id, Status::Blocked, "needs a decision", t0())
        .unwrap();
    for bad in ["", "  ", "two\nlines"] {
        let err = store.assign_review(&waiting.id, bad, t0()).unwrap_err();
        assert!(err.to_string().starts_with("reviewer:"), "{err}");
    }
    store.assign_review(&waiting.id, "ana", t0()).unwrap();
    let later = t0().plus_secs(60);
    let assignment = store.assign_review(&waiting.id, "bo", later).unwrap();
    assert_eq!(assignment.reviewer, "bo");

    assert_eq!(store.review_assignments().unwrap(), vec![assignment]);
    let assigned: Vec<_> = store
        .events(&waiting.id)
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == EventType::ReviewAssigned)
        .map(|e| e.data["reviewer"].clone())
        .collect();
    assert_eq!(assigned, [json!("ana"), json!("bo")]);
}

pub(crate) fn recent_events_are_the_newest_since_a_time(make: MakeStore) {
    let store = make();
    let old = store.create_issue(NewIssue::new("old"), t0()).unwrap();
    let later = t0().plus_secs(3600);
    let new = store.create_issue(NewIssue::new("new"), later).unwrap();
    store
        .append_event(
            &new.id,
            EventType::ScopeWait,
            &json!({}),
            later.plus_secs(1),
        )
        .unwrap();
    let recent = store.recent_events(later, 10).unwrap();
    let types: Vec<EventType> = recent.iter().map(|e| e.event_type).collect();
    assert_eq!(types, [EventType::ScopeWait, EventType::IssueCreated]);
    assert!(recent.iter().all(|e| e.issue_id != old.id));
    assert_eq!(store.recent_events(t0(), 1).unwrap().len(), 1);
}
