//! `GET /api/v1/reviews` and `POST /api/v1/reviews/assign` `{task_id, reviewer}`: a person
//! assigned to review an issue that waits on one.

use agentry_core::{IssueId, Status, Timestamp};
use agentry_store::Store;
use agentry_store::operator::ReviewAssignment;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use serde::{Deserialize, Serialize};

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    task_id: IssueId,
    reviewer: String,
}

/// An assignment with what a reader wants to see of its issue.
#[derive(Serialize)]
pub struct Review {
    task_id: IssueId,
    title: String,
    status: Status,
    reviewer: String,
    assigned_at: Timestamp,
}

fn review(store: &dyn Store, assignment: ReviewAssignment) -> Result<Review, ApiError> {
    let issue = store.issue(&assignment.issue_id)?;
    Ok(Review {
        task_id: assignment.issue_id,
        title: issue.title,
        status: issue.status,
        reviewer: assignment.reviewer,
        assigned_at: assignment.assigned_at,
    })
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Review>>, ApiError> {
    let reviews = state
        .with_store(|store| {
            store
                .review_assignments()?
                .into_iter()
                .map(|assignment| review(store, assignment))
                .collect()
        })
        .await?;
    Ok(Json(reviews))
}

pub async fn assign(
    _: Authorized,
    State(state): State<AppState>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<Review>, ApiError> {
    let Assign { task_id, reviewer } = body::json(request)?;
    let review = state
        .with_store(move |store| {
            let assignment = store.assign_review(&task_id, &reviewer, Timestamp::now())?;
            review(store, assignment)
        })
        .await?;
    state.changed();
    Ok(Json(review))
}
