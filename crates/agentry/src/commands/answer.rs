//! `agentry answer ID TEXT`: answers the question an issue is blocked on and puts it back in
//! the queue; its next implementer prompt carries the answer.

use agentry_core::{IssueId, Timestamp};
use agentry_engine::question::{AnswerError, answer_question};
use anyhow::Result;

use crate::error::usage;
use crate::output::outln;
use crate::project::Project;

pub fn run(project: &Project, id: &IssueId, text: &str) -> Result<()> {
    let store = project.open_store()?;
    match answer_question(&store, id, text, Timestamp::now()) {
        Ok(answer) => {
            outln!("{id} answered ({}); back in the queue", answer.question);
            Ok(())
        }
        Err(AnswerError::Store(err)) => Err(err.into()),
        Err(refused) => Err(usage(refused.to_string())),
    }
}
