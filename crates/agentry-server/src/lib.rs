//! agentry's HTTP service: the JSON API over issues ("tasks"), queue diagnostics and
//! Prometheus metrics, all read from and written through the [`Store`].
//!
//! It may use the core, store and engine crates (the engine gathers the status and probes the
//! agents); it must not depend on the CLI. The binary runs the dispatcher beside it and passes
//! in how to wake it.

mod accept;
mod alerts;
mod answer;
mod auth;
mod body;
mod boundary;
mod conflicts;
mod connections;
mod dashboard;
mod diagnostics;
mod error;
mod event_feed;
mod flags;
mod health;
mod metrics;
mod open_files;
mod openapi;
mod planner;
mod plans;
mod playbook;
mod review_hard;
mod reviews;
mod scope_locks;
mod sse;
mod status;
mod task;
mod tasks;
mod templates;
mod token;
mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentry_core::config::Config;

use agentry_store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use crate::accept::listen;
use crate::boundary::Boundary;
use crate::error::ApiError;
pub use crate::event_feed::EventFeed;
pub use crate::token::RuntimeToken;

/// The largest request body accepted; larger ones get 413.
const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The bearer token for mutating and diagnostic endpoints.
    pub token: String,
    /// Called after a change to an issue, so that a dispatcher looks at the queue at once.
    pub on_change: Arc<dyn Fn() + Send + Sync>,
    /// The effective config: flags fall back to it, the status reads the budgets from it.
    pub config: Arc<Config>,
    /// The repository, where agents' relative scripts live.
    pub root: PathBuf,
    pub probes: Arc<tools::ProbeCache>,
    /// New events for the event streams.
    pub events: EventFeed,
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
        blocking(&self.store, call).await
    }

    /// Runs a short read on the calling worker. The store's reads wait for no writer (the
    /// SQLite store reads on a free connection, in WAL mode), so a read lasts as long as its
    /// queries; handing it to the blocking pool would cost two thread wake-ups, more than a
    /// task's detail costs to read. Reads of unbounded size stay on `with_store`.
    fn read_store<T>(
        &self,
        call: impl FnOnce(&dyn Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        call(self.store.as_ref())
    }

    /// After a change through the API: the dispatcher and the event feed look at once.
    fn changed(&self) {
        (self.on_change)();
        self.events.wake();
    }
}

/// Runs a store call on the blocking pool (see [`AppState::with_store`]).
async fn blocking<T, F>(store: &Arc<dyn Store>, call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        .map_err(|e| ApiError::unavailable(format!("the store call failed: {e}")))?
}

/// Every route, with JSON answers for unknown paths and methods.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .route("/api/v1/health", get(health::health))
        .route("/api/v1/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/v1/tasks/{task_id}",
            get(task::show).patch(task::patch),
        )
        .route("/api/v1/events", get(sse::all))
        .route("/api/v1/tasks/{task_id}/events", get(sse::task))
        .route("/api/v1/tasks/{task_id}/answer", post(answer::answer))
        .route("/api/v1/tasks/{task_id}/replan", post(plans::replan))
        .route("/api/v1/plans", post(plans::plan))
        .route(
            "/api/v1/tasks/{task_id}/review-hard",
            post(review_hard::review_hard),
        )
        .route(
            "/api/v1/diagnostics/task_queue",
            get(diagnostics::task_queue),
        )
        .route("/api/v1/status", get(status::status))
        .route("/api/v1/flags", get(flags::list))
        .route("/api/v1/flags/{name}", put(flags::set))
        .route("/api/v1/reviews", get(reviews::list))
        .route("/api/v1/reviews/assign", post(reviews::assign))
        .route("/api/v1/tools/diagnostics", get(tools::diagnostics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/diagnostics/planner", get(planner::health))
        .route("/api/v1/handoff", get(playbook::handoff))
        .route("/api/v1/sync-status", post(playbook::sync_status))
        .route(
            "/api/v1/tasks/{task_id}/scope-lock",
            post(scope_locks::add).delete(scope_locks::remove),
        )
        .route("/api/v1/scope-locks", get(scope_locks::list))
        .route(
            "/api/v1/conflict-resolve",
            post(conflicts::resolve_conflicts),
        )
        .route("/api/v1/alerts", get(alerts::history))
        .route("/api/v1/templates", get(templates::list))
        .route("/api/v1/templates/{name}", get(templates::versions))
        .route(
            "/api/v1/templates/{name}/activate",
            post(templates::activate),
        )
        .route(
            "/api/v1/templates/{name}/deactivate",
            post(templates::deactivate),
        )
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async { ApiError::not_found("no such path") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

pub use tools::ProbeCache;

/// Serves until `stop` fires, then lets requests in flight finish and ends event streams.
/// Only requests that name this server and come from no other web page reach the routes
/// (see [`boundary`]), over at most `server.max_connections` connections.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop: CancellationToken,
) -> std::io::Result<()> {
    open_files::raise_limit();
    // Read before the first request, so that no stream subscribes to the feed before it starts.
    let from = blocking(&state.store, |store| Ok(store.last_event_id()?))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let feed = state
        .events
        .clone()
        .follow(state.store.clone(), from, stop.clone());
    let config = &state.config.server;
    let limits = accept::Limits {
        max_connections: config.max_connections as usize,
        header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
    };
    let boundary = Boundary::new(config, listener.local_addr()?.ip());
    let app = boundary::guarded(router(state.clone()), boundary);
    tokio::join!(feed, accept::serve(listener, app, limits, stop));
    Ok(())
}
