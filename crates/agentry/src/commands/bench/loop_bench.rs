//! `agentry bench loop`: issues through the whole session loop with agents that answer at
//! once and no worktrees, on a durable SQLite file.

use std::sync::Arc;
use std::time::Duration;

use agentry_core::Timestamp;
use agentry_core::import::parse_jsonl;
use agentry_store::{SqliteStore, Store};
use anyhow::Result;

use super::engine::{engine, instant_agent, run_all_passing};
use super::peak_rss_mib;
use crate::output::outln;

const WORKERS: usize = 4;

pub fn run(issues: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("loop.db"), Duration::from_secs(5))?;
    let backlog: String = (0..issues)
        .map(|n| format!("{{\"title\":\"Issue {n}\",\"priority\":{}}}\n", n % 5))
        .collect();
    store.import(parse_jsonl(&backlog)?, Timestamp::now().plus_secs(-1))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let engine = engine(store, None, instant_agent(dir.path())?, WORKERS, dir.path())?;
    let (summary, elapsed) = run_all_passing(engine, issues)?;
    outln!(
        "session loop: {issues} issues, instant scripted agents, no worktrees, SQLite file (WAL), {WORKERS} workers"
    );
    outln!(
        "sessions/s             {:>10.0}        ({} sessions in {:.2} s; target ≥ 1,000)",
        issues as f64 / elapsed.as_secs_f64(),
        summary.sessions,
        elapsed.as_secs_f64()
    );
    outln!(
        "peak RSS               {:>10.1} MiB    (target ≤ 80 MB)",
        peak_rss_mib()
    );
    Ok(())
}
