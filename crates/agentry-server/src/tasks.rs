//! `GET /api/v1/tasks` (filtered, paged) and `POST /api/v1/tasks`.

use agentry_core::{Issue, IssueId, NewIssue, Priority, Status, Timestamp};
use agentry_store::{IssueFilter, StoreError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// Past any real backlog; the OpenAPI document gives the same bound.
const MAX_OFFSET: usize = 1_000_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<Status>,
    label: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

#[derive(Serialize)]
pub struct TaskPage {
    tasks: Vec<Issue>,
    /// How many match the filter, before paging.
    total: usize,
}

pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<TaskPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit: at most {MAX_LIMIT}, got {limit}"
        )));
    }
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::bad_request(format!(
            "offset: at most {MAX_OFFSET}, got {offset}"
        )));
    }
    let filter = IssueFilter {
        status: query.status,
        label: query.label,
    };
    let all = state
        .with_store(move |store| Ok(store.list_issues(&filter)?))
        .await?;
    let total = all.len();
    let tasks = all.into_iter().skip(offset).take(limit).collect();
    Ok(Json(TaskPage { tasks, total }))
}

/// A new task as the API takes it; the lists default to empty.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTask {
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    priority: Priority,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    verify: Vec<String>,
    #[serde(default)]
    done_when: Vec<String>,
    #[serde(default)]
    not_your_job: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    depends_on: Vec<IssueId>,
}

pub async fn create(
    _: Authorized,
    State(state): State<AppState>,
    request: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Issue>), ApiError> {
    let task: NewTask = body::json(request)?;
    let new = NewIssue {
        body: task.body,
        priority: task.priority,
        ready_at: None,
        labels: task.labels,
        scope: task.scope,
        verify: task.verify,
        done_when: task.done_when,
        not_your_job: task.not_your_job,
        depends_on: task.depends_on,
        ..NewIssue::new(task.title)
    };
    let issue = state
        .with_store(move |store| {
            store
                .create_issue(new, Timestamp::now())
                .map_err(|e| match e {
                    // The task asked for is fine; a dependency it names is not there.
                    StoreError::NotFound(id) => {
                        ApiError::not_found(format!("depends_on: no task {id}"))
                    }
                    other => other.into(),
                })
        })
        .await?;
    state.changed();
    Ok((StatusCode::CREATED, Json(issue)))
}
