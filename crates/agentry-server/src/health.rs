//! `GET /api/v1/health`: the service answers and its store can be read.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .with_store(|store| {
            store
                .claims()
                .map_err(|e| ApiError::unavailable(e.to_string()))
        })
        .await?;
    Ok(Json(json!({ "status": "ok", "store": "ok" })))
}
