//! Scope locks: `POST /api/v1/tasks/{task_id}/scope-lock` `{globs}` adds paths to a task's
//! lock, `DELETE` the same path releases it, `GET /api/v1/scope-locks` lists the locks.

use agentry_core::Timestamp;
use agentry_core::scope_lock::ScopeLock;
use agentry_engine::scope_lock::{ScopeLockError, held, lock, release};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::task::task_id;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockBody {
    globs: Vec<String>,
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ScopeLock>>, ApiError> {
    let locks = state
        .with_store(|store| Ok(held(store, Timestamp::now())?))
        .await?;
    Ok(Json(locks))
}

pub async fn add(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<ScopeLock>, ApiError> {
    let id = task_id(&raw)?;
    let LockBody { globs } = body::json(request)?;
    let locked = state
        .with_store(move |store| lock(store, &id, &globs, Timestamp::now()).map_err(refusal))
        .await?;
    state.changed();
    Ok(Json(locked))
}

pub async fn remove(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<ScopeLock>, ApiError> {
    let id = task_id(&raw)?;
    let released = state
        .with_store(move |store| release(store, &id, Timestamp::now()).map_err(refusal))
        .await?;
    state.changed();
    Ok(Json(released))
}

fn refusal(err: ScopeLockError) -> ApiError {
    match err {
        ScopeLockError::Store(err) => err.into(),
        ScopeLockError::Invalid(reason) => ApiError::bad_request(reason),
        no_lock @ ScopeLockError::NoLock(_) => ApiError::not_found(no_lock.to_string()),
        closed @ ScopeLockError::Closed(_) => {
            ApiError::new(StatusCode::CONFLICT, closed.to_string())
        }
    }
}
