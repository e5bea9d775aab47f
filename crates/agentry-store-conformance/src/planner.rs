//! Cases for planner runs and the plans the contract rejected.

use std::collections::BTreeMap;

use agentry_store::planner::{PlannerOutcome, PlannerRunEnd};
use serde_json::json;

use crate::MakeStore;
use crate::cases::t0;

pub(crate) fn a_planner_run_is_started_then_ended(make: MakeStore) {
    let store = make();
    let params = json!({"goal": "Add a parser"});
    let id = store.start_planner_run("goal", &params, t0()).unwrap();
    let running = store.planner_run(id).unwrap();
    assert_eq!(
        (
            running.planner.as_str(),
            &running.params,
            running.started_at
        ),
        ("goal", &params, t0())
    );
    assert_eq!((running.ended_at, running.end), (None, None));

    let end = PlannerRunEnd {
        outcome: PlannerOutcome::Failed,
        error: Some("every answer was rejected".into()),
        duration_ms: 1234,
        attempts: 3,
    };
    store
        .finish_planner_run(id, &end, t0().plus_secs(2))
        .unwrap();
    let ended = store.planner_run(id).unwrap();
    assert_eq!(ended.ended_at, Some(t0().plus_secs(2)));
    assert_eq!(ended.end, Some(end.clone()));

    let other = store.start_planner_run("replan", &json!({}), t0()).unwrap();
    assert_ne!(other, id);
    assert!(store.planner_run(other + 100).is_err(), "an unknown run");
    assert!(store.finish_planner_run(other + 100, &end, t0()).is_err());
}

pub(crate) fn contract_failures_are_counted_by_reason_since_a_time(make: MakeStore) {
    let store = make();
    assert_eq!(store.contract_failures(None).unwrap(), BTreeMap::new());
    let run = store.start_planner_run("goal", &json!({}), t0()).unwrap();
    for (reason, seconds) in [
        ("invalid_json", 0),
        ("invalid_json", 10),
        ("empty_plan", 20),
    ] {
        store
            .record_contract_failure(run, reason, t0().plus_secs(seconds))
            .unwrap();
    }
    let all = store.contract_failures(None).unwrap();
    assert_eq!(
        all,
        BTreeMap::from([
            ("empty_plan".to_string(), 1),
            ("invalid_json".to_string(), 2)
        ])
    );
    let recent = store.contract_failures(Some(t0().plus_secs(10))).unwrap();
    assert_eq!(
        recent,
        BTreeMap::from([
            ("empty_plan".to_string(), 1),
            ("invalid_json".to_string(), 1)
        ])
    );
}
