//! `agentry serve`: the HTTP API, and (unless `--no-dispatch`) the dispatcher beside it on the
//! same runtime, both stopped by SIGINT/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use agentry_engine::RunOptions;
use agentry_server::{AppState, EventFeed};
use agentry_store::Store;
use anyhow::{Context, Result};

use super::engine::{RUNTIME_DIR, build, runtime, stop_on_signals};
use crate::error::usage;
use crate::project::Project;

pub fn run(project: &Project, bind: SocketAddr, no_dispatch: bool, force: bool) -> Result<()> {
    let token = project.config.server.service_token.clone();
    if token.is_empty() && !bind.ip().is_loopback() {
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
    let (alert_store, alert_config) = (store.clone(), config.clone());
    let state = AppState {
        store,
        token: (!token.is_empty()).then_some(token),
        on_change: Arc::new(move || agentry_engine::wake::wake_dispatchers(&runtime_dir)),
        config,
        root: project.root.clone(),
        probes: Arc::default(),
        events: EventFeed::default(),
    };
    runtime()?.block_on(async {
        if let Some(engine) = &engine {
            super::guard::check(project, engine, force).await?;
        }
        let stop = stop_on_signals()?;
        let alerts = agentry_engine::monitor_alerts(alert_store, alert_config, stop.clone());
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("could not listen on {bind}"))?;
        let addr = listener.local_addr()?;
        // Callers (and tests) read this line to learn the port when they asked for port 0.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
        drop(out);
        let dispatcher = async {
            let Some(engine) = engine else {
                return Ok(());
            };
            let result = agentry_engine::run(engine, RunOptions::default(), stop.clone()).await;
            // A dispatcher that fails takes the service down with it rather than leave an API
            // over a queue nobody works on.
            stop.cancel();
            result.map(|_| ()).map_err(anyhow::Error::msg)
        };
        let server = agentry_server::serve(listener, state, stop.clone());
        let (dispatched, served, alerted) = tokio::join!(dispatcher, server, alerts);
        served.context("the HTTP server failed")?;
        alerted?;
        dispatched
    })
}
