//! `agentry plan "GOAL" [--apply] [--json]`: a plan of issues for a goal, made by the planner
//! (or, with planning off, one issue as written); `--apply` creates them with their
//! dependencies.

use agentry_core::IssueId;
use agentry_engine::planning::{PlanReport, Planning, PlanningError};
use anyhow::{Result, anyhow};

use super::engine;
use crate::error::usage;
use crate::output::{self, outln};
use crate::project::Project;

/// What to plan: a goal, or an issue to split.
pub enum Request {
    Goal(String),
    Replan { id: IssueId, reason: Option<String> },
}

/// Plans, prints the report, and fails naming why when the run made no plan.
pub fn run(project: &Project, request: Request, apply: bool, json: bool) -> Result<()> {
    let report = plan(project, request, apply)?;
    if json {
        output::json(&report)?;
    } else {
        print(&report);
    }
    if report.run.plan.is_none() {
        return Err(anyhow!(
            "planner run {} ended {}: {}",
            report.run.run_id,
            report.run.outcome,
            report.run.errors.join("; ")
        ));
    }
    if !report.created.is_empty() {
        // A running dispatcher looks at the queue now rather than at its next tick.
        agentry_engine::wake::wake_dispatchers(&project.root.join(engine::RUNTIME_DIR));
    }
    Ok(())
}

/// Runs the request with the project's store and prompts, stopped by SIGINT/SIGTERM.
fn plan(project: &Project, request: Request, apply: bool) -> Result<PlanReport> {
    let store = project.open_store()?;
    engine::seed_templates(project, &store)?;
    let prompts = agentry_engine::Prompts::from_store(&store)?;
    engine::runtime()?.block_on(async {
        let planning = Planning {
            store: &store,
            config: &project.config,
            root: &project.root,
            prompts: &prompts,
            cancel: engine::stop_on_signals()?,
        };
        let planned = match request {
            Request::Goal(goal) => planning.plan(goal, apply).await,
            Request::Replan { id, reason } => planning.replan(&id, reason, apply).await,
        };
        planned.map_err(|err| match err {
            PlanningError::Config(_) | PlanningError::Refused(_) => usage(err.to_string()),
            PlanningError::Store(err) => anyhow!(err),
            other => anyhow!(other),
        })
    })
}

fn print(report: &PlanReport) {
    let run = &report.run;
    outln!(
        "planner run {} ({}): {} after {} answer(s) in {} ms",
        run.run_id,
        run.planner,
        run.outcome,
        run.attempts,
        run.duration_ms
    );
    let Some(plan) = &run.plan else { return };
    for (index, step) in plan.steps.iter().enumerate() {
        let created = report
            .created
            .get(index)
            .map(|id| format!("{id} "))
            .unwrap_or_default();
        let after = match step.depends_on.is_empty() {
            true => String::new(),
            false => format!(" (after {})", step.depends_on.join(", ")),
        };
        outln!(
            "{}: {created}[{}] {}{after}",
            step.id,
            step.agent,
            step.title
        );
    }
    if !report.applied {
        outln!("not applied: run again with --apply to create these issues");
    }
}
