//! `GET /api/v1/diagnostics/task_queue`: how deep the queue is and what works on it.

use std::collections::BTreeMap;

use agentry_core::{Status, Timestamp};
use agentry_store::session::Claim;
use agentry_store::{IssueFilter, Store};
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

#[derive(Serialize)]
pub struct TaskQueue {
    depth: BTreeMap<&'static str, usize>,
    ready: usize,
    /// How long the issue that has waited longest in the ready queue has waited, in seconds.
    oldest_ready_age_s: Option<f64>,
    /// The claims held now: one per running session.
    active_sessions: Vec<Claim>,
    /// When the next issue that is not ready yet becomes ready.
    next_ready_at: Option<Timestamp>,
}

pub async fn task_queue(
    _: Authorized,
    State(state): State<AppState>,
) -> Result<Json<TaskQueue>, ApiError> {
    let queue = state
        .with_store(|store| queue(store, Timestamp::now()))
        .await?;
    Ok(Json(queue))
}

fn queue(store: &dyn Store, now: Timestamp) -> Result<TaskQueue, ApiError> {
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
    Ok(TaskQueue {
        depth,
        ready: ready.len(),
        oldest_ready_age_s: oldest
            .map(|at| (now.unix_micros() - at.unix_micros()).max(0) as f64 / 1e6),
        active_sessions: store.claims()?,
        next_ready_at: store.next_ready_at(now)?,
    })
}
