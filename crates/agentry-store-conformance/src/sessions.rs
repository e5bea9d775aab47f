//! Cases for claims, session writes, agent runs and merge-close.

use std::sync::Arc;

use agentry_core::session::{Overflow, fix_issue};
use agentry_core::{EventType, IssueId, Link, LinkKind, NewIssue, Status};
use agentry_store::session::{
    AgentRunEnd, Claim, ClaimAttempt, ClaimHolder, MergeResult, NewAgentRun, SessionEnd,
    SessionRecord,
};
use agentry_store::{Store, StoreError};
use serde_json::json;

use crate::MakeStore;
use crate::cases::t0;

fn holder(session: &str) -> ClaimHolder {
    ClaimHolder {
        session_id: session.into(),
        orchestrator_id: "orch".into(),
        host: "host".into(),
        pid: 42,
    }
}

fn claim(store: &dyn Store, id: &IssueId, session: &str) -> Option<Claim> {
    attempt(store, id, session).claimed()
}

fn attempt(store: &dyn Store, id: &IssueId, session: &str) -> ClaimAttempt {
    store
        .claim(id, &holder(session), t0().plus_secs(60), t0())
        .unwrap()
}

fn event(event_type: EventType, data: serde_json::Value) -> SessionRecord {
    SessionRecord {
        runs: Vec::new(),
        events: vec![(event_type, data)],
    }
}

fn agent_run(id: &IssueId) -> NewAgentRun {
    NewAgentRun {
        issue_id: id.clone(),
        session_id: "s".into(),
        role: "implementer".into(),
        backend: "command".into(),
        host: "h".into(),
        pid: Some(4321),
        started_at: t0(),
        log_ref: Some("logs/s/01-implementer.jsonl".into()),
    }
}

fn end(status: Status, failed: bool) -> SessionEnd {
    SessionEnd {
        status,
        reason: "test".into(),
        ready_at: None,
        failed,
        record: SessionRecord::default(),
    }
}

pub(crate) fn claims_take_only_ready_issues_once(make: MakeStore) {
    let store = make();
    let ready = store.create_issue(NewIssue::new("ready"), t0()).unwrap();
    let later = store
        .create_issue(
            NewIssue {
                ready_at: Some(t0().plus_secs(5)),
                ..NewIssue::new("later")
            },
            t0(),
        )
        .unwrap();
    let waiting = store
        .create_issue(
            NewIssue {
                depends_on: vec![ready.id.clone()],
                ..NewIssue::new("waiting")
            },
            t0(),
        )
        .unwrap();
    let won = claim(store.as_ref(), &ready.id, "s1").expect("a ready issue can be claimed");
    assert_eq!(
        (won.token, won.session_id.as_str(), won.failed_sessions),
        (1, "s1", 0)
    );
    assert_eq!(store.issue(&ready.id).unwrap().status, Status::InProgress);
    assert!(
        attempt(store.as_ref(), &ready.id, "s2") == ClaimAttempt::Taken,
        "claimed twice"
    );
    assert!(
        attempt(store.as_ref(), &later.id, "s3") == ClaimAttempt::Taken,
        "claimed before its ready_at"
    );
    assert!(
        attempt(store.as_ref(), &waiting.id, "s4") == ClaimAttempt::Taken,
        "claimed with an open dependency"
    );
    assert_eq!(store.claims().unwrap(), vec![won]);
    assert!(store.ready(t0(), 10).unwrap().is_empty());
}

