//! `POST /api/v1/tasks/{task_id}/review-hard`: makes the task's next review strict (see
//! `agentry review-hard`).

use agentry_core::Timestamp;
use agentry_engine::review_hard::{ReviewHardError, ReviewHardRequested, request_review_hard};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;
use crate::task::task_id;

pub async fn review_hard(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<ReviewHardRequested>, ApiError> {
    let id = task_id(&raw)?;
    let requested = state
        .with_store(move |store| request_review_hard(store, &id, Timestamp::now()).map_err(refusal))
        .await?;
    state.changed();
    Ok(Json(requested))
}

fn refusal(err: ReviewHardError) -> ApiError {
    match err {
        ReviewHardError::Store(err) => err.into(),
        closed @ ReviewHardError::Closed(_) => {
            ApiError::new(StatusCode::CONFLICT, closed.to_string())
        }
    }
}
