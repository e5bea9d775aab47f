//! What a running dispatcher tells the store about itself, for the status: a heartbeat each
//! lease tick, and a provider's rate-limit pause.

use agentry_core::{IssueId, Timestamp};
use serde_json::json;

use crate::Engine;

/// State keys `orchestrator:<id>` hold each dispatcher's heartbeat.
pub const ORCHESTRATOR_PREFIX: &str = "orchestrator:";
/// The state key of the latest rate-limit pause.
pub const RATE_LIMIT_KEY: &str = "pause:rate_limit";

/// Writes this dispatcher's heartbeat; `running` is false as it stops.
pub fn beat(engine: &Engine, running: bool) {
    let identity = &engine.identity;
    let value = json!({
        "running": running,
        "workers": engine.settings.max_workers,
        "backend": if engine.settings.max_workers == 1 { "sequential" } else { "async" },
        "host": identity.host,
        "pid": identity.pid,
    });
    let key = format!("{ORCHESTRATOR_PREFIX}{}", identity.orchestrator_id);
    if let Err(err) = engine.store.put_state(&key, &value, Timestamp::now()) {
        tracing::warn!(
            operation = "heartbeat",
            "could not write the heartbeat: {err}"
        );
    }
}

/// Records that an agent's provider paused claims until `until`; the agent is the backend
/// of the issue's latest run.
pub fn note_rate_limit(engine: &Engine, issue: &IssueId, until: Timestamp) {
    let agent = match engine.store.agent_runs(Some(issue)) {
        Ok(runs) => runs.last().map(|run| run.backend.clone()),
        Err(_) => None,
    };
    let value = json!({ "until": until, "agent": agent.unwrap_or_default(), "issue_id": issue });
    if let Err(err) = engine
        .store
        .put_state(RATE_LIMIT_KEY, &value, Timestamp::now())
    {
        tracing::warn!(
            operation = "dispatch",
            "could not record the rate-limit pause: {err}"
        );
    }
}
