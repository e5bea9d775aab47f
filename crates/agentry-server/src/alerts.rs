//! `GET /api/v1/alerts`: the ops alert history, newest first.

use agentry_store::alert::AlertRecord;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<usize>,
}

#[derive(Serialize)]
pub struct History {
    alerts: Vec<AlertRecord>,
}

pub async fn history(
    _: Authorized,
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<History>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit: at most {MAX_LIMIT}, got {limit}"
        )));
    }
    let alerts = state
        .with_store(move |store| Ok(store.alerts(limit)?))
        .await?;
    Ok(Json(History { alerts }))
}
