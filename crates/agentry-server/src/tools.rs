//! `GET /api/v1/tools/diagnostics`: each configured agent — found, version, last error,
//! run time p50/p95 and any rate-limit pause. Probing runs `--version`, so probes are kept
//! for a minute.

use std::time::{Duration, Instant};

use agentry_core::Timestamp;
use agentry_engine::probe::{AgentProbe, probe_agent};
use agentry_store::session::AgentRun;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;
use crate::auth::Authorized;
use crate::error::ApiError;

/// How long a probe's answer is reused.
const PROBE_TTL: Duration = Duration::from_secs(60);

#[derive(Serialize)]
pub struct ToolDiagnostics {
    #[serde(flatten)]
    probe: AgentProbe,
    runs: usize,
    last_error: Option<String>,
    run_time_p50_s: Option<f64>,
    run_time_p95_s: Option<f64>,
    /// Until when the agent's provider paused new sessions, if it did.
    rate_limited_until: Option<Timestamp>,
}

/// Probes from the last minute, shared by the requests of that minute.
#[derive(Default)]
pub struct ProbeCache(tokio::sync::Mutex<Option<(Instant, Vec<AgentProbe>)>>);

pub async fn diagnostics(
    _: Authorized,
    State(state): State<AppState>,
) -> Result<Json<Vec<ToolDiagnostics>>, ApiError> {
    let probes = probes(&state).await;
    let (runs, pauses) = state
        .with_store(|store| {
            let pauses = agentry_engine::status::paused_agents(store, Timestamp::now())?;
            Ok((store.agent_runs(None)?, pauses))
        })
        .await?;
    let tools = probes
        .into_iter()
        .map(|probe| {
            let mine: Vec<&AgentRun> = runs.iter().filter(|r| r.backend == probe.agent).collect();
            let pause = pauses.iter().find(|p| p.agent == probe.agent);
            let durations = durations(&mine);
            ToolDiagnostics {
                runs: mine.len(),
                last_error: mine.iter().rev().find_map(|r| r.error.clone()),
                run_time_p50_s: percentile(&durations, 0.50),
                run_time_p95_s: percentile(&durations, 0.95),
                rate_limited_until: pause.map(|p| p.until),
                probe,
            }
        })
        .collect();
    Ok(Json(tools))
}

async fn probes(state: &AppState) -> Vec<AgentProbe> {
    let mut cache = state.probes.0.lock().await;
    if let Some((at, probes)) = cache.as_ref()
        && at.elapsed() < PROBE_TTL
    {
        return probes.clone();
    }
    let mut probes = Vec::new();
    for (name, agent) in &state.config.agents {
        probes.push(probe_agent(name, agent, &state.root).await);
    }
    *cache = Some((Instant::now(), probes.clone()));
    probes
}

/// Finished runs' durations in seconds, sorted.
fn durations(runs: &[&AgentRun]) -> Vec<f64> {
    let mut seconds: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            let end = r.ended_at?;
            Some((end.unix_micros() - r.started_at.unix_micros()).max(0) as f64 / 1e6)
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&values, 0.5), Some(5.0));
        assert_eq!(percentile(&values, 0.95), Some(10.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
