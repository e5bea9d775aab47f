//! Example-based cases.

use agentry_core::import::parse_jsonl;
use agentry_core::{
    EventType, IssueId, IssuePatch, Link, LinkKind, NewIssue, Priority, Status, Timestamp,
};
use agentry_store::{IssueFilter, StoreError};

use crate::MakeStore;

pub(crate) fn t0() -> Timestamp {
    Timestamp::from_unix_micros(1_767_225_600_000_000)
}

fn full_issue() -> NewIssue {
    NewIssue {
        title: "Add a login page".into(),
        body: "Users sign in with email.".into(),
        priority: Priority::new(1).unwrap(),
        ready_at: None,
        labels: vec!["web".into()],
        scope: vec!["src/login/**".into()],
        verify: vec!["sh test.sh".into()],
        done_when: vec!["a user can sign in".into()],
        not_your_job: vec!["password reset".into()],
        depends_on: vec![],
    }
}

fn event_types(store: &dyn agentry_store::Store, id: &IssueId) -> Vec<EventType> {
    store
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

pub(crate) fn creates_and_reads_back(make: MakeStore) {
    let store = make();
    let issue = store.create_issue(full_issue(), t0()).unwrap();
    assert_eq!(issue.status, Status::Open);
    assert_eq!(issue.ready_at, t0());
    assert_eq!(store.issue(&issue.id).unwrap(), issue);
    assert_eq!(
        store.list_issues(&IssueFilter::default()).unwrap(),
        vec![issue.clone()]
    );
    let events = store.events(&issue.id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::IssueCreated);
    assert_eq!(events[0].created_at, t0());
}

pub(crate) fn unknown_ids_are_not_found(make: MakeStore) {
    let store = make();
    let ghost: IssueId = "i-ghost".parse().unwrap();
    let not_found =
        |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound(id)) if id == ghost);
    assert!(not_found(store.issue(&ghost).map(drop)));
    assert!(not_found(
        store.set_status(&ghost, Status::Closed, "", t0()).map(drop)
    ));
    assert!(not_found(
        store
            .update_issue(&ghost, IssuePatch::default(), t0())
            .map(drop)
    ));
    assert!(not_found(store.events(&ghost).map(drop)));
    assert!(not_found(store.links(&ghost).map(drop)));
}

pub(crate) fn status_follows_the_transition_rules(make: MakeStore) {
    let store = make();
    let id = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    for (step, to) in [Status::InProgress, Status::NeedsReview, Status::Closed]
        .into_iter()
        .enumerate()
    {
        let now = t0().plus_secs(step as i64 + 1);
        let issue = store.set_status(&id, to, "test", now).unwrap();
        assert_eq!((issue.status, issue.updated_at), (to, now));
    }
    let err = store
        .set_status(&id, Status::InProgress, "", t0())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "illegal status transition: closed → in_progress (from closed an issue may go to: open)"
    );
    assert_eq!(store.issue(&id).unwrap().status, Status::Closed);
    let events = store.events(&id).unwrap();
    assert_eq!(events.len(), 4, "a refused transition appends no event");
    assert_eq!(events[3].data["from"], "needs_review");
    assert_eq!(events[3].data["to"], "closed");
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
}

pub(crate) fn updates_record_only_real_changes(make: MakeStore) {
    let store = make();
    let issue = store.create_issue(full_issue(), t0()).unwrap();
    let same = IssuePatch {
        title: Some(issue.title.clone()),
        ..IssuePatch::default()
    };
    assert_eq!(
        store
            .update_issue(&issue.id, same, t0().plus_secs(1))
            .unwrap(),
        issue
    );
    let patch = IssuePatch {
        priority: Some(Priority::new(0).unwrap()),
        verify: Some(vec!["make check".into()]),
        ..IssuePatch::default()
    };
    let updated = store
        .update_issue(&issue.id, patch, t0().plus_secs(2))
        .unwrap();
    assert_eq!(updated.priority.value(), 0);
    assert_eq!(updated.verify, vec!["make check"]);
    assert_eq!(updated.updated_at, t0().plus_secs(2));
    assert_eq!(store.issue(&issue.id).unwrap(), updated);
    let events = store.events(&issue.id).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1].data["fields"],
        serde_json::json!(["priority", "verify"])
    );
}

