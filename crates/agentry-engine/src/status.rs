//! Gathers the status snapshot from the store: the queue, the sessions, the flags, the
//! last day's errors and the conditions that core turns into recommended actions.

use std::collections::{BTreeMap, HashMap};

use crate::planning::{GoalPlanner, ReplanPlanner};
use agentry_core::config::Config;
use agentry_core::flags::{Flag, FlagValue};
use agentry_core::health::planner::{
    Backlog, FAILURE_WINDOW_SECS, FLAPPING_RETURNS, PlannerReport, PlannerSteps, PlannerTelemetry,
    StepTemplate,
};
use agentry_core::health::{
    ActiveSession, AgentFailure, AgentPause, BudgetSpent, Conditions, LeanFeature,
    OrchestratorStatus, QueueStatus, REPEATED_ERRORS, RecentError, RepeatedError, SessionCounts,
    StaleLease, StatusSnapshot, WaitingQuestion,
};
use agentry_core::session::snapshot;
use agentry_core::{Event, EventType, IssueId, Status, Timestamp};
use agentry_store::session::AgentRun;
use agentry_store::{IssueFilter, Store, StoreError};
use serde_json::Value;

use crate::heartbeat::{ORCHESTRATOR_PREFIX, RATE_LIMIT_KEY};
use crate::recovery::{ORPHANED, is_take_back};

/// The window the status looks back over.
const WINDOW_SECS: i64 = 86_400;
/// The most events of that window read.
const WINDOW_EVENTS: usize = 20_000;
/// The errors listed in the status.
const RECENT_ERRORS: usize = 10;
/// An agent whose last this many runs all failed is failing.
const FAILING_RUNS: usize = 3;

