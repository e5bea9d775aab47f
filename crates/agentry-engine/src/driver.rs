//! Driving one issue session: the state machine's actions carried out until it finishes.

use std::path::PathBuf;
use std::sync::Arc;

use agentry_core::question::Answer;
use agentry_core::schedule::{AfterFailure, after_failure};
use agentry_core::session::{
    Action, Input, Outcome, Overflow, Session, SessionIds, Snapshot, TERMINAL, VerifyEvidence,
    fix_issue, is_fix_issue,
};
use agentry_core::{EventType, Issue, Role, Status, Timestamp};
use agentry_store::StoreError;
use agentry_store::session::{AgentRunEnd, Claim, NewAgentRun, SessionEnd, SessionRecord};
use tokio_util::sync::CancellationToken;

use crate::review_hard::{ReviewHardMark, consume_mark, pending_mark};
use crate::{Engine, conflict_resolve, store_retry};

/// A session in progress and what it needs to carry out its actions.
pub(crate) struct SessionRun {
    pub(crate) engine: Arc<Engine>,
    pub(crate) claim: Claim,
    pub(crate) issue: Issue,
    /// Where the agents work: the worktree, or the engine's shared scratch workdir without a
    /// workspace.
    pub(crate) workdir: PathBuf,
    /// This session's folder under the engine's scratch folder: prompt files, and the workdir
    /// when there is no workspace. Removed when the session ends.
    pub(crate) scratch: PathBuf,
    /// Where this session's logs go.
    pub(crate) logs: PathBuf,
    pub(crate) cancel: CancellationToken,
    pub(crate) turns: u32,
    pub(crate) last_verify: Option<VerifyEvidence>,
    /// Whether the issue's branch changes anything against its fork point, once a turn has
    /// asked.
    pub(crate) branch_changed: Option<bool>,
    /// Agent runs without a process, written with the session's next record.
    pub(crate) finished_runs: Vec<(NewAgentRun, AgentRunEnd)>,
    /// Set when an agent reported a rate limit: when it lifts.
    pub(crate) rate_limited_until: Option<Timestamp>,
    /// What this session's agents have cost so far, as they report it.
    pub(crate) spent_usd: f64,
    /// The answer to the issue's last question, for the prompts.
    pub(crate) answer: Option<Answer>,
    /// The fields an implementer's question packet lacked, during the turn that asks for them.
    pub(crate) revise: Vec<String>,
    /// The `review-hard` mark this session's review follows, if the issue has one.
    pub(crate) review_hard: Option<ReviewHardMark>,
    /// The verify scripts as they were at the session's first agent turn.
    pub(crate) verify_files: Option<crate::verify_files::VerifyFiles>,
}

/// How a session ended, and until when its agent is rate limited, if it is.
pub(crate) struct SessionReport {
    pub(crate) outcome: Outcome,
    pub(crate) rate_limited_until: Option<Timestamp>,
}

/// Why a session was cancelled, when it was.
#[derive(Clone)]
pub(crate) struct Stops {
    /// This session: its agents and commands stop.
    pub(crate) cancel: CancellationToken,
    /// The whole run is stopping: a session cancelled for that goes back to the queue as it is.
    pub(crate) shutdown: CancellationToken,
}

/// Runs the session of a claimed issue to its end and returns how it ended.
pub(crate) async fn run_session(
    engine: Arc<Engine>,
    claim: Claim,
    issue: Issue,
    stops: Stops,
) -> SessionReport {
    let heartbeat = tokio::spawn(renew_lease(
        engine.clone(),
        claim.clone(),
        stops.cancel.clone(),
    ));
    let (mut run, first) = SessionRun::prepare(engine, claim, issue, stops.cancel.clone()).await;
    let outcome = run.drive(first, &stops).await;
    heartbeat.abort();
    // Nothing to keep there: prompts are in the logs, the work is committed.
    let _ = std::fs::remove_dir_all(&run.scratch);
    SessionReport {
        outcome,
        rate_limited_until: run.rate_limited_until,
    }
}

