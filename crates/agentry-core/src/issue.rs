//! The issue: a unit of work with its definition of done.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::scope::{GlobError, check_scope};
use crate::{IssueId, Status, Timestamp};

/// 0 is the most urgent, 4 the least.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Priority(u8);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("priority must be 0 to 4 (0 most urgent), got {0}")]
pub struct PriorityError(pub i64);

impl Priority {
    pub const MOST_URGENT: Priority = Priority(0);
    pub const LEAST_URGENT: Priority = Priority(4);

    pub fn new(value: i64) -> Result<Self, PriorityError> {
        u8::try_from(value)
            .ok()
            .filter(|v| *v <= Self::LEAST_URGENT.0)
            .map(Priority)
            .ok_or(PriorityError(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl Default for Priority {
    fn default() -> Self {
        Priority(2)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Priority::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// What an issue asks for, as stored and as every `--json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub id: IssueId,
    pub title: String,
    pub body: String,
    pub status: Status,
    pub priority: Priority,
    pub ready_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub labels: Vec<String>,
    /// Paths or globs the work may touch.
    pub scope: Vec<String>,
    /// Shell commands that prove the work is done.
    pub verify: Vec<String>,
    pub done_when: Vec<String>,
    pub not_your_job: Vec<String>,
}

/// The label by which an issue names the agent that implements it (`agent:NAME`).
pub const AGENT_LABEL: &str = "agent:";

impl Issue {
    /// The agent the issue names with its [`AGENT_LABEL`], if it names one.
    pub fn named_agent(&self) -> Option<&str> {
        self.labels
            .iter()
            .find_map(|label| label.strip_prefix(AGENT_LABEL))
            .filter(|name| !name.is_empty())
    }
}

/// The fields a caller gives when creating an issue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewIssue {
    pub title: String,
    pub body: String,
    pub priority: Priority,
    /// When the issue may first be worked on; `None` means at creation.
    pub ready_at: Option<Timestamp>,
    pub labels: Vec<String>,
    pub scope: Vec<String>,
    pub verify: Vec<String>,
    pub done_when: Vec<String>,
    pub not_your_job: Vec<String>,
    pub depends_on: Vec<IssueId>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IssueInputError {
    #[error("an issue needs a non-empty title")]
    EmptyTitle,
    #[error("{field} entries must not be empty")]
    EmptyEntry { field: &'static str },
    /// Not the error's source: its text is already in this one's.
    #[error("scope {0}")]
    Scope(GlobError),
}

impl NewIssue {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Checks what the store cannot: a title, no blank list entries, and a scope of paths
    /// and globs that parse.
    pub fn validate(&self) -> Result<(), IssueInputError> {
        validate_title(&self.title)?;
        validate_lists(&[
            ("labels", &self.labels),
            ("scope", &self.scope),
            ("verify", &self.verify),
            ("done_when", &self.done_when),
            ("not_your_job", &self.not_your_job),
        ])?;
        check_scope(&self.scope).map_err(IssueInputError::Scope)
    }

    /// The issue this becomes once the store has given it an id.
    pub fn into_issue(self, id: IssueId, now: Timestamp) -> Issue {
        Issue {
            id,
            title: self.title,
            body: self.body,
            status: Status::Open,
            priority: self.priority,
            ready_at: self.ready_at.unwrap_or(now),
            created_at: now,
            updated_at: now,
            labels: self.labels,
            scope: self.scope,
            verify: self.verify,
            done_when: self.done_when,
            not_your_job: self.not_your_job,
        }
    }
}

/// A change to an issue's fields other than its status and links; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssuePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub priority: Option<Priority>,
    pub ready_at: Option<Timestamp>,
    pub labels: Option<Vec<String>>,
    pub scope: Option<Vec<String>>,
    pub verify: Option<Vec<String>>,
    pub done_when: Option<Vec<String>>,
    pub not_your_job: Option<Vec<String>>,
}

impl IssuePatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the patch, returning the names of the fields that really changed.
    pub fn apply(self, issue: &mut Issue) -> Result<Vec<&'static str>, IssueInputError> {
        if let Some(title) = &self.title {
            validate_title(title)?;
        }
        // Only a new scope's globs are checked: a scope stored before they were stays usable.
        let new_scope = self.scope.is_some();
        let mut changed = Vec::new();
        set(&mut changed, "title", &mut issue.title, self.title);
        set(&mut changed, "body", &mut issue.body, self.body);
        set(&mut changed, "priority", &mut issue.priority, self.priority);
        set(&mut changed, "ready_at", &mut issue.ready_at, self.ready_at);
        set(&mut changed, "labels", &mut issue.labels, self.labels);
        set(&mut changed, "scope", &mut issue.scope, self.scope);
        set(&mut changed, "verify", &mut issue.verify, self.verify);
        set(
            &mut changed,
            "done_when",
            &mut issue.done_when,
            self.done_when,
        );
        let not_your_job = self.not_your_job;
        set(
            &mut changed,
            "not_your_job",
            &mut issue.not_your_job,
            not_your_job,
        );
        validate_lists(&[
            ("labels", &issue.labels),
            ("scope", &issue.scope),
            ("verify", &issue.verify),
            ("done_when", &issue.done_when),
            ("not_your_job", &issue.not_your_job),
        ])?;
        if new_scope {
            check_scope(&issue.scope).map_err(IssueInputError::Scope)?;
        }
        Ok(changed)
    }
}

fn set<T: PartialEq>(
    changed: &mut Vec<&'static str>,
    name: &'static str,
    field: &mut T,
    value: Option<T>,
) {
    if let Some(value) = value.filter(|v| v != field) {
        *field = value;
        changed.push(name);
    }
}

fn validate_title(title: &str) -> Result<(), IssueInputError> {
    if title.trim().is_empty() {
        return Err(IssueInputError::EmptyTitle);
    }
    Ok(())
}

fn validate_lists(lists: &[(&'static str, &Vec<String>)]) -> Result<(), IssueInputError> {
    match lists
        .iter()
        .find(|(_, items)| items.iter().any(|i| i.trim().is_empty()))
    {
        Some((field, _)) => Err(IssueInputError::EmptyEntry { field }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_range_is_zero_to_four() {
        assert_eq!(Priority::default().value(), 2);
        assert!(Priority::new(0).is_ok() && Priority::new(4).is_ok());
        assert_eq!(
            Priority::new(5).unwrap_err().to_string(),
            "priority must be 0 to 4 (0 most urgent), got 5"
        );
        assert!(Priority::new(-1).is_err());
        assert!(serde_json::from_str::<Priority>("9").is_err());
    }

    #[test]
    fn new_issue_needs_a_title() {
        assert_eq!(
            NewIssue::new("  ").validate(),
            Err(IssueInputError::EmptyTitle)
        );
        let mut issue = NewIssue::new("t");
        issue.scope = vec!["".into()];
        assert_eq!(
            issue.validate(),
            Err(IssueInputError::EmptyEntry { field: "scope" })
        );
    }

    #[test]
    fn a_bad_glob_in_a_scope_is_refused_by_name() {
        let mut issue = NewIssue::new("t");
        issue.scope = vec!["src/**".into(), "src/[ab.rs".into()];
        let err = issue.validate().unwrap_err().to_string();
        assert!(err.starts_with("scope \"src/[ab.rs\": unclosed"), "{err}");
        let now = Timestamp::from_unix_micros(0);
        let mut stored = NewIssue::new("t").into_issue(IssueId::generate(1), now);
        let patch = IssuePatch {
            scope: Some(vec!["{a".into()]),
            ..IssuePatch::default()
        };
        assert!(matches!(
            patch.apply(&mut stored),
            Err(IssueInputError::Scope(_))
        ));
    }

    #[test]
    fn patch_reports_only_real_changes() {
        let now = Timestamp::from_unix_micros(0);
        let mut issue = NewIssue::new("a").into_issue(IssueId::generate(1), now);
        let patch = IssuePatch {
            title: Some("a".into()),
            priority: Some(Priority::new(0).unwrap()),
            ..IssuePatch::default()
        };
        assert_eq!(patch.apply(&mut issue).unwrap(), vec!["priority"]);
        assert_eq!(issue.priority.value(), 0);
    }
}
