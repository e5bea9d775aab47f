//! `agentry serve`: the HTTP API, and (unless `--no-dispatch`) the dispatcher beside it on the
//! same runtime, both stopped by SIGINT/SIGTERM.
//!
//! Changes and diagnostics need a token: `server.service_token`, or, when it is empty, a
//! random one made at each start, kept in `.agentry/runtime/token` and printed in the
//! dashboard's URL.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use agentry_engine::RunOptions;
use agentry_server::{AppState, EventFeed, RuntimeToken};
use agentry_store::Store;
use anyhow::{Context, Result};

use super::engine::{RUNTIME_DIR, build, runtime, stop_on_signals};
use crate::error::usage;
use crate::project::Project;

pub fn run(project: &Project, bind: SocketAddr, no_dispatch: bool, force: bool) -> Result<()> {
    let configured = project.config.server.service_token.clone();
    if configured.is_empty() && !bind.ip().is_loopback() {
        return Err(usage(format!(
            "refusing to serve on {bind} without a service token: set [server] service_token (or SERVER__SERVICE_TOKEN), or bind to a loopback address"
        )));
    }
    let engine = if no_dispatch {
        None
    } else {
        Some(build(project, None)?)
    };
    let store: Arc<dyn Store> = match &engine {
        Some(engine) => engine.store.clone(),
        None => {
            let store = project.open_store()?;
            super::engine::seed_templates(project, &store)?;
            Arc::new(store)
        }
    };
    let runtime_dir = project.root.join(RUNTIME_DIR);
    let config = Arc::new(project.config.clone());
    runtime()?.block_on(async {
        if let Some(engine) = &engine {
            super::guard::check(project, engine, force).await?;
        }
        let stop = stop_on_signals()?;
        let alerts = agentry_engine::monitor_alerts(store.clone(), config.clone(), stop.clone());
        let listener =
            agentry_server::listen(bind).with_context(|| format!("could not listen on {bind}"))?;
        let addr = listener.local_addr()?;
        // Kept until the server ends, when its file is removed.
        let made = made_token(&configured, &runtime_dir)?;
        announce(addr, made.as_ref())?;
        let token = made
            .as_ref()
            .map_or(configured, |made| made.value().to_string());
        let state = AppState {
            store,
            token,
            on_change: Arc::new(move || agentry_engine::wake::wake_dispatchers(&runtime_dir)),
            config,
            root: project.root.clone(),
            probes: Arc::default(),
            events: EventFeed::default(),
        };
        let dispatcher = async {
            let Some(engine) = engine else {
                return Ok(());
            };
            let store = engine.store.clone();
            let result = agentry_engine::run(engine, RunOptions::default(), stop.clone()).await;
            let result = result.map(|_| ()).map_err(anyhow::Error::msg);
            match &result {
                // A store deleted or replaced under the service: the API stays up, its health
                // saying so, until the operator stops it; the run's error is the exit's.
                Err(err) if store.check_file().is_err() => {
                    tracing::error!(operation = "dispatch", "the dispatcher stopped: {err:#}");
                }
                // Any other failure takes the service down with it rather than leave an API
                // over a queue nobody works on.
                _ => stop.cancel(),
            }
            result
        };
        let server = agentry_server::serve(listener, state, stop.clone());
        let (dispatched, served, alerted) = tokio::join!(dispatcher, server, alerts);
        served.context("the HTTP server failed")?;
        alerted?;
        dispatched
    })
}

/// A token made for this run, unless one is configured.
fn made_token(configured: &str, runtime_dir: &Path) -> Result<Option<RuntimeToken>> {
    if !configured.is_empty() {
        return Ok(None);
    }
    let made = RuntimeToken::create(runtime_dir).with_context(|| {
        format!(
            "could not write the service token to {}: make the folder writable, or set [server] service_token",
            runtime_dir.display()
        )
    })?;
    Ok(Some(made))
}

/// Prints where the server listens, then the dashboard's URL: with the token when it was made
/// here (the page takes it from the URL), without a configured one, which the user has.
fn announce(addr: SocketAddr, made: Option<&RuntimeToken>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // Callers (and tests) read this first line to learn the port when they asked for port 0.
    writeln!(out, "listening on http://{addr}")?;
    match made {
        Some(token) => writeln!(out, "dashboard http://{addr}/#token={}", token.value())?,
        None => writeln!(out, "dashboard http://{addr}/")?,
    }
    out.flush()?;
    Ok(())
}
