//! `GET /api/v1/flags` and `PUT /api/v1/flags/{name}` `{"enabled": bool}`.

use agentry_core::Timestamp;
use agentry_core::flags::{Flag, FlagValue};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagChange {
    enabled: bool,
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<FlagValue>>, ApiError> {
    let config = state.config.clone();
    let flags = state
        .with_store(move |store| Ok(agentry_engine::status::flags(store, &config)?))
        .await?;
    Ok(Json(flags))
}

pub async fn set(
    _: Authorized,
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<FlagValue>, ApiError> {
    let flag: Flag = name
        .parse()
        .map_err(|e: agentry_core::flags::UnknownFlag| ApiError::not_found(e.to_string()))?;
    let change: FlagChange = body::json(request)?;
    let config = state.config.clone();
    let value = state
        .with_store(move |store| {
            let now = Timestamp::now();
            let stored = json!({ "enabled": change.enabled });
            store.put_state(&flag.state_key(), &stored, now)?;
            Ok(flag.resolve(&config, Some((change.enabled, now))))
        })
        .await?;
    Ok(Json(value))
}
