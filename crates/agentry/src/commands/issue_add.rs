//! `agentry issue add`.

use agentry_core::{NewIssue, Priority, Timestamp};
use agentry_store::Store;
use anyhow::Result;

use super::body_of;
use crate::cli::AddArgs;
use crate::error::usage;
use crate::output;
use crate::project::Project;

pub fn run(project: &Project, args: AddArgs) -> Result<()> {
    let new = NewIssue {
        body: body_of(&args.body)?.unwrap_or_default(),
        priority: Priority::new(args.priority).map_err(|e| usage(e.to_string()))?,
        ready_at: None,
        labels: args.labels,
        scope: args.definition.scope,
        verify: args.definition.verify,
        done_when: args.definition.done_when,
        not_your_job: args.definition.not_your_job,
        depends_on: args.depends_on,
        ..NewIssue::new(args.title)
    };
    let issue = project.open_store()?.create_issue(new, Timestamp::now())?;
    output::issue_or_line(&issue, args.json, issue.id.as_str())
}
