//! `agentry ready`.

use agentry_core::Timestamp;
use agentry_store::Store;
use anyhow::Result;

use crate::output;
use crate::project::Project;

pub fn run(project: &Project, limit: usize, json: bool) -> Result<()> {
    let issues = project.open_store()?.ready(Timestamp::now(), limit)?;
    if json {
        return output::json(&issues);
    }
    output::issue_table(&issues)
}
