use agentry_core::import::{ImportRecord, ImportReport};
use agentry_core::{Event, Issue, IssueId, IssuePatch, Link, NewIssue, Status, Timestamp};

use crate::StoreError;

/// Which issues `list_issues` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueFilter {
    pub status: Option<Status>,
    pub label: Option<String>,
}

/// The store of issues, links and events. Calls are synchronous and short; async callers run
/// them on a blocking thread. Time is passed in so that behaviour does not depend on a clock.
pub trait Store: Send + Sync {
    /// Creates an open issue with a fresh id, with its `depends-on` links.
    fn create_issue(&self, new: NewIssue, now: Timestamp) -> Result<Issue, StoreError>;

    fn issue(&self, id: &IssueId) -> Result<Issue, StoreError>;

    /// Issues matching the filter, by priority, then creation, then id.
    fn list_issues(&self, filter: &IssueFilter) -> Result<Vec<Issue>, StoreError>;

    /// Changes fields other than status and links; appends an event only when something changed.
    fn update_issue(
        &self,
        id: &IssueId,
        patch: IssuePatch,
        now: Timestamp,
    ) -> Result<Issue, StoreError>;

    /// Moves an issue to another status, if core's transition rules allow it.
    fn set_status(
        &self,
        id: &IssueId,
        to: Status,
        reason: &str,
        now: Timestamp,
    ) -> Result<Issue, StoreError>;

    /// Adds a link; `false` when it was already there. A `depends-on` cycle is refused.
    fn add_link(&self, link: &Link, now: Timestamp) -> Result<bool, StoreError>;

    /// Removes a link; `false` when there was none.
    fn remove_link(&self, link: &Link, now: Timestamp) -> Result<bool, StoreError>;

    /// The links that start or end at an issue.
    fn links(&self, id: &IssueId) -> Result<Vec<Link>, StoreError>;

    /// An issue's events, oldest first.
    fn events(&self, id: &IssueId) -> Result<Vec<Event>, StoreError>;

    /// The ready queue (see `agentry_core::ready`), at most `limit` issues.
    fn ready(&self, now: Timestamp, limit: usize) -> Result<Vec<Issue>, StoreError>;

    /// Imports parsed lines in one transaction: all that the plan takes, or nothing.
    fn import(
        &self,
        records: Vec<ImportRecord>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError>;

    /// Every issue with the links that start from it, in id order.
    fn export(&self) -> Result<Vec<(Issue, Vec<Link>)>, StoreError>;
}
