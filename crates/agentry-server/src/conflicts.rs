//! `POST /api/v1/conflict-resolve` `{apply}`: issue branches that clash, the later issue of
//! each pair to freeze, its owner and the merge path; with `apply` the frozen are blocked.

use agentry_core::Timestamp;
use agentry_engine::conflict_resolve::{ConflictError, ConflictReport, resolve};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    #[serde(default)]
    apply: bool,
}

pub async fn resolve_conflicts(
    _: Authorized,
    State(state): State<AppState>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<ConflictReport>, ApiError> {
    let ResolveBody { apply } = body::json(request)?;
    let (root, base) = (state.root.clone(), state.config.session.base_branch.clone());
    let report = state
        .with_store(move |store| {
            resolve(store, &root, &base, apply, Timestamp::now()).map_err(|err| match err {
                ConflictError::Store(err) => err.into(),
                // The repository, not the request, is what failed.
                ConflictError::Git(err) => ApiError::unavailable(err.to_string()),
            })
        })
        .await?;
    if apply {
        state.changed();
    }
    Ok(Json(report))
}