pub(crate) fn links_refuse_self_and_cycles(make: MakeStore) {
    let store = make();
    let a = store.create_issue(NewIssue::new("a"), t0()).unwrap().id;
    let b = store.create_issue(NewIssue::new("b"), t0()).unwrap().id;
    let c = store.create_issue(NewIssue::new("c"), t0()).unwrap().id;
    let link = |s: &IssueId, k, d: &IssueId| Link::new(s.clone(), k, d.clone());
    assert!(
        store
            .add_link(&link(&a, LinkKind::DependsOn, &b), t0())
            .unwrap()
    );
    assert!(
        !store
            .add_link(&link(&a, LinkKind::DependsOn, &b), t0())
            .unwrap()
    );
    assert!(
        store
            .add_link(&link(&b, LinkKind::DependsOn, &c), t0())
            .unwrap()
    );
    assert!(matches!(
        store.add_link(&link(&c, LinkKind::DependsOn, &a), t0()),
        Err(StoreError::Cycle { .. })
    ));
    assert!(matches!(
        store.add_link(&link(&a, LinkKind::Related, &a), t0()),
        Err(StoreError::SelfLink(_))
    ));
    assert!(
        store
            .add_link(&link(&c, LinkKind::Related, &a), t0())
            .unwrap(),
        "related links may point back"
    );
    assert_eq!(store.links(&b).unwrap().len(), 2);
    assert!(
        store
            .remove_link(&link(&a, LinkKind::DependsOn, &b), t0())
            .unwrap()
    );
    assert!(
        !store
            .remove_link(&link(&a, LinkKind::DependsOn, &b), t0())
            .unwrap()
    );
    assert_eq!(
        event_types(store.as_ref(), &a),
        vec![
            EventType::IssueCreated,
            EventType::LinkAdded,
            EventType::LinkRemoved
        ]
    );
}

pub(crate) fn a_failed_create_writes_nothing(make: MakeStore) {
    let store = make();
    let mut new = NewIssue::new("a");
    new.depends_on = vec!["i-ghost".parse().unwrap()];
    assert!(matches!(
        store.create_issue(new, t0()),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.create_issue(NewIssue::new(" "), t0()),
        Err(StoreError::Input(_))
    ));
    assert!(
        store
            .list_issues(&IssueFilter::default())
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn lists_filter_by_status_and_label(make: MakeStore) {
    let store = make();
    let a = store.create_issue(full_issue(), t0()).unwrap();
    let b = store.create_issue(NewIssue::new("b"), t0()).unwrap();
    store
        .set_status(&b.id, Status::Blocked, "waiting", t0())
        .unwrap();
    let by_status = IssueFilter {
        status: Some(Status::Blocked),
        label: None,
    };
    let ids: Vec<_> = store
        .list_issues(&by_status)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, vec![b.id]);
    let by_label = IssueFilter {
        status: None,
        label: Some("web".into()),
    };
    let ids: Vec<_> = store
        .list_issues(&by_label)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, vec![a.id]);
}

pub(crate) fn ready_respects_status_time_and_dependencies(make: MakeStore) {
    let store = make();
    let new = |title: &str, priority: i64, ready_in: i64| NewIssue {
        priority: Priority::new(priority).unwrap(),
        ready_at: Some(t0().plus_secs(ready_in)),
        ..NewIssue::new(title)
    };
    let late = store.create_issue(new("late", 0, 60), t0()).unwrap();
    let low = store.create_issue(new("low", 3, -10), t0()).unwrap();
    let urgent = store.create_issue(new("urgent", 0, 0), t0()).unwrap();
    let old_urgent = store.create_issue(new("old urgent", 0, -5), t0()).unwrap();
    let mut waiting = new("waiting", 0, -100);
    waiting.depends_on = vec![low.id.clone()];
    let waiting = store.create_issue(waiting, t0()).unwrap();
    let ids =
        |issues: Vec<agentry_core::Issue>| issues.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.ready(t0(), 10).unwrap()),
        vec![old_urgent.id.clone(), urgent.id.clone(), low.id.clone()]
    );
    assert_eq!(
        ids(store.ready(t0(), 1).unwrap()),
        vec![old_urgent.id.clone()]
    );
    store
        .set_status(&low.id, Status::Closed, "done", t0())
        .unwrap();
    store
        .set_status(&urgent.id, Status::InProgress, "claimed", t0())
        .unwrap();
    assert_eq!(
        ids(store.ready(t0(), 10).unwrap()),
        vec![waiting.id.clone(), old_urgent.id.clone()]
    );
    assert_eq!(
        ids(store.ready(t0().plus_secs(60), 10).unwrap()),
        vec![waiting.id, old_urgent.id, late.id]
    );
}

