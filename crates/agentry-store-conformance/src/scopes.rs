//! Cases for scope exclusion at claim time: the scopes of claimed issues and the scope locks
//! hold back an overlapping claim, in the claim's own transaction.

use agentry_core::scope_lock::{ScopeLock, ScopeWait};
use agentry_core::{IssueId, NewIssue, Status};
use agentry_store::Store;
use agentry_store::session::{ClaimAttempt, ClaimHolder, SessionEnd, SessionRecord};
use serde_json::json;

use crate::MakeStore;
use crate::cases::t0;

fn scoped(store: &dyn Store, title: &str, scope: &[&str]) -> IssueId {
    let new = NewIssue {
        scope: scope.iter().map(|s| s.to_string()).collect(),
        ..NewIssue::new(title)
    };
    store.create_issue(new, t0()).unwrap().id
}

fn attempt(store: &dyn Store, id: &IssueId) -> ClaimAttempt {
    let holder = ClaimHolder {
        session_id: format!("s-{id}"),
        orchestrator_id: "orch".into(),
        host: "host".into(),
        pid: 42,
    };
    store.claim(id, &holder, t0().plus_secs(60), t0()).unwrap()
}

fn waits_for(holder: &IssueId, scope: &str, overlaps: &str, scope_lock: bool) -> ClaimAttempt {
    ClaimAttempt::WaitsFor(ScopeWait {
        waits_for: holder.clone(),
        scope: scope.into(),
        overlaps: overlaps.into(),
        scope_lock,
    })
}

pub(crate) fn a_claim_waits_for_an_overlapping_claimed_scope(make: MakeStore) {
    let store = make();
    let running = scoped(store.as_ref(), "running", &["src/**"]);
    let inside = scoped(store.as_ref(), "inside", &["docs/a.md", "src/[ab].rs"]);
    let apart = scoped(store.as_ref(), "apart", &["docs/**"]);
    let unscoped = scoped(store.as_ref(), "unscoped", &[]);
    let held = attempt(store.as_ref(), &running).claimed().unwrap();
    let events_before = store.events(&inside).unwrap();

    assert_eq!(
        attempt(store.as_ref(), &inside),
        waits_for(&running, "src/[ab].rs", "src/**", false)
    );
    assert_eq!(store.issue(&inside).unwrap().status, Status::Open);
    assert_eq!(store.events(&inside).unwrap(), events_before);
    assert!(attempt(store.as_ref(), &apart).claimed().is_some());
    assert!(attempt(store.as_ref(), &unscoped).claimed().is_some());
    assert!(matches!(
        attempt(store.as_ref(), &inside),
        ClaimAttempt::WaitsFor(_)
    ));

    let end = SessionEnd {
        status: Status::NeedsReview,
        reason: "done".into(),
        ready_at: None,
        failed: false,
        record: SessionRecord::default(),
    };
    store.end_session(&held, &end, t0()).unwrap();
    assert_eq!(
        attempt(store.as_ref(), &inside),
        waits_for(&apart, "docs/a.md", "docs/**", false)
    );
}

pub(crate) fn a_claim_waits_for_a_scope_lock_of_an_issue_not_closed(make: MakeStore) {
    let store = make();
    let owner = scoped(store.as_ref(), "owner", &["src/**"]);
    let other = scoped(store.as_ref(), "other", &["src/lib.rs"]);
    let lock = ScopeLock {
        issue_id: owner.clone(),
        globs: vec!["src/*.rs".into()],
        locked_at: t0(),
    };
    store
        .put_state(&ScopeLock::key(&owner), &json!(lock), t0())
        .unwrap();
    store
        .put_state("scope_lock:i-unreadable", &json!("not a lock"), t0())
        .unwrap();

    assert_eq!(
        attempt(store.as_ref(), &other),
        waits_for(&owner, "src/lib.rs", "src/*.rs", true)
    );
    store
        .set_status(&owner, Status::Closed, "done", t0())
        .unwrap();
    assert!(
        attempt(store.as_ref(), &other).claimed().is_some(),
        "a closed issue's lock holds nothing back"
    );
}

pub(crate) fn an_issue_is_not_held_back_by_its_own_lock(make: MakeStore) {
    let store = make();
    let owner = scoped(store.as_ref(), "owner", &["src/**"]);
    let lock = ScopeLock {
        issue_id: owner.clone(),
        globs: vec!["src/**".into()],
        locked_at: t0(),
    };
    store
        .put_state(&ScopeLock::key(&owner), &json!(lock), t0())
        .unwrap();
    assert!(attempt(store.as_ref(), &owner).claimed().is_some());
}
