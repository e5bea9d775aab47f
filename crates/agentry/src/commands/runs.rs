//! `agentry runs`: every agent run with its tokens and cost, and the totals.

use agentry_core::IssueId;
use agentry_store::Store;
use agentry_store::session::AgentRun;
use anyhow::Result;
use serde::Serialize;

use crate::output::{self, outln};
use crate::project::Project;

#[derive(Serialize)]
struct RunsReport {
    runs: Vec<AgentRun>,
    totals: Totals,
}

#[derive(Default, Serialize)]
struct Totals {
    runs: usize,
    failed: usize,
    tokens_in: u64,
    tokens_out: u64,
    tokens_cache: u64,
    cost_usd: f64,
}

pub fn run(project: &Project, issue: Option<&IssueId>, json: bool) -> Result<()> {
    let runs = project.open_store()?.agent_runs(issue)?;
    let report = RunsReport {
        totals: totals(&runs),
        runs,
    };
    if json {
        return output::json(&report);
    }
    for run in &report.runs {
        outln!(
            "{:<9} {:<17} {:<9} {:>7} {:>7} {:>9}  {}",
            run.issue_id,
            run.role,
            run.backend,
            run.tokens_in.map_or("-".into(), |n| n.to_string()),
            run.tokens_out.map_or("-".into(), |n| n.to_string()),
            run.cost_usd.map_or("-".into(), |c| format!("${c:.4}")),
            run.error.as_deref().unwrap_or("ok")
        );
    }
    let t = &report.totals;
    outln!(
        "{} runs ({} failed): {} tokens in, {} out, {} cached; ${:.4}",
        t.runs,
        t.failed,
        t.tokens_in,
        t.tokens_out,
        t.tokens_cache,
        t.cost_usd
    );
    Ok(())
}

fn totals(runs: &[AgentRun]) -> Totals {
    runs.iter().fold(Totals::default(), |mut t, run| {
        t.runs += 1;
        t.failed += usize::from(run.error.is_some());
        t.tokens_in += run.tokens_in.unwrap_or(0);
        t.tokens_out += run.tokens_out.unwrap_or(0);
        t.tokens_cache += run.tokens_cache.unwrap_or(0);
        t.cost_usd += run.cost_usd.unwrap_or(0.0);
        t
    })
}
