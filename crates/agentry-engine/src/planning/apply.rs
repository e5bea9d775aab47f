//! Making issues of a plan: one per step, created after the steps it depends on so that each
//! carries its `depends-on` links; for a replan, each also gets a `parent` link to the issue it
//! splits, which is then blocked with a reason naming its parts.

use std::collections::BTreeMap;

use agentry_core::issue::AGENT_LABEL;
use agentry_core::{Issue, IssueId, Link, LinkKind, NewIssue, Status, Timestamp};
use agentry_lean::contract::{Plan, PlanStep};
use agentry_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("step {step}: {reason}")]
    Step { step: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the plan's issues; their ids in the plan's step order. Every step is checked
/// before the first issue is created, so that a bad step leaves no half-made plan behind.
pub fn apply(store: &dyn Store, plan: &Plan, now: Timestamp) -> Result<Vec<IssueId>, ApplyError> {
    for step in &plan.steps {
        new_issue(step, Vec::new())
            .validate()
            .map_err(|err| ApplyError::Step {
                step: step.id.clone(),
                reason: err.to_string(),
            })?;
    }
    let mut created: BTreeMap<&str, IssueId> = BTreeMap::new();
    for step in plan.in_dependency_order() {
        let depends_on = step
            .depends_on
            .iter()
            .filter_map(|dep| created.get(dep.as_str()).cloned())
            .collect();
        let issue = store.create_issue(new_issue(step, depends_on), now)?;
        created.insert(&step.id, issue.id);
    }
    Ok(plan
        .steps
        .iter()
        .filter_map(|step| created.get(step.id.as_str()).cloned())
        .collect())
}

/// Creates the plan's issues as parts of `original`, which is blocked until a person closes
/// it (nothing of it is lost); their ids in step order.
pub fn apply_replan(
    store: &dyn Store,
    plan: &Plan,
    original: &Issue,
    run_id: i64,
    now: Timestamp,
) -> Result<Vec<IssueId>, ApplyError> {
    let parts = apply(store, plan, now)?;
    for part in &parts {
        store.add_link(
            &Link::new(part.clone(), LinkKind::Parent, original.id.clone()),
            now,
        )?;
    }
    let names: Vec<&str> = parts.iter().map(IssueId::as_str).collect();
    let reason = format!(
        "split by planner run {run_id} into {}; close it once they are done",
        names.join(", ")
    );
    if original.status != Status::Blocked {
        store.set_status(&original.id, Status::Blocked, &reason, now)?;
    }
    Ok(parts)
}

fn new_issue(step: &PlanStep, depends_on: Vec<IssueId>) -> NewIssue {
    let packet = &step.packet;
    let body = match step.reason.trim().is_empty() {
        true => packet.task.clone(),
        false => format!("{}\n\nWhy: {}", packet.task, step.reason.trim()),
    };
    NewIssue {
        title: step.title.clone(),
        body,
        priority: packet.priority,
        ready_at: None,
        labels: vec![format!("{AGENT_LABEL}{}", step.agent)],
        scope: packet.scope.clone(),
        verify: packet.verify.clone(),
        done_when: packet.done_when.clone(),
        not_your_job: packet.not_your_job.clone(),
        depends_on,
    }
}