impl SessionRun {
    /// Sets up the worktree and folders; the first input is `Started`, or `Failed` when the
    /// worktree could not be prepared (the machine records that as the session's error).
    async fn prepare(
        engine: Arc<Engine>,
        claim: Claim,
        issue: Issue,
        cancel: CancellationToken,
    ) -> (Self, Input) {
        let scratch = engine.scratch.join(&claim.session_id);
        let logs = match &engine.settings.logs_dir {
            Some(dir) => dir.join(&claim.session_id),
            None => scratch.clone(),
        };
        let mut run = SessionRun {
            // Without a workspace every session shares one scratch workdir: nothing there is kept.
            workdir: engine.scratch.join("work"),
            scratch,
            logs,
            engine,
            claim,
            issue,
            cancel,
            turns: 0,
            last_verify: None,
            branch_changed: None,
            finished_runs: Vec::new(),
            rate_limited_until: None,
            spent_usd: 0.0,
            answer: None,
            revise: Vec::new(),
            review_hard: None,
            verify_files: None,
        };
        run.answer = run.last_answer();
        run.review_hard = run.review_hard_mark();
        let first = match run.prepare_workdir().await {
            Ok(workdir) => {
                run.workdir = workdir;
                Input::Started
            }
            Err(error) => Input::Failed { error },
        };
        (run, first)
    }

    /// The answer to the issue's last question, for the prompts. Without the events the
    /// prompts lack it, but the session can still do its work.
    fn last_answer(&self) -> Option<Answer> {
        match self.engine.store.events(&self.issue.id) {
            Ok(events) => agentry_core::question::last_answer(&events),
            Err(err) => {
                tracing::warn!(operation = "session", issue_id = %self.issue.id, "cannot read the issue's events: {err}");
                None
            }
        }
    }

    /// The issue's `review-hard` mark. Without the store's answer the review is not strict;
    /// the mark stays for the next session.
    fn review_hard_mark(&self) -> Option<ReviewHardMark> {
        pending_mark(self.engine.store.as_ref(), &self.issue.id).unwrap_or_else(|err| {
            tracing::warn!(operation = "session", issue_id = %self.issue.id, "cannot read the review-hard mark: {err}");
            None
        })
    }

