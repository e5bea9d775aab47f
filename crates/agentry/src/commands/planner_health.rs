//! `agentry planner health`: the planner health report.

use agentry_core::Timestamp;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, json: bool) -> Result<()> {
    let store = project.open_store()?;
    super::engine::seed_templates(project, &store)?;
    let report = agentry_engine::status::planner_report(&store, Timestamp::now())?;
    if json {
        return output::json(&report);
    }
    outln!("status: {:?}", report.status);
    for planner in &report.planners {
        for step in &planner.steps {
            let state = match (step.template_found, step.template_active) {
                (false, _) => "missing",
                (true, false) => "inactive",
                (true, true) => "active",
            };
            outln!("{} {}: {} {state}", planner.name, step.step, step.template);
        }
    }
    for alert in &report.alerts {
        outln!(
            "alert {} ({}): {}",
            alert.id,
            alert.severity,
            alert.description
        );
    }
    Ok(())
}
