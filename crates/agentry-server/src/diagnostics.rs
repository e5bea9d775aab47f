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
            let orchestrator = agentry_engine::status::orchestrator(store, &config, now)?;
            Ok(TaskQueue {
                queue: agentry_engine::status::queue(store, now)?,
                active_sessions: store.claims()?,
                workers: orchestrator.workers * u32::from(orchestrator.running),
            })
        })
        .await?;
    Ok(Json(queue))
}
