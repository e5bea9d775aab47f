use std::collections::BTreeMap;

use agentry_core::import::{ImportRecord, ImportReport};
use agentry_core::{
    Event, EventType, Issue, IssueId, IssuePatch, Link, NewIssue, Status, Timestamp,
};
use serde::Serialize;
use serde_json::Value;

use crate::StoreError;
use crate::alert::AlertRecord;
use crate::operator::{ReviewAssignment, StateEntry};
use crate::planner::{PlannerRun, PlannerRunEnd};
use crate::session::{
    AgentRun, AgentRunEnd, Claim, ClaimAttempt, ClaimHolder, LiveAgentRun, MergeResult,
    NewAgentRun, SessionEnd, SessionRecord,
};
use crate::template::{AddedTemplate, TemplateSource, TemplateVersion};

/// Which issues `list_issues` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueFilter {
    pub status: Option<Status>,
    pub label: Option<String>,
}

/// An issue with everything recorded about it, read at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssueDetail {
    #[serde(flatten)]
    pub issue: Issue,
    /// The links that start or end at the issue.
    pub links: Vec<Link>,
    /// Its events, oldest first.
    pub events: Vec<Event>,
    /// Its agent runs, oldest first.
    pub runs: Vec<AgentRun>,
    /// The person assigned to review it, if one is.
    #[serde(skip)]
    pub review: Option<ReviewAssignment>,
    /// The state objects asked for that exist, in the order asked.
    #[serde(skip)]
    pub state: Vec<StateEntry>,
}

/// How many rows of each kind the store holds, counted in one read: what `/metrics` reports,
/// without reading the rows. A kind with no rows is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tallies {
    /// Issues by status.
    pub issues: BTreeMap<String, u64>,
    /// Events by type.
    pub events: BTreeMap<String, u64>,
    /// Alert history entries by outcome.
    pub alerts: BTreeMap<String, u64>,
}

