//! `GET /api/v1/health`: the service answers, its store can be read and is still the file it
//! opened, and whether a dispatcher's heartbeat is fresh.

use agentry_core::Timestamp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// 503 with `"store"` saying what is wrong when the store's file was deleted or replaced.
pub async fn health(State(state): State<AppState>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let config = state.config.clone();
    let (file, orchestrator) = state
        .with_store(move |store| {
            let orchestrator =
                agentry_engine::status::orchestrator(store, &config, Timestamp::now())
                    .map_err(|e| ApiError::unavailable(e.to_string()))?;
            Ok((store.check_file(), orchestrator))
        })
        .await?;
    let dispatcher = match (orchestrator.running, orchestrator.heartbeat_at) {
        (true, _) => "running",
        (false, Some(_)) => "stopped",
        (false, None) => "never started",
    };
    let (code, status, store) = match file {
        Ok(()) => (StatusCode::OK, "ok", "ok".to_string()),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            err.to_string(),
        ),
    };
    let body = json!({
        "status": status,
        "store": store,
        "dispatcher": dispatcher,
        "dispatcher_heartbeat_at": orchestrator.heartbeat_at,
    });
    Ok((code, Json(body)))
}
