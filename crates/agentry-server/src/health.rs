//! `GET /api/v1/health`: the service answers, its store can be read, and whether a
//! dispatcher's heartbeat is fresh.

use agentry_core::Timestamp;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let config = state.config.clone();
    let orchestrator = state
        .with_store(move |store| {
            agentry_engine::status::orchestrator(store, &config, Timestamp::now())
                .map_err(|e| ApiError::unavailable(e.to_string()))
        })
        .await?;
    let dispatcher = match (orchestrator.running, orchestrator.heartbeat_at) {
        (true, _) => "running",
        (false, Some(_)) => "stopped",
        (false, None) => "never started",
    };
    Ok(Json(json!({
        "status": "ok",
        "store": "ok",
        "dispatcher": dispatcher,
        "dispatcher_heartbeat_at": orchestrator.heartbeat_at,
    })))
}
