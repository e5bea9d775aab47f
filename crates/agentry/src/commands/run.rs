//! `agentry run` (and `--dry-run`) and `agentry merge-watch`.

use std::sync::Arc;
use std::time::Duration;

use agentry_engine::{RunOptions, RunSummary, merge_scan};
use anyhow::Result;

use super::engine::{build, runtime, stop_on_signals};
use crate::cli::RunArgs;
use crate::output::{self, outln};
use crate::project::Project;

/// How often `merge-watch` looks, as the runbook's daemon does.
const MERGE_POLL: Duration = Duration::from_secs(30);

pub fn run(project: &Project, args: RunArgs) -> Result<()> {
    let engine = build(project, args.max_workers)?;
    let summary = runtime()?.block_on(async {
        super::guard::check(project, &engine, args.force).await?;
        let stop = stop_on_signals()?;
        let options = RunOptions {
            until_idle: args.until_idle,
        };
        let config = Arc::new(project.config.clone());
        // The health check ends with the run, which may end before a signal (until idle).
        let checks = stop.child_token();
        let alerts = agentry_engine::monitor_alerts(engine.store.clone(), config, checks.clone());
        let run = async {
            let summary = agentry_engine::run(engine, options, stop).await;
            checks.cancel();
            summary.map_err(anyhow::Error::msg)
        };
        let (summary, alerted) = tokio::join!(run, alerts);
        alerted?;
        summary
    })?;
    if args.json {
        return output::json(&summary);
    }
    print_summary(&summary);
    Ok(())
}

fn print_summary(summary: &RunSummary) {
    let outcomes: Vec<String> = summary
        .outcomes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let issues: Vec<String> = summary
        .issues
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    outln!(
        "{} sessions: {}",
        summary.sessions,
        if outcomes.is_empty() {
            "none".into()
        } else {
            outcomes.join(", ")
        }
    );
    outln!("issues: {}", issues.join(", "));
}

pub fn dry_run() -> Result<()> {
    let report = runtime()?
        .block_on(agentry_engine::dry_run::dry_run())
        .map_err(anyhow::Error::msg)?;
    outln!("{}", serde_json::to_string(&report)?);
    Ok(())
}

pub fn merge_watch(project: &Project, once: bool) -> Result<()> {
    let engine = build(project, None)?;
    runtime()?.block_on(async {
        let stop = stop_on_signals()?;
        loop {
            for (id, result) in merge_scan(&engine).await.map_err(anyhow::Error::msg)? {
                outln!("{id}: {}", serde_json::to_string(&result)?);
            }
            if once {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(MERGE_POLL) => {}
                _ = stop.cancelled() => return Ok(()),
            }
        }
    })
}