pub fn snapshot(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<StatusSnapshot, StoreError> {
    let window = store.recent_events(now.plus_secs(-WINDOW_SECS), WINDOW_EVENTS)?;
    let flags = flags(store, config)?;
    let conditions = conditions(store, config, &flags, &window, now)?;
    let active = store
        .claims()?
        .into_iter()
        .map(|c| ActiveSession {
            issue_id: c.issue_id,
            session_id: c.session_id,
            orchestrator_id: c.orchestrator_id,
            host: c.host,
            pid: c.pid,
            claimed_at: c.claimed_at,
            lease_until: c.lease_until,
        })
        .collect();
    Ok(StatusSnapshot::new(
        now,
        orchestrator(store, config, now)?,
        queue(store, now)?,
        active,
        flags,
        recent_errors(&window),
        conditions,
    )
    .with_questions(waiting_questions(store)?))
}

/// Blocked issues whose implementer asked a question nobody has answered, oldest first.
fn waiting_questions(store: &dyn Store) -> Result<Vec<WaitingQuestion>, StoreError> {
    let blocked = IssueFilter {
        status: Some(Status::Blocked),
        label: None,
    };
    let mut waiting = Vec::new();
    for issue in store.list_issues(&blocked)? {
        let events = store.events(&issue.id)?;
        if let Some(open) = agentry_core::question::blocked_on(&issue, &events) {
            waiting.push(WaitingQuestion {
                issue_id: issue.id,
                question: open.packet.question,
                asked_at: open.asked_at,
            });
        }
    }
    waiting.sort_by_key(|q| q.asked_at);
    Ok(waiting)
}

/// Every flag's runtime value.
pub fn flags(store: &dyn Store, config: &Config) -> Result<Vec<FlagValue>, StoreError> {
    Flag::ALL
        .into_iter()
        .map(|flag| {
            let stored = store.state(&flag.state_key())?.and_then(|entry| {
                let enabled = entry.value.get("enabled")?.as_bool()?;
                Some((enabled, entry.updated_at))
            });
            Ok(flag.resolve(config, stored))
        })
        .collect()
}

/// How deep the queue is, by status and ready.
pub fn queue(store: &dyn Store, now: Timestamp) -> Result<QueueStatus, StoreError> {
    let mut depth = BTreeMap::new();
    for status in Status::ALL {
        let filter = IssueFilter {
            status: Some(status),
            label: None,
        };
        depth.insert(status.as_str(), store.list_issues(&filter)?.len());
    }
    let ready = store.ready(now, usize::MAX)?;
    let oldest = ready.iter().map(|issue| issue.ready_at).min();
    Ok(QueueStatus {
        depth,
        ready: ready.len(),
        oldest_ready_age_s: oldest
            .map(|at| (now.unix_micros() - at.unix_micros()).max(0) as f64 / 1e6),
        next_ready_at: store.next_ready_at(now)?,
    })
}

/// The orchestrator with the latest heartbeat; running while its heartbeats are fresh.
pub fn orchestrator(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<OrchestratorStatus, StoreError> {
    let latest = store
        .states(ORCHESTRATOR_PREFIX)?
        .into_iter()
        .max_by_key(|entry| entry.updated_at);
    let Some(entry) = latest else {
        return Ok(OrchestratorStatus::default());
    };
    let fresh = now.plus_secs(-(config.scheduling.lease_secs as i64)) <= entry.updated_at;
    let field = |name: &str| entry.value.get(name).cloned().unwrap_or(Value::Null);
    Ok(OrchestratorStatus {
        id: Some(entry.key[ORCHESTRATOR_PREFIX.len()..].to_string()),
        running: fresh && field("running").as_bool().unwrap_or(false),
        workers: field("workers").as_u64().unwrap_or(0) as u32,
        backend: field("backend").as_str().unwrap_or_default().to_string(),
        heartbeat_at: Some(entry.updated_at),
    })
}

fn conditions(
    store: &dyn Store,
    config: &Config,
    flags: &[FlagValue],
    window: &[Event],
    now: Timestamp,
) -> Result<Conditions, StoreError> {
    let enabled = |flag: Flag| flags.iter().any(|f| f.name == flag.name() && f.enabled);
    let runs = store.agent_runs(None)?;
    Ok(Conditions {
        plan_rewrite: lean_feature(store, enabled(Flag::LeanPlanRewrite), "lean:plan_rewrite")?,
        field_fallback: lean_feature(
            store,
            enabled(Flag::LeanFieldFallback),
            "lean:field_fallback",
        )?,
        repeated_errors: repeated_errors(store, window)?,
        sessions: session_counts(window),
        snapshot_errors: snapshot_errors(window),
        stale_leases: stale_leases(store, now)?,
        failing_agents: failing_agents(&runs),
        paused_agents: paused_agents(store, now)?,
        budget_spent: budget_spent(store, config, now)?,
    })
}

/// A lean fallback's switch, and the last error its state object (kept by the parser)
/// holds.
fn lean_feature(store: &dyn Store, enabled: bool, key: &str) -> Result<LeanFeature, StoreError> {
    let last_error = store.state(key)?.and_then(|entry| {
        let error = entry.value.get("lastError")?.as_str()?;
        Some(error.to_string())
    });
    Ok(LeanFeature {
        enabled,
        last_error,
    })
}

fn session_counts(window: &[Event]) -> SessionCounts {
    let mut counts = SessionCounts::default();
    window.iter().for_each(|e| counts.count(e.event_type));
    counts
}

/// Issues, not closed or waiting on review, whose latest sessions in the window all ended in
/// `SESSION_ERROR`, at least [`REPEATED_ERRORS`] of them. Sessions recovery took back from a
/// failed orchestrator do not count: they say nothing about the issue.
fn repeated_errors(store: &dyn Store, window: &[Event]) -> Result<Vec<RepeatedError>, StoreError> {
    let mut streaks: HashMap<&IssueId, (u32, bool, &Event)> = HashMap::new();
    let counts =
        |e: &&Event| SessionCounts::ends_session(e.event_type) && !is_take_back(&failure_reason(e));
    // Newest first: a streak ends at the first session that did not fail.
    for event in window.iter().filter(counts) {
        let streak = streaks.entry(&event.issue_id).or_insert((0, true, event));
        if !streak.1 {
            continue;
        }
        match event.event_type {
            EventType::SessionError => streak.0 += 1,
            _ => streak.1 = false,
        }
    }
    let mut found = Vec::new();
    for (id, (errors, _, latest)) in streaks {
        if errors < REPEATED_ERRORS {
            continue;
        }
        if matches!(
            store.issue(id)?.status,
            Status::Closed | Status::NeedsReview
        ) {
            continue;
        }
        found.push(RepeatedError {
            issue_id: id.clone(),
            errors,
            reason: failure_reason(latest),
        });
    }
    found.sort_by(|a, b| a.issue_id.as_str().cmp(b.issue_id.as_str()));
    Ok(found)
}

/// A failed session's first failed item, or its reason.
fn failure_reason(event: &Event) -> String {
    let items = event.data.get("failed_items").and_then(Value::as_array);
    let first = items
        .and_then(|items| items.first())
        .and_then(Value::as_str);
    let reason = event.data.get("reason").and_then(Value::as_str);
    first.or(reason).unwrap_or("no reason recorded").to_string()
}

fn recent_errors(window: &[Event]) -> Vec<RecentError> {
    window
        .iter()
        .filter(|e| {
            matches!(
                e.event_type,
                EventType::SessionError | EventType::VerifyFailed
            )
        })
        .take(RECENT_ERRORS)
        .map(|e| RecentError {
            issue_id: e.issue_id.clone(),
            event_type: e.event_type,
            reason: failure_reason(e),
            at: e.created_at,
        })
        .collect()
}

/// Session events whose `loop_snapshot.v1` payload fails validation.
fn snapshot_errors(window: &[Event]) -> Vec<String> {
    window
        .iter()
        .filter(|e| e.session_id.is_some() && e.data.get("schema_version").is_some())
        .filter_map(|e| {
            snapshot::validate(&e.data)
                .err()
                .map(|why| format!("event {} of {}: {why}", e.id, e.issue_id))
        })
        .collect()
}

fn stale_leases(store: &dyn Store, now: Timestamp) -> Result<Vec<StaleLease>, StoreError> {
    Ok(store
        .claims()?
        .into_iter()
        .filter(|claim| claim.lease_until < now)
        .map(|claim| StaleLease {
            issue_id: claim.issue_id,
            session_id: claim.session_id,
            lease_until: claim.lease_until,
        })
        .collect())
}

/// Agents whose last [`FAILING_RUNS`] finished runs all failed. Runs orphaned by a failed
/// orchestrator say nothing about the agent and do not count.
fn failing_agents(runs: &[AgentRun]) -> Vec<AgentFailure> {
    let mut by_agent: BTreeMap<&str, Vec<&AgentRun>> = BTreeMap::new();
    let orphaned = |run: &AgentRun| run.error.as_deref() == Some(ORPHANED);
    for run in runs
        .iter()
        .filter(|run| run.ended_at.is_some() && !orphaned(run))
    {
        by_agent.entry(&run.backend).or_default().push(run);
    }
    by_agent
        .into_iter()
        .filter_map(|(agent, runs)| {
            let last = &runs[runs.len().saturating_sub(FAILING_RUNS)..];
            let all_failed = last.len() == FAILING_RUNS && last.iter().all(|r| r.error.is_some());
            all_failed.then(|| AgentFailure {
                agent: agent.to_string(),
                failed_runs: FAILING_RUNS as u32,
                error: last[last.len() - 1].error.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// Agents paused by their provider's rate limit now.
pub fn paused_agents(store: &dyn Store, now: Timestamp) -> Result<Vec<AgentPause>, StoreError> {
    let pause = store.state(RATE_LIMIT_KEY)?.and_then(|entry| {
        let until: Timestamp = entry.value.get("until")?.as_str()?.parse().ok()?;
        let agent = entry.value.get("agent")?.as_str()?.to_string();
        (until > now).then_some(AgentPause { agent, until })
    });
    Ok(pause.into_iter().collect())
}

fn budget_spent(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<Option<BudgetSpent>, StoreError> {
    let limit = config.budgets.per_day_usd;
    if limit <= 0.0 {
        return Ok(None);
    }
    let spent = store.cost_since(now.day_start())?;
    Ok((spent >= limit).then_some(BudgetSpent {
        spent_usd: spent,
        limit_usd: limit,
    }))
}

/// The planner health report. Its planners' steps and their templates: the session loop's
/// roles, the goal planner's `plan` and the `replan` step. A template is found when the store
/// holds a version of it, and active when its active version compiles.
pub fn planner_report(store: &dyn Store, now: Timestamp) -> Result<PlannerReport, StoreError> {
    let versions = store.templates()?;
    let step = |step: &str, template: &str| {
        let mut of_template = versions.iter().filter(|v| v.name == template).peekable();
        let template_found = of_template.peek().is_some();
        let template_active = of_template
            .find(|v| v.active)
            .is_some_and(|v| crate::prompts::check_template(template, &v.body).is_ok());
        StepTemplate {
            step: step.to_string(),
            template: template.to_string(),
            template_found,
            template_active,
        }
    };
    let session = crate::prompts::ROLE_TEMPLATES
        .iter()
        .map(|t| step(t.role.expect("a role template").as_str(), t.name))
        .collect();
    let model_planners = [GoalPlanner::metadata(), ReplanPlanner::metadata()];
    let planners = std::iter::once(PlannerSteps {
        name: "session".into(),
        steps: session,
    })
    .chain(model_planners.iter().map(|planner| {
        PlannerSteps {
            name: planner.name.into(),
            steps: planner
                .steps
                .iter()
                .filter_map(|s| s.template.map(|template| step(s.name, template)))
                .collect(),
        }
    }))
    .collect();
    let window = store.recent_events(now.plus_secs(-FAILURE_WINDOW_SECS), WINDOW_EVENTS)?;
    let queue = queue(store, now)?;
    let backlog = Backlog {
        ready: queue.ready,
        oldest_ready_age_s: queue.oldest_ready_age_s,
        flapping: flapping(&window),
    };
    let telemetry = PlannerTelemetry {
        recent_failures: session_counts(&window).error,
        contract_failures: store
            .contract_failures(Some(now.plus_secs(-FAILURE_WINDOW_SECS)))?
            .values()
            .sum(),
    };
    Ok(PlannerReport::new(now, planners, backlog, telemetry))
}

/// Issues a session put back in the queue at least [`FLAPPING_RETURNS`] times in the window.
fn flapping(window: &[Event]) -> Vec<IssueId> {
    let mut returns: BTreeMap<&IssueId, u32> = BTreeMap::new();
    for event in window
        .iter()
        .filter(|e| e.event_type == EventType::StatusChanged)
    {
        let (from, to) = (&event.data["from"], &event.data["to"]);
        if from == "in_progress" && to == "open" {
            *returns.entry(&event.issue_id).or_default() += 1;
        }
    }
    returns
        .into_iter()
        .filter(|(_, n)| *n >= FLAPPING_RETURNS)
        .map(|(id, _)| id.clone())
        .collect()
}
