//! `agentry planner health`: the planner health report.

use agentry_core::Timestamp;
use anyhow::Result;

use crate::output;
use crate::project::Project;

pub fn run(project: &Project, json: bool) -> Result<()> {
    let store = project.open_store()?;
    super::engine::seed_templates(project, &store)?;
    let report = agentry_engine::status::planner_report(&store, Timestamp::now())?;
    if json {
        return output::json(&report);
    }
    println!("status: {:?}", report.status);
    for planner in &report.planners {
        for step in &planner.steps {
            let state = match (step.template_found, step.template_active) {
                (false, _) => "missing",
                (true, false) => "inactive",
                (true, true) => "active",
            };
            println!("{} {}: {} {state}", planner.name, step.step, step.template);
        }
    }
    for alert in &report.alerts {
        println!(
            "alert {} ({}): {}",
            alert.id, alert.severity, alert.description
        );
    }
    Ok(())
}
