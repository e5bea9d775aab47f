//! `GET /api/v1/status`: the status snapshot with its recommended actions.

use agentry_core::Timestamp;
use agentry_core::health::StatusSnapshot;
use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::error::ApiError;

pub async fn status(State(state): State<AppState>) -> Result<Json<StatusSnapshot>, ApiError> {
    let config = state.config.clone();
    let snapshot = state
        .with_store(move |store| {
            Ok(agentry_engine::status::snapshot(
                store,
                &config,
                Timestamp::now(),
            )?)
        })
        .await?;
    Ok(Json(snapshot))
}
