//! The playbook's reports over HTTP: `GET /api/v1/handoff` and `POST /api/v1/sync-status`
//! (a digest marks what it covered, so it is a change and needs the token).

use agentry_core::Timestamp;
use agentry_engine::digest::Digest;
use agentry_lean::HandoffSummary;
use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

pub async fn handoff(State(state): State<AppState>) -> Result<Json<HandoffSummary>, ApiError> {
    let config = state.config.clone();
    let summary = state
        .with_store(move |store| {
            Ok(agentry_engine::handoff::handoff(
                store,
                &config,
                Timestamp::now(),
            )?)
        })
        .await?;
    Ok(Json(summary))
}

/// The digest since the last one, or `null` when nothing changed.
pub async fn sync_status(
    _: Authorized,
    State(state): State<AppState>,
) -> Result<Json<Option<Digest>>, ApiError> {
    let digest = state
        .with_store(|store| {
            Ok(agentry_engine::digest::sync_status(
                store,
                Timestamp::now(),
            )?)
        })
        .await?;
    Ok(Json(digest))
}
