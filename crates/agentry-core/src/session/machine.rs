//! The session state machine.

use crate::question::Question;
use crate::session::overflow::Overflow;
use crate::session::snapshot::{
    Attempts, SCHEMA_VERSION, Snapshot, SnapshotStatus, Stage, VerifyEvidence,
};
use crate::verdict::Verdict;
use crate::{EventType, IssueId, Role, Timestamp};

/// Who and what a session is about; `task_id` in snapshots is the issue id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionIds {
    pub session_id: String,
    pub orchestrator_id: String,
    pub issue_id: IssueId,
}

/// How many reviews of each kind a session may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    pub spec: u32,
    pub quality: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    Spec,
    Quality,
}

/// The failed item of a session whose branch, after a turn, changes nothing at all.
pub const NO_CHANGE: &str = "no change was made";

/// What happened, as the engine reports it. Each agent turn's input says when agentry
/// committed what the turn changed (`code_changed_at`) and whether the issue's branch then
/// changes anything at all against its fork point (`branch_changed`).
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Started,
    /// An implementer or fixer turn ended; agentry committed what changed, at this time.
    AgentDone {
        code_changed_at: Option<Timestamp>,
        branch_changed: bool,
    },
    /// The implementer's turn ended with a question packet instead of a report.
    Asked {
        asked: Asked,
        code_changed_at: Option<Timestamp>,
        branch_changed: bool,
    },
    Verified(VerifyEvidence),
    Reviewed {
        verdict: Verdict,
        code_changed_at: Option<Timestamp>,
        branch_changed: bool,
    },
    FixIssueCreated {
        fix_id: IssueId,
    },
    /// Anything that went wrong: an agent crashed, a command could not run, the store failed.
    Failed {
        error: String,
    },
}

/// A question packet read from an implementer's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    Complete(Question),
    /// QUESTION was there, these required fields were not.
    Incomplete {
        question: String,
        missing: Vec<String>,
    },
}

/// What the engine is to do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    RunAgent {
        role: Role,
        fix: Option<FixRequest>,
    },
    /// Runs the implementer again, asking for a revised question packet with these fields.
    ReviseQuestion {
        missing: Vec<String>,
    },
    /// Records a question that does not block (a `QUESTION_ASKED` event); the session goes on.
    NoteQuestion(Question),
    RunVerify,
    /// Runs the verify commands in a new worktree holding only the branch's committed head
    /// (a strict review's last check).
    RunFreshVerify,
    CreateFixIssue(Overflow),
    Record(Snapshot),
    Finish(Outcome),
}

/// What a fixer is asked to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixRequest {
    pub review: Review,
    pub attempt: u32,
    pub failed_items: Vec<String>,
    pub fix_list: Vec<String>,
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Verified and reviewed: the issue waits for a person to merge it.
    Done,
    /// A review cap was reached; the rest of the work is in a `[FIX]` issue.
    Overflowed {
        fix_id: IssueId,
    },
    /// A `[FIX]` issue reached a review cap: a person has to decide.
    Escalated {
        reason: String,
    },
    VerifyFailed {
        reason: String,
    },
    Error {
        message: String,
    },
    /// The implementer cannot go on without an answer: the issue waits for a person.
    Asked(Question),
}

