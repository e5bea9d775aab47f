//! `agentry bench dispatch`: how long an issue waits, once its `ready_at` comes, for its
//! `SESSION_START`, with workers free.

use std::sync::Arc;
use std::time::Duration;

use agentry_core::import::parse_jsonl;
use agentry_core::{EventType, Status, Timestamp};
use agentry_engine::RunOptions;
use agentry_store::{IssueFilter, SqliteStore, Store};
use anyhow::{Result, ensure};
use tokio_util::sync::CancellationToken;

use super::engine::{engine, instant_agent};
use super::percentile;
use crate::commands::engine::runtime;
use crate::output::outln;

const WORKERS: usize = 4;
/// Issues become ready this far apart, so that a worker is always free.
const SPACING_MS: i64 = 15;

pub fn run(issues: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("dispatch.db"), Duration::from_secs(5))?;
    let first = Timestamp::now().plus_secs(1);
    let backlog: String = (0..issues)
        .map(|n| {
            let ready_at =
                Timestamp::from_unix_micros(first.unix_micros() + n as i64 * SPACING_MS * 1000);
            format!("{{\"title\":\"Issue {n}\",\"ready_at\":\"{ready_at}\"}}\n")
        })
        .collect();
    store.import(parse_jsonl(&backlog)?, Timestamp::now())?;
    let store: Arc<dyn Store> = Arc::new(store);
    let engine = engine(
        store.clone(),
        None,
        instant_agent(dir.path())?,
        WORKERS,
        dir.path(),
    )?;
    let stop = CancellationToken::new();
    runtime()?
        .block_on(async {
            let watcher = tokio::spawn(stop_when_all_reviewed(store.clone(), issues, stop.clone()));
            let summary = agentry_engine::run(engine, RunOptions::default(), stop).await;
            watcher.abort();
            summary
        })
        .map_err(anyhow::Error::msg)?;
    let latencies = latencies(store.as_ref())?;
    ensure!(
        latencies.len() == issues,
        "{} of {issues} issues started",
        latencies.len()
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    outln!(
        "dispatch latency: {issues} issues becoming ready {SPACING_MS} ms apart, {WORKERS} workers, instant agents"
    );
    outln!(
        "p50                    {:>10.3} ms  (target ≤ 5 ms)",
        ms(percentile(&latencies, 50.0))
    );
    outln!(
        "p99                    {:>10.3} ms  (target ≤ 25 ms)",
        ms(percentile(&latencies, 99.0))
    );
    outln!(
        "max                    {:>10.3} ms",
        ms(percentile(&latencies, 100.0))
    );
    Ok(())
}

/// Stops the run once every issue has reached the review gate.
async fn stop_when_all_reviewed(store: Arc<dyn Store>, issues: usize, stop: CancellationToken) {
    let filter = IssueFilter {
        status: Some(Status::NeedsReview),
        label: None,
    };
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if store
            .list_issues(&filter)
            .map(|done| done.len() >= issues)
            .unwrap_or(false)
        {
            stop.cancel();
            return;
        }
    }
}

/// For each issue, from its `ready_at` to its `SESSION_START`.
fn latencies(store: &dyn Store) -> Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    for issue in store.list_issues(&IssueFilter::default())? {
        let events = store.events(&issue.id)?;
        if let Some(start) = events
            .iter()
            .find(|e| e.event_type == EventType::SessionStart)
        {
            let micros = start.created_at.unix_micros() - issue.ready_at.unix_micros();
            latencies.push(Duration::from_micros(micros.max(0) as u64));
        }
    }
    Ok(latencies)
}
