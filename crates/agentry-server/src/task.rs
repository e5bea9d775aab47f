//! `GET /api/v1/tasks/{task_id}` (the issue with its links, last error, metrics and latest
//! events) and `PATCH /api/v1/tasks/{task_id}` (status and priority).

use agentry_core::question::{OpenQuestion, blocked_on};
use agentry_core::{
    Event, EventType, Issue, IssueId, IssuePatch, Link, Priority, Status, Timestamp,
};
use agentry_engine::review_hard::{ReviewHardMark, mark_key, waiting_mark};
use agentry_store::operator::ReviewAssignment;
use agentry_store::session::AgentRun;
use agentry_store::{IssueDetail, Store};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

/// The most events a task's detail carries: the latest ones.
const MAX_EVENTS: usize = 250;

#[derive(Serialize)]
pub struct TaskDetail {
    #[serde(flatten)]
    issue: Issue,
    links: Vec<Link>,
    last_error: Option<Value>,
    metrics: TaskMetrics,
    events: Vec<Event>,
    runs: Vec<AgentRun>,
    /// The person assigned to review it, if one is.
    review: Option<ReviewAssignment>,
    /// The question it is blocked on, until someone answers it.
    question: Option<OpenQuestion>,
    /// The `review-hard` mark its next review follows, until a strict review uses it up.
    review_hard: Option<ReviewHardMark>,
}

#[derive(Serialize, Default)]
struct TaskMetrics {
    sessions: usize,
    spec_attempts: usize,
    quality_attempts: usize,
    tokens: u64,
    cost_usd: f64,
    duration_s: f64,
}

/// A task id from the path; a malformed one cannot name a task, so it is not found.
pub(crate) fn task_id(raw: &str) -> Result<IssueId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("no task {raw}")))
}

pub async fn show(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<TaskDetail>, ApiError> {
    let id = task_id(&raw)?;
    let detail = state.read_store(|store| detail(store, &id))?;
    Ok(Json(detail))
}

fn detail(store: &dyn Store, id: &IssueId) -> Result<TaskDetail, ApiError> {
    let IssueDetail {
        issue,
        links,
        mut events,
        runs,
        review,
        state,
    } = store.issue_detail(id, &[mark_key(id)])?;
    let metrics = metrics(&events, &runs);
    let last_error = last_error(&events);
    let question = blocked_on(&issue, &events);
    events.drain(..events.len().saturating_sub(MAX_EVENTS));
    Ok(TaskDetail {
        links,
        issue,
        last_error,
        metrics,
        events,
        runs,
        review,
        question,
        review_hard: state.into_iter().find_map(waiting_mark),
    })
}

/// The failed items of the last session that failed, if one did.
fn last_error(events: &[Event]) -> Option<Value> {
    events
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.event_type,
                EventType::SessionError | EventType::VerifyFailed
            )
        })
        .map(|e| e.data.get("failed_items").cloned().unwrap_or(Value::Null))
}

/// Sessions and review attempts from the events; tokens, cost and time from the agent runs.
fn metrics(events: &[Event], runs: &[AgentRun]) -> TaskMetrics {
    let count = |types: &[EventType]| {
        events
            .iter()
            .filter(|e| types.contains(&e.event_type))
            .count()
    };
    let seconds = |run: &AgentRun| {
        run.ended_at
            .map(|end| (end.unix_micros() - run.started_at.unix_micros()) as f64 / 1e6)
            .unwrap_or(0.0)
    };
    TaskMetrics {
        sessions: count(&[EventType::SessionStart]),
        spec_attempts: count(&[EventType::SpecReviewPass, EventType::SpecReviewFail]),
        quality_attempts: count(&[EventType::QualityReviewPass, EventType::QualityReviewFail]),
        tokens: runs
            .iter()
            .map(|r| r.tokens_in.unwrap_or(0) + r.tokens_out.unwrap_or(0))
            .sum(),
        cost_usd: runs.iter().filter_map(|r| r.cost_usd).sum(),
        duration_s: runs.iter().map(seconds).sum(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskChange {
    status: Option<Status>,
    priority: Option<Priority>,
    #[serde(default)]
    reason: String,
}

pub async fn patch(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<Issue>, ApiError> {
    let id = task_id(&raw)?;
    let change: TaskChange = body::json(request)?;
    if change.status.is_none() && change.priority.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give status or priority",
        ));
    }
    let issue = state
        .with_store(move |store| apply(store, &id, change))
        .await?;
    state.changed();
    Ok(Json(issue))
}

/// The priority first, then the status through the store's transition rules; an illegal
/// transition is refused before anything is written, so a refused change changes nothing.
fn apply(store: &dyn Store, id: &IssueId, change: TaskChange) -> Result<Issue, ApiError> {
    let now = Timestamp::now();
    let mut issue = store.issue(id)?;
    if let Some(status) = change.status {
        issue
            .status
            .check_transition(status)
            .map_err(agentry_store::StoreError::from)?;
    }
    if let Some(priority) = change.priority {
        let patch = IssuePatch {
            priority: Some(priority),
            ..IssuePatch::default()
        };
        issue = store.update_issue(id, patch, now)?;
    }
    if let Some(status) = change.status {
        issue = store.set_status(id, status, &change.reason, now)?;
    }
    Ok(issue)
}
