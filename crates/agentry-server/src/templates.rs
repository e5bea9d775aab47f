//! `GET /api/v1/templates`, `GET /api/v1/templates/{name}` (its versions with their bodies),
//! `POST /api/v1/templates/{name}/activate` `{"version": N}` and
//! `POST /api/v1/templates/{name}/deactivate`.

use agentry_engine::templates::{TemplateSummary, summaries};
use agentry_store::Store;
use agentry_store::template::TemplateVersion;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Activate {
    version: u32,
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<TemplateSummary>>, ApiError> {
    let versions = state.read_store(|store| Ok(store.templates()?))?;
    Ok(Json(summaries(&versions)))
}

pub async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<TemplateVersion>>, ApiError> {
    let versions = state.read_store(|store| Ok(store.template_versions(&name)?))?;
    Ok(Json(versions))
}

pub async fn activate(
    _: Authorized,
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<TemplateSummary>, ApiError> {
    let Activate { version } = body::json(request)?;
    let summary = state
        .with_store(move |store| {
            store.activate_template(&name, version)?;
            summary(store, &name)
        })
        .await?;
    state.changed();
    Ok(Json(summary))
}

pub async fn deactivate(
    _: Authorized,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<TemplateSummary>, ApiError> {
    let summary = state
        .with_store(move |store| {
            store.deactivate_template(&name)?;
            summary(store, &name)
        })
        .await?;
    state.changed();
    Ok(Json(summary))
}

fn summary(store: &dyn Store, name: &str) -> Result<TemplateSummary, ApiError> {
    let versions = store.template_versions(name)?;
    let mut one = summaries(&versions);
    Ok(one.remove(0))
}