pub(crate) fn a_released_claim_is_fenced_off(make: MakeStore) {
    let store = make();
    let id = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let first = claim(store.as_ref(), &id, "s1").unwrap();
    store.renew_claim(&first, t0().plus_secs(120)).unwrap();
    let backoff = SessionEnd {
        ready_at: Some(t0().plus_secs(10)),
        ..end(Status::Open, true)
    };
    let issue = store.end_session(&first, &backoff, t0()).unwrap();
    assert_eq!(
        (issue.status, issue.ready_at),
        (Status::Open, t0().plus_secs(10))
    );
    assert!(matches!(
        store.renew_claim(&first, t0()),
        Err(StoreError::StaleClaim(_))
    ));
    let stale_write =
        store.record_session(&first, &event(EventType::SessionStart, json!({})), t0());
    assert!(matches!(stale_write, Err(StoreError::StaleClaim(_))));
    assert!(
        store
            .claim(&id, &holder("s2"), t0().plus_secs(60), t0())
            .unwrap()
            .claimed()
            .is_none(),
        "backoff holds"
    );
    let second = store
        .claim(&id, &holder("s2"), t0().plus_secs(70), t0().plus_secs(10))
        .unwrap()
        .claimed()
        .unwrap();
    assert_eq!((second.token, second.failed_sessions), (2, 1));
    assert!(matches!(
        store.end_session(&first, &end(Status::Open, false), t0()),
        Err(StoreError::StaleClaim(_))
    ));
    assert_eq!(
        store.issue(&id).unwrap().status,
        Status::InProgress,
        "a stale end changed nothing"
    );
}

pub(crate) fn concurrent_claims_have_one_winner(make: MakeStore) {
    let store: Arc<dyn Store> = Arc::from(make());
    let id = store
        .create_issue(NewIssue::new("contended"), t0())
        .unwrap()
        .id;
    let winners: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let (store, id) = (Arc::clone(&store), id.clone());
                scope.spawn(move || claim(store.as_ref(), &id, &format!("s{n}")).is_some())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(winners, 1);
}

pub(crate) fn session_events_carry_the_session(make: MakeStore) {
    let store = make();
    let id = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let held = claim(store.as_ref(), &id, "s1").unwrap();
    store
        .record_session(
            &held,
            &event(EventType::SessionStart, json!({"stage": "RUNNING"})),
            t0(),
        )
        .unwrap();
    let events = store.events(&id).unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.event_type, last.session_id.as_deref()),
        (EventType::SessionStart, Some("s1"))
    );
    assert_eq!(last.data["stage"], "RUNNING");
    let after: Vec<_> = store
        .events_after(events[0].id, Some(&id), 10)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(after, events[1..].iter().map(|e| e.id).collect::<Vec<_>>());
    assert_eq!(store.events_after(0, None, 1).unwrap().len(), 1);
}

pub(crate) fn an_overflow_creates_a_linked_fix_issue(make: MakeStore) {
    let store = make();
    let original = store
        .create_issue(
            NewIssue {
                done_when: vec!["works".into()],
                ..NewIssue::new("a")
            },
            t0(),
        )
        .unwrap();
    let held = claim(store.as_ref(), &original.id, "s1").unwrap();
    let overflow = Overflow {
        reason: "SPEC_REVIEW failed at attempt 3/3".into(),
        failed_items: vec![],
        fix_list: vec![],
        verify: None,
    };
    let fix = store
        .create_fix_issue(&held, fix_issue(&original, &overflow), t0())
        .unwrap();
    assert_eq!(fix.done_when, vec!["works"]);
    assert!(store.links(&original.id).unwrap().contains(&Link::new(
        original.id.clone(),
        LinkKind::DependsOn,
        fix.id.clone()
    )));
    store
        .end_session(&held, &end(Status::NeedsReview, false), t0())
        .unwrap();
    assert_eq!(
        store.ready(t0(), 10).unwrap(),
        vec![store.issue(&fix.id).unwrap()]
    );
}

/// Takes an issue through a session to `needs_review` with a review-gate marker.
fn reviewed(store: &dyn Store, title: &str) -> IssueId {
    let id = store.create_issue(NewIssue::new(title), t0()).unwrap().id;
    let held = claim(store, &id, &format!("s-{title}")).unwrap();
    store
        .record_session(&held, &event(EventType::SessionDone, json!({})), t0())
        .unwrap();
    store
        .end_session(&held, &end(Status::NeedsReview, false), t0())
        .unwrap();
    id
}

