//! `agentry reviews list|assign ID REVIEWER`: people assigned to review issues.

use agentry_core::{IssueId, Timestamp};
use agentry_store::Store;
use anyhow::Result;

use crate::cli::ReviewsCommand;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, command: ReviewsCommand) -> Result<()> {
    let store = project.open_store()?;
    match command {
        ReviewsCommand::List { json } => {
            let assignments = store.review_assignments()?;
            if json {
                return output::json(&assignments);
            }
            if assignments.is_empty() {
                outln!("no review assignments");
            }
            for a in assignments {
                outln!("{:<10} {:<20} {}", a.issue_id, a.reviewer, a.assigned_at);
            }
            Ok(())
        }
        ReviewsCommand::Assign { id, reviewer } => assign(&store, &id, &reviewer),
    }
}

fn assign(store: &dyn agentry_store::Store, id: &IssueId, reviewer: &str) -> Result<()> {
    let assignment = store.assign_review(id, reviewer, Timestamp::now())?;
    outln!(
        "{} assigned to review {}",
        assignment.reviewer,
        assignment.issue_id
    );
    Ok(())
}
