//! `GET /api/diagnostics/planner`: the planner health report.

use agentry_core::Timestamp;
use agentry_core::health::planner::PlannerReport;
use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

pub async fn health(
    _: Authorized,
    State(state): State<AppState>,
) -> Result<Json<PlannerReport>, ApiError> {
    let report = state
        .with_store(|store| {
            Ok(agentry_engine::status::planner_report(
                store,
                Timestamp::now(),
            )?)
        })
        .await?;
    Ok(Json(report))
}