impl Outcome {
    /// Whether the session's reviews ran to an end (passed, overflowed, or passed and then
    /// failed verification), which is when a strict review's mark is used up.
    pub fn reviews_completed(&self) -> bool {
        match self {
            Outcome::Done
            | Outcome::Overflowed { .. }
            | Outcome::Escalated { .. }
            | Outcome::VerifyFailed { .. } => true,
            Outcome::Error { .. } | Outcome::Asked(_) => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Implementing,
    Verifying(Next),
    Reviewing(Review),
    Fixing(Review),
    CreatingFix,
    Finished,
}

/// What a verification leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Review(Review),
    Final,
    /// A strict review's verification in a fresh worktree, after the final one passed.
    FreshWorktree,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    ids: SessionIds,
    caps: Caps,
    /// A `[FIX]` issue is escalated instead of split again.
    escalate_on_overflow: bool,
    /// A strict review: a pass with failed items is a fail, and verification runs again in a
    /// fresh worktree before the review gate.
    strict: bool,
    phase: Phase,
    attempts: Attempts,
    failed_items: Vec<String>,
    fix_list: Vec<String>,
    verify: Option<VerifyEvidence>,
    code_changed_at: Option<Timestamp>,
    /// An incomplete question packet gets one request for a revised one, no more.
    revision_asked: bool,
}

/// Fresh verification: it passed, and it ran after the last change to the code.
pub fn is_fresh(verify: &VerifyEvidence, code_changed_at: Option<Timestamp>) -> bool {
    verify.exit_code == 0 && code_changed_at.is_none_or(|changed| verify.produced_at >= changed)
}

impl Session {
    pub fn new(ids: SessionIds, caps: Caps, escalate_on_overflow: bool) -> Self {
        Self {
            ids,
            caps,
            escalate_on_overflow,
            strict: false,
            phase: Phase::Idle,
            attempts: Attempts::default(),
            failed_items: Vec::new(),
            fix_list: Vec::new(),
            verify: None,
            code_changed_at: None,
            revision_asked: false,
        }
    }