pub(crate) fn merge_closes_by_the_review_gate_rules(make: MakeStore) {
    let store = make();
    let id = reviewed(store.as_ref(), "a");
    let evidence = json!({"branch_head": "abc"});
    let closed = store
        .record_merge(&id, "agentry/a#abc", &evidence, t0())
        .unwrap();
    assert_eq!(
        closed,
        MergeResult::Closed {
            parents_closed: vec![]
        }
    );
    assert_eq!(store.issue(&id).unwrap().status, Status::Closed);
    assert_eq!(
        store
            .record_merge(&id, "agentry/a#abc", &evidence, t0())
            .unwrap(),
        MergeResult::AlreadyRecorded
    );
    assert_eq!(
        store
            .record_merge(&id, "agentry/a#def", &evidence, t0())
            .unwrap(),
        MergeResult::SkippedAlreadyClosed
    );
    let reopened = reviewed(store.as_ref(), "b");
    store
        .set_status(&reopened, Status::Open, "changes asked", t0())
        .unwrap();
    let held = claim(store.as_ref(), &reopened, "s-b2").unwrap();
    store
        .end_session(&held, &end(Status::NeedsReview, false), t0())
        .unwrap();
    let rejected = store
        .record_merge(&reopened, "agentry/b#1", &evidence, t0())
        .unwrap();
    assert!(matches!(rejected, MergeResult::Rejected { reason } if reason.contains("reopened")));
    let types: Vec<_> = store
        .events(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert!(types.ends_with(&[
        EventType::MergeEvidenceRecorded,
        EventType::MergeCloseSkippedAlreadyClosed
    ]));
    assert!(types.contains(&EventType::MergeCloseApplied));
}

pub(crate) fn merging_a_fix_issue_closes_its_parent(make: MakeStore) {
    let store = make();
    let original = store.create_issue(NewIssue::new("a"), t0()).unwrap();
    let held = claim(store.as_ref(), &original.id, "s1").unwrap();
    let overflow = Overflow {
        reason: "r".into(),
        failed_items: vec![],
        fix_list: vec![],
        verify: None,
    };
    let fix = store
        .create_fix_issue(&held, fix_issue(&original, &overflow), t0())
        .unwrap();
    store
        .end_session(&held, &end(Status::NeedsReview, false), t0())
        .unwrap();
    let fix_held = claim(store.as_ref(), &fix.id, "s2").unwrap();
    store
        .record_session(&fix_held, &event(EventType::SessionDone, json!({})), t0())
        .unwrap();
    store
        .end_session(&fix_held, &end(Status::NeedsReview, false), t0())
        .unwrap();
    let result = store.record_merge(&fix.id, "k", &json!({}), t0()).unwrap();
    assert_eq!(
        result,
        MergeResult::Closed {
            parents_closed: vec![original.id.clone()]
        }
    );
    assert_eq!(store.issue(&original.id).unwrap().status, Status::Closed);
    let last = store.events(&original.id).unwrap().pop().unwrap();
    assert_eq!(last.event_type, EventType::OverflowParentClosedByFix);
}

pub(crate) fn agent_runs_are_live_until_finished(make: MakeStore) {
    let store = make();
    let id = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let run = agent_run(&id);
    let ended = AgentRunEnd {
        exit_code: Some(0),
        model: Some("m-1".into()),
        turns: Some(3),
        tokens_in: Some(100),
        tokens_out: Some(20),
        tokens_cache: Some(5),
        cost_usd: Some(0.25),
        ..AgentRunEnd::default()
    };
    let run_id = store.start_agent_run(&run).unwrap();
    let live = store.live_agent_runs().unwrap();
    assert_eq!(
        (live.len(), live[0].id, live[0].pid, live[0].host.as_str()),
        (1, run_id, 4321, "h")
    );
    store
        .finish_agent_run(run_id, &ended, t0().plus_secs(5))
        .unwrap();
    assert!(store.live_agent_runs().unwrap().is_empty());
    let recorded = store.agent_runs(Some(&id)).unwrap();
    assert_eq!(recorded.len(), 1);
    let got = &recorded[0];
    assert_eq!(
        (got.ended_at, got.model.as_deref(), got.turns),
        (Some(t0().plus_secs(5)), Some("m-1"), Some(3))
    );
    assert_eq!(
        (
            got.tokens_in,
            got.tokens_out,
            got.tokens_cache,
            got.cost_usd
        ),
        (Some(100), Some(20), Some(5), Some(0.25))
    );
    assert_eq!(store.cost_since(t0()).unwrap(), 0.25);
    assert_eq!(store.cost_since(t0().plus_secs(1)).unwrap(), 0.0);
    assert!(
        store
            .agent_runs(Some(&"i-other".parse().unwrap()))
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn a_session_record_and_its_end_are_written_whole(make: MakeStore) {
    let store = make();
    let id = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let held = claim(store.as_ref(), &id, "s1").unwrap();
    let run = NewAgentRun {
        issue_id: id.clone(),
        session_id: "s1".into(),
        role: "implementer".into(),
        backend: "scripted".into(),
        host: "h".into(),
        pid: None,
        started_at: t0(),
        log_ref: None,
    };
    let ended = AgentRunEnd {
        exit_code: Some(0),
        ..AgentRunEnd::default()
    };
    let record = SessionRecord {
        runs: vec![(run, ended)],
        events: vec![(EventType::ImplementDone, json!({"stage": "RUNNING"}))],
    };
    store.record_session(&held, &record, t0()).unwrap();
    assert!(
        store.live_agent_runs().unwrap().is_empty(),
        "an in-process run is recorded ended"
    );
    let done = SessionEnd {
        record: event(EventType::SessionDone, json!({"stage": "REVIEW_GATE"})),
        ..end(Status::NeedsReview, false)
    };
    store.end_session(&held, &done, t0()).unwrap();
    let events = store.events(&id).unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert!(
        types.ends_with(&[
            EventType::ImplementDone,
            EventType::SessionDone,
            EventType::StatusChanged
        ]),
        "{types:?}"
    );
    assert_eq!(events[events.len() - 2].session_id.as_deref(), Some("s1"));
    assert!(matches!(
        store.record_session(&held, &record, t0()),
        Err(StoreError::StaleClaim(_))
    ));
}

pub(crate) fn the_next_ready_time_is_the_earliest_future_one(make: MakeStore) {
    let store = make();
    assert_eq!(store.next_ready_at(t0()).unwrap(), None);
    for secs in [30, 10, -5] {
        store
            .create_issue(
                NewIssue {
                    ready_at: Some(t0().plus_secs(secs)),
                    ..NewIssue::new("x")
                },
                t0(),
            )
            .unwrap();
    }
    assert_eq!(store.next_ready_at(t0()).unwrap(), Some(t0().plus_secs(10)));
}

pub(crate) fn the_last_event_id_is_the_latest(make: MakeStore) {
    let store = make();
    assert_eq!(store.last_event_id().unwrap(), 0);
    let a = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    store.create_issue(NewIssue::new("b"), t0()).unwrap();
    store
        .append_event(&a, EventType::ScopeWait, &json!({"waits_for": "a"}), t0())
        .unwrap();
    let all = store.events_after(0, None, 100).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(store.last_event_id().unwrap(), all[2].id);
}

pub(crate) fn an_issue_detail_is_what_the_single_reads_give(make: MakeStore) {
    let store = make();
    let a = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let b = NewIssue {
        depends_on: vec![a.clone()],
        ..NewIssue::new("b")
    };
    store.create_issue(b, t0()).unwrap();
    store.start_agent_run(&agent_run(&a)).unwrap();
    let detail = store.issue_detail(&a, &["mark:a".into()]).unwrap();
    assert_eq!((detail.review, detail.state), (None, Vec::new()));
    store.set_status(&a, Status::InProgress, "", t0()).unwrap();
    store.set_status(&a, Status::NeedsReview, "", t0()).unwrap();
    store.assign_review(&a, "ada", t0()).unwrap();
    store.put_state("mark:a", &json!(1), t0()).unwrap();
    let keys = ["mark:none".to_string(), "mark:a".to_string()];
    let detail = store.issue_detail(&a, &keys).unwrap();
    assert_eq!(detail.review.unwrap().reviewer, "ada");
    assert_eq!(detail.state, [store.state("mark:a").unwrap().unwrap()]);
    assert_eq!(detail.issue, store.issue(&a).unwrap());
    assert_eq!(detail.links, store.links(&a).unwrap());
    assert_eq!(detail.links.len(), 1);
    assert_eq!(detail.events, store.events(&a).unwrap());
    assert_eq!(detail.runs, store.agent_runs(Some(&a)).unwrap());
    assert_eq!(detail.runs.len(), 1);
    let ghost: IssueId = "i-ghost".parse().unwrap();
    assert!(matches!(
        store.issue_detail(&ghost, &[]),
        Err(StoreError::NotFound(id)) if id == ghost
    ));
}