    async fn prepare_workdir(&self) -> Result<PathBuf, String> {
        if self.engine.settings.logs_dir.is_some() {
            std::fs::create_dir_all(&self.logs)
                .map_err(|e| format!("cannot create {}: {e}", self.logs.display()))?;
        }
        let Some(workspace) = self.engine.workspace.clone() else {
            std::fs::create_dir_all(&self.workdir).map_err(|e| e.to_string())?;
            return Ok(self.workdir.clone());
        };
        let (id, start, attempt) = (
            self.issue.id.clone(),
            self.start_point(),
            self.claim.token as u32,
        );
        tokio::task::spawn_blocking(move || {
            let path = workspace.prepare(&id, &start)?;
            // Work a crashed session left uncommitted is kept under refs/agentry/attempts/.
            workspace.save_attempt(&id, attempt)?;
            Ok::<_, agentry_workspace::WorkspaceError>(path)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    /// A `[FIX]` issue continues from the branch of the issue that overflowed into it.
    fn start_point(&self) -> String {
        let overflowed_from = self
            .issue
            .title
            .strip_prefix("[FIX] ")
            .and_then(|rest| rest.split_once(':'))
            .map(|(id, _)| id);
        match overflowed_from.and_then(|id| id.parse().ok()) {
            Some(original) => agentry_workspace::Workspace::branch_name(&original),
            None => self.engine.settings.base_branch.clone(),
        }
    }

    async fn drive(&mut self, first: Input, stops: &Stops) -> Outcome {
        let ids = SessionIds {
            session_id: self.claim.session_id.clone(),
            orchestrator_id: self.engine.identity.orchestrator_id.clone(),
            issue_id: self.issue.id.clone(),
        };
        let mut session = Session::new(ids, self.engine.settings.caps, is_fix_issue(&self.issue))
            .with_strict_review(self.review_hard.is_some());
        let mut input = first;
        loop {
            let actions;
            (session, actions) = session.step(input, Timestamp::now());
            let mut next = None;
            let mut terminal = None;
            for action in actions {
                match action {
                    // The last event goes in one transaction with the status change it leads to.
                    Action::Record(snapshot) if TERMINAL.contains(&snapshot.event_type) => {
                        terminal = Some(snapshot)
                    }
                    Action::Record(snapshot) => {
                        if let Err(err) = self.record_step(&snapshot) {
                            return self.lost(err);
                        }
                    }
                    Action::Finish(outcome) => {
                        return self.finish(outcome, terminal.take(), stops).await;
                    }
                    Action::RunAgent { role, fix } => next = Some(self.agent_turn(role, fix).await),
                    Action::ReviseQuestion { missing } => {
                        self.revise = missing;
                        next = Some(self.agent_turn(Role::Implementer, None).await);
                        self.revise.clear();
                    }
                    Action::NoteQuestion(question) => {
                        if let Err(err) = self.note_question(&question) {
                            return self.lost(err);
                        }
                    }
                    Action::RunVerify => next = Some(self.verify().await),
                    Action::RunFreshVerify => next = Some(self.fresh_verify().await),
                    Action::CreateFixIssue(overflow) => next = Some(self.create_fix(&overflow)),
                }
            }
            input = next.expect("an unfinished session always asks for something");
        }
    }

    /// Records a step's event with the agent runs that ended before it.
    fn record_step(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let record = self.record_with_runs(Some(snapshot));
        self.engine
            .store
            .record_session(&self.claim, &record, snapshot.timestamp)
    }

    /// Creates the `[FIX]` issue an overflow asks for.
    fn create_fix(&self, overflow: &Overflow) -> Input {
        let fix = fix_issue(&self.issue, overflow);
        match self
            .engine
            .store
            .create_fix_issue(&self.claim, fix, Timestamp::now())
        {
            Ok(created) => Input::FixIssueCreated { fix_id: created.id },
            Err(err) => Input::Failed {
                error: err.to_string(),
            },
        }
    }

    /// Records a question that does not block, with the agent runs that ended before it.
    fn note_question(
        &mut self,
        question: &agentry_core::question::Question,
    ) -> Result<(), StoreError> {
        let mut record = self.record_with_runs(None);
        record.events.push(question_event(question));
        self.engine
            .store
            .record_session(&self.claim, &record, Timestamp::now())
    }

    /// A snapshot, with the in-process agent runs that ended since the last record.
    fn record_with_runs(&mut self, snapshot: Option<&Snapshot>) -> SessionRecord {
        SessionRecord {
            runs: std::mem::take(&mut self.finished_runs),
            events: snapshot
                .map(|s| (s.event_type, s.to_json()))
                .into_iter()
                .collect(),
        }
    }

    /// The claim was taken back or the store failed: nothing more may be written.
    fn lost(&self, err: StoreError) -> Outcome {
        tracing::error!(operation = "session", issue_id = %self.issue.id, session_id = %self.claim.session_id, "session stopped: {err}");
        Outcome::Error {
            message: err.to_string(),
        }
    }

    async fn finish(
        &mut self,
        outcome: Outcome,
        terminal: Option<Snapshot>,
        stops: &Stops,
    ) -> Outcome {
        let mut end = self.session_end(&outcome, stops);
        let freeze = self.take_pending_freeze(&mut end);
        end.record = self.record_with_runs(terminal.as_ref());
        if let Outcome::Asked(question) = &outcome {
            end.record.events.push(question_event(question));
        }
        let store = self.engine.store.as_ref();
        let ended = store_retry::retried("the session's end", || {
            store.end_session(&self.claim, &end, Timestamp::now())
        });
        if let Err(err) = ended.await {
            return self.lost(err);
        }
        if freeze {
            let store = self.engine.store.as_ref();
            if let Err(err) = conflict_resolve::clear_pending_freeze(store, &self.issue.id) {
                tracing::warn!(operation = "session", issue_id = %self.issue.id, "cannot clear the pending freeze: {err}");
            }
        }
        if end.status != Status::NeedsReview && end.status != Status::Blocked {
            self.remove_worktree().await;
        }
        if outcome.reviews_completed() {
            self.use_up_review_hard();
        }
        outcome
    }

    /// Blocks the issue instead when `conflict-resolve` froze it while this session ran;
    /// whether it did.
    fn take_pending_freeze(&self, end: &mut SessionEnd) -> bool {
        let store = self.engine.store.as_ref();
        let reason = match conflict_resolve::pending_freeze(store, &self.issue.id) {
            Ok(Some(reason)) => reason,
            Ok(None) => return false,
            Err(err) => {
                tracing::warn!(operation = "session", issue_id = %self.issue.id, "cannot read the pending freeze: {err}");
                return false;
            }
        };
        if end.status != Status::Blocked {
            end.status = Status::Blocked;
            end.reason = reason;
            end.ready_at = None;
        }
        true
    }

    /// A strict review that ran to an end uses up the mark it followed.
    fn use_up_review_hard(&self) {
        let Some(mark) = &self.review_hard else {
            return;
        };
        let store = self.engine.store.as_ref();
        let session = &self.claim.session_id;
        if let Err(err) = consume_mark(store, mark, session, Timestamp::now()) {
            tracing::warn!(operation = "session", issue_id = %self.issue.id, "cannot use up the review-hard mark: {err}");
        }
    }

    /// Where the issue goes: review, a person, or back to the queue (with a backoff when the
    /// issue itself failed, without one when the run was stopped).
    fn session_end(&self, outcome: &Outcome, stops: &Stops) -> SessionEnd {
        let end = |status, reason: String, ready_at, failed| SessionEnd {
            status,
            reason,
            ready_at,
            failed,
            record: SessionRecord::default(),
        };
        match outcome {
            Outcome::Done => end(
                Status::NeedsReview,
                "verified and reviewed; waiting to be merged".into(),
                None,
                false,
            ),
            Outcome::Overflowed { fix_id } => end(
                Status::NeedsReview,
                format!("review cap reached; the rest is in {fix_id}"),
                None,
                false,
            ),
            Outcome::Escalated { reason } => end(Status::Blocked, reason.clone(), None, false),
            Outcome::Asked(question) => end(
                Status::Blocked,
                format!("waiting on an answer: {}", question.question),
                None,
                false,
            ),
            // A rate limit is the agent's, not the issue's: back when it lifts, not a failure.
            Outcome::Error { message } if self.rate_limited_until.is_some() => end(
                Status::Open,
                message.clone(),
                self.rate_limited_until,
                false,
            ),
            Outcome::Error { .. } if stops.shutdown.is_cancelled() => end(
                Status::Open,
                "agentry stopped; back in the queue".into(),
                None,
                false,
            ),
            Outcome::VerifyFailed { reason } | Outcome::Error { message: reason } => {
                match after_failure(
                    self.claim.failed_sessions + 1,
                    self.engine.settings.max_sessions,
                    Timestamp::now(),
                ) {
                    AfterFailure::Retry { ready_at } => {
                        end(Status::Open, reason.clone(), Some(ready_at), true)
                    }
                    AfterFailure::Block { reason: blocked } => end(
                        Status::Blocked,
                        format!("{blocked}; last: {reason}"),
                        None,
                        true,
                    ),
                }
            }
        }
    }

    async fn remove_worktree(&self) {
        let Some(workspace) = self.engine.workspace.clone() else {
            return;
        };
        let id = self.issue.id.clone();
        if let Ok(Err(err)) = tokio::task::spawn_blocking(move || workspace.remove(&id)).await {
            tracing::warn!(operation = "worktree", issue_id = %self.issue.id, "could not remove the worktree: {err}");
        }
    }
}

/// A `QUESTION_ASKED` event: the packet as the implementer gave it.
fn question_event(question: &agentry_core::question::Question) -> (EventType, serde_json::Value) {
    let data = serde_json::to_value(question).expect("a question serialises");
    (EventType::QuestionAsked, data)
}

/// Renews the claim three times per lease; a claim that was taken back stops the session.
async fn renew_lease(engine: Arc<Engine>, claim: Claim, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(engine.settings.lease_tick());
    tick.tick().await;
    loop {
        tick.tick().await;
        let until = Timestamp::now().plus_secs(engine.settings.lease_secs as i64);
        match engine.store.renew_claim(&claim, until) {
            Ok(()) => {}
            Err(StoreError::StaleClaim(_)) => {
                cancel.cancel();
                return;
            }
            Err(err) => {
                tracing::warn!(operation = "lease", issue_id = %claim.issue_id, "could not renew the lease: {err}")
            }
        }
    }
}