    /// The same session with a strict review (`agentry review-hard`).
    pub fn with_strict_review(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    pub fn attempts(&self) -> Attempts {
        self.attempts
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Advances the session by one input, at time `now`.
    pub fn step(mut self, input: Input, now: Timestamp) -> (Self, Vec<Action>) {
        let actions = match (self.phase, input) {
            (Phase::Finished, _) => Vec::new(),
            (_, Input::Failed { error }) => self.error(error, now),
            (Phase::Idle, Input::Started) => {
                self.phase = Phase::Implementing;
                let start = self.record(
                    EventType::SessionStart,
                    Stage::Running,
                    SnapshotStatus::Start,
                    now,
                );
                vec![
                    start,
                    Action::RunAgent {
                        role: Role::Implementer,
                        fix: None,
                    },
                ]
            }
            (
                Phase::Implementing,
                Input::AgentDone {
                    code_changed_at,
                    branch_changed,
                },
            ) => {
                self.code_changed(code_changed_at);
                self.implemented(branch_changed, now)
            }
            (
                Phase::Implementing,
                Input::Asked {
                    asked,
                    code_changed_at,
                    branch_changed,
                },
            ) => {
                self.code_changed(code_changed_at);
                self.asked(asked, branch_changed, now)
            }
            (Phase::Verifying(next), Input::Verified(evidence)) => {
                self.verify = Some(evidence);
                match next {
                    Next::Review(review) => self.start_review(review),
                    Next::Final | Next::FreshWorktree => self.judge_verification(next, now),
                }
            }
            // No reviewer runs, and nothing reaches review, without a change to look at.
            (
                Phase::Reviewing(_),
                Input::Reviewed {
                    branch_changed: false,
                    ..
                },
            )
            | (
                Phase::Fixing(_),
                Input::AgentDone {
                    branch_changed: false,
                    ..
                },
            ) => self.error(NO_CHANGE.into(), now),
            (
                Phase::Reviewing(review),
                Input::Reviewed {
                    verdict,
                    code_changed_at,
                    ..
                },
            ) => {
                self.code_changed(code_changed_at);
                self.reviewed(review, verdict, now)
            }
            (
                Phase::Fixing(review),
                Input::AgentDone {
                    code_changed_at, ..
                },
            ) => {
                self.code_changed(code_changed_at);
                self.phase = Phase::Verifying(Next::Review(review));
                let (event, stage) = match review {
                    Review::Spec => (EventType::SpecFixApplied, Stage::SpecFix),
                    Review::Quality => (EventType::QualityFixApplied, Stage::QualityFix),
                };
                vec![
                    self.record(event, stage, SnapshotStatus::Pass, now),
                    Action::RunVerify,
                ]
            }
            (Phase::CreatingFix, Input::FixIssueCreated { fix_id }) => {
                let created = self.record(
                    EventType::OverflowFixCreated,
                    Stage::Overflow,
                    SnapshotStatus::FixCreated,
                    now,
                );
                self.finish(created, Outcome::Overflowed { fix_id })
            }
            (phase, input) => self.error(format!("unexpected {input:?} while {phase:?}"), now),
        };
        (self, actions)
    }

    fn code_changed(&mut self, at: Option<Timestamp>) {
        if at.is_some() {
            self.code_changed_at = at;
        }
    }

    /// The implementer's report: on to verification, or the end when the branch holds no
    /// change at all.
    fn implemented(&mut self, branch_changed: bool, now: Timestamp) -> Vec<Action> {
        if !branch_changed {
            return self.error(NO_CHANGE.into(), now);
        }
        self.phase = Phase::Verifying(Next::Review(Review::Spec));
        vec![
            self.record(
                EventType::ImplementDone,
                Stage::Running,
                SnapshotStatus::Pass,
                now,
            ),
            Action::RunVerify,
        ]
    }

    /// A blocking question ends the session (its `QUESTION_ASKED` event is its last); an
    /// incomplete packet is sent back once; anything else carries on as a report.
    fn asked(&mut self, asked: Asked, branch_changed: bool, now: Timestamp) -> Vec<Action> {
        match asked {
            Asked::Complete(question) if question.blocking => {
                self.phase = Phase::Finished;
                vec![Action::Finish(Outcome::Asked(question))]
            }
            Asked::Complete(question) => {
                let report = self.implemented(branch_changed, now);
                [vec![Action::NoteQuestion(question)], report].concat()
            }
            Asked::Incomplete { missing, .. } if !self.revision_asked => {
                self.revision_asked = true;
                vec![Action::ReviseQuestion { missing }]
            }
            Asked::Incomplete { .. } => self.implemented(branch_changed, now),
        }
    }

    fn start_review(&mut self, review: Review) -> Vec<Action> {
        self.phase = Phase::Reviewing(review);
        let role = match review {
            Review::Spec => {
                self.attempts.spec += 1;
                Role::SpecReviewer
            }
            Review::Quality => {
                self.attempts.quality += 1;
                Role::QualityReviewer
            }
        };
        vec![Action::RunAgent { role, fix: None }]
    }

    fn reviewed(&mut self, review: Review, verdict: Verdict, now: Timestamp) -> Vec<Action> {
        let (stage, pass, fail, attempt, cap) = match review {
            Review::Spec => (
                Stage::SpecReview,
                EventType::SpecReviewPass,
                EventType::SpecReviewFail,
                self.attempts.spec,
                self.caps.spec,
            ),
            Review::Quality => (
                Stage::QualityReview,
                EventType::QualityReviewPass,
                EventType::QualityReviewFail,
                self.attempts.quality,
                self.caps.quality,
            ),
        };
        if self.counts_as_passed(&verdict) {
            self.failed_items.clear();
            self.fix_list.clear();
            let passed = self.record(pass, stage, SnapshotStatus::Pass, now);
            let next = match review {
                Review::Spec => self.start_review(Review::Quality),
                Review::Quality => {
                    self.phase = Phase::Verifying(Next::Final);
                    vec![Action::RunVerify]
                }
            };
            return [vec![passed], next].concat();
        }
        self.failed_items = verdict.failed_items;
        self.fix_list = verdict.fix_list;
        let failed = self.record(fail, stage, SnapshotStatus::Fail, now);
        if attempt >= cap {
            return [vec![failed], self.overflow(stage, attempt, cap, now)].concat();
        }
        self.phase = Phase::Fixing(review);
        let fix = FixRequest {
            review,
            attempt,
            failed_items: self.failed_items.clone(),
            fix_list: self.fix_list.clone(),
        };
        vec![
            failed,
            Action::RunAgent {
                role: Role::Fixer,
                fix: Some(fix),
            },
        ]
    }

    /// A pass counts, except under a strict review when it still lists failed items.
    fn counts_as_passed(&self, verdict: &Verdict) -> bool {
        verdict.passed() && (!self.strict || verdict.failed_items.is_empty())
    }

    fn overflow(&mut self, stage: Stage, attempt: u32, cap: u32, now: Timestamp) -> Vec<Action> {
        let name = match stage {
            Stage::SpecReview => "SPEC_REVIEW",
            _ => "QUALITY_REVIEW",
        };
        let reason = format!("{name} failed at attempt {attempt}/{cap}");
        if self.escalate_on_overflow {
            let message = format!("a [FIX] issue overflowed ({reason}): escalated to a person");
            self.failed_items.insert(0, message.clone());
            self.phase = Phase::CreatingFix;
            let error = self.record(
                EventType::SessionError,
                Stage::Overflow,
                SnapshotStatus::Fail,
                now,
            );
            return self.finish(error, Outcome::Escalated { reason: message });
        }
        self.phase = Phase::CreatingFix;
        vec![Action::CreateFixIssue(Overflow {
            reason,
            failed_items: self.failed_items.clone(),
            fix_list: self.fix_list.clone(),
            verify: self.verify.clone(),
        })]
    }

    fn judge_verification(&mut self, check: Next, now: Timestamp) -> Vec<Action> {
        let evidence = self
            .verify
            .as_ref()
            .expect("a verification was just recorded");
        if is_fresh(evidence, self.code_changed_at) {
            if self.strict && check == Next::Final {
                self.phase = Phase::Verifying(Next::FreshWorktree);
                return vec![Action::RunFreshVerify];
            }
            let done = self.record(
                EventType::SessionDone,
                Stage::ReviewGate,
                SnapshotStatus::NeedsReview,
                now,
            );
            return self.finish(done, Outcome::Done);
        }
        let reason = if evidence.exit_code != 0 {
            format!(
                "verify exited with code {}: {}",
                evidence.exit_code, evidence.command
            )
        } else {
            "verification is older than the last code change".to_string()
        };
        let reason = match check {
            Next::FreshWorktree => format!("fresh-worktree verification failed: {reason}"),
            _ => reason,
        };
        self.failed_items = vec![reason.clone()];
        let failed = self.record(
            EventType::VerifyFailed,
            Stage::Verification,
            SnapshotStatus::VerifyFailed,
            now,
        );
        self.finish(failed, Outcome::VerifyFailed { reason })
    }

    fn error(&mut self, message: String, now: Timestamp) -> Vec<Action> {
        self.failed_items = vec![message.clone()];
        let stage = self.stage();
        let error = self.record(EventType::SessionError, stage, SnapshotStatus::Fail, now);
        self.finish(error, Outcome::Error { message })
    }

    fn finish(&mut self, last: Action, outcome: Outcome) -> Vec<Action> {
        self.phase = Phase::Finished;
        vec![last, Action::Finish(outcome)]
    }

    /// The stage the session is in, for an error raised there.
    fn stage(&self) -> Stage {
        match self.phase {
            Phase::Idle | Phase::Implementing => Stage::Running,
            Phase::Verifying(_) => Stage::Verification,
            Phase::Reviewing(Review::Spec) => Stage::SpecReview,
            Phase::Reviewing(Review::Quality) => Stage::QualityReview,
            Phase::Fixing(Review::Spec) => Stage::SpecFix,
            Phase::Fixing(Review::Quality) => Stage::QualityFix,
            Phase::CreatingFix => Stage::Overflow,
            Phase::Finished => Stage::Done,
        }
    }

    fn record(
        &self,
        event_type: EventType,
        stage: Stage,
        status: SnapshotStatus,
        now: Timestamp,
    ) -> Action {
        Action::Record(Snapshot {
            schema_version: SCHEMA_VERSION.into(),
            session_id: self.ids.session_id.clone(),
            orchestrator_id: self.ids.orchestrator_id.clone(),
            issue_id: self.ids.issue_id.clone(),
            task_id: self.ids.issue_id.clone(),
            event_type,
            stage,
            status,
            attempts: self.attempts,
            failed_items: self.failed_items.clone(),
            fix_list: self.fix_list.clone(),
            verify: self.verify.clone(),
            timestamp: now,
        })
    }
}
