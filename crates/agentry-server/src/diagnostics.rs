//! `GET /api/v1/diagnostics/task_queue`: how deep the queue is and what works on it.

use agentry_core::Timestamp;
use agentry_core::health::QueueStatus;
use agentry_store::Store;
use agentry_store::session::Claim;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

#[derive(Serialize)]
pub struct TaskQueue {
    #[serde(flatten)]
    queue: QueueStatus,
    /// The claims held now, each with its lease: one per running session.
    active_sessions: Vec<Claim>,
    /// Sessions the running orchestrator may hold at once (0 when none runs).
    workers: u32,
}

pub async fn task_queue(
    _: Authorized,
    State(state): State<AppState>,
) -> Result<Json<TaskQueue>, ApiError> {
    let config = state.config.clone();
    let queue = state
        .with_store(move |store: &dyn Store| {
            let now = Timestamp::now();
            let status = agentry_engine::status::snapshot(store, &config, now)?;
            Ok(TaskQueue {
                queue: status.queue,
                active_sessions: store.claims()?,
                workers: status.orchestrator.workers * u32::from(status.orchestrator.running),
            })
        })
        .await?;
    Ok(Json(queue))
}