/// The store of issues, links and events. Calls are synchronous and short (one SQLite
/// transaction), so the engine makes them from its tasks directly. Time is passed in so that
/// behaviour does not depend on a clock.
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

    /// Appends an event that changes nothing else (a note for the people watching).
    fn append_event(
        &self,
        id: &IssueId,
        event_type: EventType,
        data: &Value,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The links that start or end at an issue.
    fn links(&self, id: &IssueId) -> Result<Vec<Link>, StoreError>;

    /// An issue's events, oldest first.
    fn events(&self, id: &IssueId) -> Result<Vec<Event>, StoreError>;

    /// An issue with its links, events, agent runs, review assignment and the state objects
    /// `state_keys` name, all from one moment.
    fn issue_detail(&self, id: &IssueId, state_keys: &[String]) -> Result<IssueDetail, StoreError>;

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

    /// Claims a ready issue: `open` → `in_progress` with a lease and a token larger than any
    /// before. Refused when it is no longer ready or someone else claimed it first, and when
    /// its scope may overlap that of an issue claimed now or a scope lock of another issue
    /// (`agentry_core::scope_lock::scope_wait`): the check and the claim are one transaction,
    /// so processes sharing the store never work on overlapping scopes at once.
    fn claim(
        &self,
        id: &IssueId,
        holder: &ClaimHolder,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> Result<ClaimAttempt, StoreError>;

    /// Extends a claim's lease; refused with `StaleClaim` when the claim was taken back.
    fn renew_claim(&self, claim: &Claim, lease_until: Timestamp) -> Result<(), StoreError>;

    /// Every claim held now.
    fn claims(&self) -> Result<Vec<Claim>, StoreError>;

    /// Writes a session's records (its `loop_snapshot.v1` events and finished in-process agent
    /// runs) in one transaction, fenced by its claim.
    fn record_session(
        &self,
        claim: &Claim,
        record: &SessionRecord,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Creates the `[FIX]` issue of an overflowing session, which the claimed issue then
    /// `depends-on`; fenced by the claim.
    fn create_fix_issue(
        &self,
        claim: &Claim,
        fix: NewIssue,
        now: Timestamp,
    ) -> Result<Issue, StoreError>;

    /// Ends a session: the issue's new status (and `ready_at`), the claim released.
    fn end_session(
        &self,
        claim: &Claim,
        end: &SessionEnd,
        now: Timestamp,
    ) -> Result<Issue, StoreError>;

    /// Records an agent run as its process starts; returns its id.
    fn start_agent_run(&self, run: &NewAgentRun) -> Result<i64, StoreError>;

    fn finish_agent_run(
        &self,
        run_id: i64,
        end: &AgentRunEnd,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Agent runs of one issue, or of all, oldest first.
    fn agent_runs(&self, issue: Option<&IssueId>) -> Result<Vec<AgentRun>, StoreError>;

    /// What the agent runs started at or after `since` cost, in USD.
    fn cost_since(&self, since: Timestamp) -> Result<f64, StoreError>;

    /// Agent runs that have a process and no end.
    fn live_agent_runs(&self) -> Result<Vec<LiveAgentRun>, StoreError>;

    /// Events after `after_id`, of one issue or of all, oldest first, at most `limit`.
    fn events_after(
        &self,
        after_id: i64,
        issue: Option<&IssueId>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    /// Events written at or after `since`, of all issues, newest first, at most `limit`.
    fn recent_events(&self, since: Timestamp, limit: usize) -> Result<Vec<Event>, StoreError>;

    /// The id of the latest event, 0 when there is none: where a reader of new events starts.
    fn last_event_id(&self) -> Result<i64, StoreError>;

    /// The earliest `ready_at` after `now` among open issues: when the queue may next grow.
    fn next_ready_at(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError>;

    /// Records that an issue's work was merged (`replay_key` names the evidence, so the same
    /// merge is recorded once) and closes it if the review-gate rules allow; closing a `[FIX]`
    /// issue also closes the `needs_review` issues that depend on it.
    fn record_merge(
        &self,
        id: &IssueId,
        replay_key: &str,
        evidence: &Value,
        now: Timestamp,
    ) -> Result<MergeResult, StoreError>;

    /// A named state object, if one was written.
    fn state(&self, key: &str) -> Result<Option<StateEntry>, StoreError>;

    /// Every state object whose key starts with `prefix`, in key order.
    fn states(&self, prefix: &str) -> Result<Vec<StateEntry>, StoreError>;

    /// Writes a named state object, replacing the one before.
    fn put_state(&self, key: &str, value: &Value, now: Timestamp) -> Result<(), StoreError>;

    /// Removes a named state object; `false` when there was none.
    fn delete_state(&self, key: &str) -> Result<bool, StoreError>;

    /// Assigns a person to review an issue that waits on one (`needs_review`, or `blocked` as
    /// an escalation), replacing an earlier assignment; appends `REVIEW_ASSIGNED`.
    fn assign_review(
        &self,
        id: &IssueId,
        reviewer: &str,
        now: Timestamp,
    ) -> Result<ReviewAssignment, StoreError>;

    /// Every review assignment, newest first.
    fn review_assignments(&self) -> Result<Vec<ReviewAssignment>, StoreError>;

    /// Adds an alert's outcome to the alert history; returns its id.
    fn record_alert(&self, record: &AlertRecord) -> Result<i64, StoreError>;

    /// The alert history, newest first, at most `limit` entries.
    fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError>;

    /// `Gone` once the store's database was deleted or replaced under this process, which
    /// then writes nothing more (each write checks this first).
    fn check_file(&self) -> Result<(), StoreError>;

    /// Issues by status, events by type and alerts by outcome, counted at one moment.
    fn tallies(&self) -> Result<Tallies, StoreError>;

    /// Adds `body` as the next version of the template `name` and makes it the active one;
    /// when a version already has that text nothing changes (`new` is false).
    fn add_template_version(
        &self,
        name: &str,
        body: &str,
        source: TemplateSource,
        now: Timestamp,
    ) -> Result<AddedTemplate, StoreError>;

    /// Every version of every template, by name then version.
    fn templates(&self) -> Result<Vec<TemplateVersion>, StoreError>;

    /// The versions of the template `name`, oldest first; `NoTemplate` when it has none.
    fn template_versions(&self, name: &str) -> Result<Vec<TemplateVersion>, StoreError>;

    /// Makes `version` the active version of `name`, and the others inactive.
    fn activate_template(&self, name: &str, version: u32) -> Result<TemplateVersion, StoreError>;

    /// Leaves `name` without an active version; `false` when it had none.
    fn deactivate_template(&self, name: &str) -> Result<bool, StoreError>;

    /// Records that a planner run started with `params`; returns its id.
    fn start_planner_run(
        &self,
        planner: &str,
        params: &Value,
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// Records how a planner run ended.
    fn finish_planner_run(
        &self,
        id: i64,
        end: &PlannerRunEnd,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// A planner run as recorded.
    fn planner_run(&self, id: i64) -> Result<PlannerRun, StoreError>;

    /// Records a plan of run `run_id` that the contract rejected, by its reason.
    fn record_contract_failure(
        &self,
        run_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Rejected plans by reason, all of them or those recorded at or after `since`.
    fn contract_failures(
        &self,
        since: Option<Timestamp>,
    ) -> Result<BTreeMap<String, u64>, StoreError>;
}
