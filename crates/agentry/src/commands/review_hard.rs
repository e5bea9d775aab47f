//! `agentry review-hard ID`: makes the issue's next review strict. Both reviewers must pass
//! with no failed items, and verification runs again in a fresh worktree of the branch; the
//! mark is used up when that review completes, either way.

use agentry_core::{IssueId, Timestamp};
use agentry_engine::review_hard::{ReviewHardError, request_review_hard};
use anyhow::Result;

use crate::error::usage;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, id: &IssueId, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let requested = match request_review_hard(&store, id, Timestamp::now()) {
        Ok(requested) => requested,
        Err(ReviewHardError::Store(err)) => return Err(err.into()),
        Err(refused) => return Err(usage(refused.to_string())),
    };
    if json {
        return output::json(&requested);
    }
    outln!(
        "{id}: its next review is strict (both reviewers must pass with no failed items; \
         verification runs again in a fresh worktree); it is {}, and the mark is used up \
         when that review completes",
        requested.status
    );
    Ok(())
}
