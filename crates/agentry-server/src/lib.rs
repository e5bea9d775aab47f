//! agentry's HTTP service: the JSON API over issues ("tasks"), queue diagnostics and
//! Prometheus metrics, all read from and written through the [`Store`].
//!
//! It may use the core and store crates; it must not depend on the engine or the CLI (the
//! binary runs the dispatcher beside it and passes in how to wake it).

mod alerts;
mod auth;
mod body;
mod diagnostics;
mod error;
mod health;
mod metrics;
mod task;
mod tasks;

use std::sync::Arc;

use agentry_store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;

/// The largest request body accepted; larger ones get 413.
const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The bearer token for mutating and diagnostic endpoints; `None` leaves them open.
    pub token: Option<String>,
    /// Called after a change to an issue, so that a dispatcher looks at the queue at once.
    pub on_change: Arc<dyn Fn() + Send + Sync>,
}

impl AppState {
    /// Runs a store call on the blocking pool: SQLite calls are short but may wait up to the
    /// busy timeout for another writer, which must not stall the runtime's workers (they also
    /// drive the dispatcher).
    async fn with_store<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|e| ApiError::unavailable(format!("the store call failed: {e}")))?
    }
}

/// Every route, with JSON answers for unknown paths and methods.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health::health))
        .route("/api/v1/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/v1/tasks/{task_id}",
            get(task::show).patch(task::patch),
        )
        .route(
            "/api/v1/diagnostics/task_queue",
            get(diagnostics::task_queue),
        )
        .route("/api/v1/alerts", get(alerts::history))
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async { ApiError::not_found("no such path") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves until `stop` fires, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}
