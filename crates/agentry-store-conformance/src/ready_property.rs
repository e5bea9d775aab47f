//! The ready queue checked against core's rule on random backlogs.

use agentry_core::import::{ImportRecord, SourceKey};
use agentry_core::ready::select_ready;
use agentry_core::{IssueId, LinkKind, NewIssue, Priority, Status};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::MakeStore;
use crate::cases::t0;

#[derive(Clone, Debug)]
struct Spec {
    status: Status,
    priority: i64,
    ready_in_secs: i64,
    /// Indices of earlier issues this one depends on (earlier only, so there is no cycle).
    depends_on: Vec<usize>,
}

fn spec(index: usize) -> impl Strategy<Value = Spec> {
    let status = prop::sample::select(Status::ALL.to_vec());
    let deps = prop::collection::vec(0..index.max(1), 0..3);
    // Few distinct times and priorities, so ties are common and the tie-breaks are exercised.
    (status, 0i64..5, -3i64..3, deps).prop_map(move |(status, priority, ready_in_secs, deps)| {
        Spec {
            status,
            priority,
            ready_in_secs,
            depends_on: if index == 0 { vec![] } else { deps },
        }
    })
}

fn backlog() -> impl Strategy<Value = Vec<Spec>> {
    (1usize..40).prop_flat_map(|n| (0..n).map(spec).collect::<Vec<_>>())
}

fn record(index: usize, spec: &Spec) -> ImportRecord {
    let issue = NewIssue {
        priority: Priority::new(spec.priority).unwrap(),
        ready_at: Some(t0().plus_secs(spec.ready_in_secs)),
        ..NewIssue::new(format!("issue {index}"))
    };
    ImportRecord {
        line: index + 1,
        key: SourceKey::Agentry(id(index)),
        issue,
        status: spec.status,
        created_at: Some(t0()),
        updated_at: Some(t0()),
        links: spec
            .depends_on
            .iter()
            .map(|d| (LinkKind::DependsOn, SourceKey::Agentry(id(*d))))
            .collect(),
        skip: None,
    }
}

/// Ids whose order differs from their index order, so id order is really tested.
fn id(index: usize) -> IssueId {
    IssueId::generate((index as u64).wrapping_mul(2_654_435_761))
}

pub(crate) fn ready_matches_the_core_rule(make: MakeStore) {
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let strategy = (backlog(), 1usize..50);
    let result = runner.run(&strategy, |(specs, limit)| {
        let store = make();
        let records = specs
            .iter()
            .enumerate()
            .map(|(i, s)| record(i, s))
            .collect();
        store.import(records, t0()).unwrap();
        let exported = store.export().unwrap();
        let issues: Vec<_> = exported.iter().map(|(issue, _)| issue.clone()).collect();
        let links: Vec<_> = exported
            .iter()
            .flat_map(|(_, links)| links.clone())
            .collect();
        let expected: Vec<_> = select_ready(&issues, &links, t0(), limit)
            .into_iter()
            .cloned()
            .collect();
        prop_assert_eq!(store.ready(t0(), limit).unwrap(), expected);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
