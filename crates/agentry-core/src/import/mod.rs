//! Import and export as JSON Lines.
//!
//! A file is read whole before anything is written: every line is parsed into an
//! [`ImportRecord`] (agentry's own export format, or a line of beads' `issues.jsonl`), then
//! [`plan_import`] decides, against what the store already holds, which issues and links to
//! create and which to skip and why. A malformed line fails the whole file.

mod agentry_line;
mod beads;
mod plan;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{IssueId, LinkKind, NewIssue, Status, Timestamp};

pub use agentry_line::ExportLine;
pub use plan::{ImportPlan, KnownIssues, Skipped, plan_import};

/// The label that keeps a beads issue's own id on the issue imported from it.
pub const BEADS_LABEL_PREFIX: &str = "beads:";

/// Where an imported issue came from, which decides how it is matched with the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SourceKey {
    /// An agentry issue that keeps its id.
    Agentry(IssueId),
    /// A beads issue, matched through its `beads:<id>` label.
    Beads(String),
    /// A new issue written by hand, given a fresh id.
    New,
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRecord {
    pub line: usize,
    pub key: SourceKey,
    pub issue: NewIssue,
    pub status: Status,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    /// Outgoing links: their kind and the key of their target.
    pub links: Vec<(LinkKind, SourceKey)>,
    /// Why this line is not to be imported, when the source says so (a deleted beads issue).
    pub skip: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("the import would create a dependency cycle: {0}")]
    Cycle(String),
}

/// What an import did, as `issue import` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub taken: usize,
    pub skipped: Vec<Skipped>,
    pub links_taken: usize,
    pub links_skipped: Vec<Skipped>,
}

/// Parses every line of a JSON Lines file; blank lines are passed over.
pub fn parse_jsonl(text: &str) -> Result<Vec<ImportRecord>, ImportError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| parse_line(index + 1, line))
        .collect()
}

fn parse_line(line: usize, text: &str) -> Result<ImportRecord, ImportError> {
    let fail = |message: String| ImportError::Line { line, message };
    let object: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(fail("expected a JSON object".into())),
        Err(e) => return Err(fail(format!("not JSON: {e}"))),
    };
    let record = if beads::looks_like_beads(&object) {
        beads::parse(line, object)
    } else {
        agentry_line::parse(line, object)
    };
    record.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_line_is_named_by_its_number() {
        let text = "{\"title\":\"a\"}\n\n{\"title\":\n";
        let err = parse_jsonl(text).unwrap_err();
        assert!(matches!(err, ImportError::Line { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("line 3: not JSON"));
    }

    #[test]
    fn a_line_that_is_not_an_object_is_refused() {
        assert!(
            parse_jsonl("[1,2]")
                .unwrap_err()
                .to_string()
                .contains("expected a JSON object")
        );
    }
}
