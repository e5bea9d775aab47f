//! `POST /api/v1/plans` `{goal, apply?}` and `POST /api/v1/tasks/{task_id}/replan`
//! `{reason?, apply?}`: a planner run, and with `apply` the issues made of its plan. A run
//! that ends without a plan (every answer rejected, the model failed) is 422 with the reasons.

use agentry_core::IssueId;
use agentry_engine::Prompts;
use agentry_engine::planning::{ApplyError, PlanError, PlanReport, Planning, PlanningError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::task::task_id;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    goal: String,
    #[serde(default)]
    apply: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplanBody {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    apply: bool,
}

/// What to plan.
enum Request {
    Goal(String),
    Replan(IssueId, Option<String>),
}

pub async fn plan(
    _: Authorized,
    State(state): State<AppState>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<PlanReport>, ApiError> {
    let PlanBody { goal, apply } = body::json(request)?;
    if goal.trim().is_empty() {
        return Err(ApiError::bad_request("goal: must not be empty"));
    }
    run(&state, Request::Goal(goal), apply).await
}

pub async fn replan(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<PlanReport>, ApiError> {
    let id = task_id(&raw)?;
    let ReplanBody { reason, apply } = body::json(request)?;
    run(&state, Request::Replan(id, reason), apply).await
}

async fn run(
    state: &AppState,
    request: Request,
    apply: bool,
) -> Result<Json<PlanReport>, ApiError> {
    let prompts = Prompts::from_store(state.store.as_ref())
        .map_err(|err| ApiError::new(StatusCode::CONFLICT, err.to_string()))?;
    let planning = Planning {
        store: state.store.as_ref(),
        config: &state.config,
        root: &state.root,
        prompts: &prompts,
        cancel: CancellationToken::new(),
    };
    let planned = match request {
        Request::Goal(goal) => planning.plan(goal, apply).await,
        Request::Replan(id, reason) => planning.replan(&id, reason, apply).await,
    };
    let report = planned.map_err(refusal)?;
    state.changed();
    if report.run.plan.is_none() {
        let reason = format!(
            "planner run {} ended {}: {}",
            report.run.run_id,
            report.run.outcome,
            report.run.errors.join("; ")
        );
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason));
    }
    Ok(Json(report))
}

fn refusal(err: PlanningError) -> ApiError {
    match err {
        PlanningError::Store(err)
        | PlanningError::Refused(PlanError::Store(err))
        | PlanningError::Apply(ApplyError::Store(err)) => err.into(),
        PlanningError::Refused(params @ PlanError::Params { .. }) => {
            ApiError::new(StatusCode::CONFLICT, params.to_string())
        }
        other => ApiError::new(StatusCode::CONFLICT, other.to_string()),
    }
}
