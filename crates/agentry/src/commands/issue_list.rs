//! `agentry issue list`.

use agentry_core::Status;
use agentry_store::{IssueFilter, Store};
use anyhow::Result;

use crate::output;
use crate::project::Project;

pub fn run(
    project: &Project,
    status: Option<Status>,
    label: Option<String>,
    json: bool,
) -> Result<()> {
    let issues = project
        .open_store()?
        .list_issues(&IssueFilter { status, label })?;
    if json {
        return output::json(&issues);
    }
    output::issue_table(&issues)
}