pub(crate) fn export_then_import_round_trips(make: MakeStore) {
    let source = make();
    let a = source.create_issue(full_issue(), t0()).unwrap();
    let mut b = NewIssue::new("b");
    b.depends_on = vec![a.id.clone()];
    let b = source.create_issue(b, t0()).unwrap();
    source
        .set_status(&a.id, Status::Blocked, "x", t0())
        .unwrap();
    let exported = source.export().unwrap();
    let text: String = exported
        .iter()
        .map(|(issue, links)| {
            let line = agentry_core::import::ExportLine { issue, links };
            serde_json::to_string(&line).unwrap() + "\n"
        })
        .collect();
    let target = make();
    let report = target
        .import(parse_jsonl(&text).unwrap(), t0().plus_secs(5))
        .unwrap();
    assert_eq!((report.taken, report.links_taken), (2, 1));
    assert_eq!(target.export().unwrap(), exported);
    assert_eq!(
        target.links(&b.id).unwrap(),
        vec![Link::new(b.id.clone(), LinkKind::DependsOn, a.id.clone())]
    );
    assert_eq!(
        event_types(target.as_ref(), &a.id),
        vec![EventType::IssueImported]
    );
    let again = target.import(parse_jsonl(&text).unwrap(), t0()).unwrap();
    assert_eq!(again.taken, 0);
    assert_eq!(again.skipped.len(), 2);
}

pub(crate) fn a_failed_import_writes_nothing(make: MakeStore) {
    let store = make();
    let a = store.create_issue(NewIssue::new("a"), t0()).unwrap();
    let b = store.create_issue(NewIssue::new("b"), t0()).unwrap();
    store
        .add_link(
            &Link::new(a.id.clone(), LinkKind::DependsOn, b.id.clone()),
            t0(),
        )
        .unwrap();
    let closes_cycle = format!(
        "{{\"title\":\"fine\"}}\n{{\"id\":\"i-new\",\"title\":\"n\",\"links\":[{{\"src\":\"i-new\",\"kind\":\"depends-on\",\"dst\":\"{a}\"}}]}}\n{{\"id\":\"{b}\",\"title\":\"b\",\"links\":[{{\"src\":\"{b}\",\"kind\":\"depends-on\",\"dst\":\"i-new\"}}]}}\n",
        a = a.id,
        b = b.id
    );
    // b is already in the store, so its line is skipped and its link with it: no cycle.
    let report = store
        .import(parse_jsonl(&closes_cycle).unwrap(), t0())
        .unwrap();
    assert_eq!(report.taken, 2);
    let cycle = r#"{"title":"fine"}
{"id":"i-x1","title":"x","links":[{"src":"i-x1","kind":"depends-on","dst":"i-x2"}]}
{"id":"i-x2","title":"y","links":[{"src":"i-x2","kind":"depends-on","dst":"i-x1"}]}
"#;
    let before = store.export().unwrap();
    assert!(matches!(
        store.import(parse_jsonl(cycle).unwrap(), t0()),
        Err(StoreError::Import(_))
    ));
    assert_eq!(store.export().unwrap(), before);
}

pub(crate) fn beads_import_is_idempotent(make: MakeStore) {
    let store = make();
    let text = r#"{"id":"bd-1","title":"parent","status":"open","priority":1,"issue_type":"epic"}
{"id":"bd-2","title":"child","status":"in_progress","priority":2,"dependencies":[{"issue_id":"bd-2","depends_on_id":"bd-1","type":"blocks"}]}"#;
    let first = store.import(parse_jsonl(text).unwrap(), t0()).unwrap();
    assert_eq!((first.taken, first.links_taken), (2, 1));
    let by_label = |label: &str| IssueFilter {
        status: None,
        label: Some(label.into()),
    };
    let parent = store
        .list_issues(&by_label("beads:bd-1"))
        .unwrap()
        .remove(0);
    let child = store
        .list_issues(&by_label("beads:bd-2"))
        .unwrap()
        .remove(0);
    assert_eq!(child.status, Status::Open);
    assert_eq!(store.ready(t0(), 10).unwrap(), vec![parent.clone()]);
    let second = store.import(parse_jsonl(text).unwrap(), t0()).unwrap();
    assert_eq!(second.taken, 0);
    assert_eq!(
        second.skipped[0].reason,
        format!("already imported as {}", parent.id)
    );
    assert_eq!(store.list_issues(&IssueFilter::default()).unwrap().len(), 2);
}
