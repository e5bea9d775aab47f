//! The session machine driven end to end: examples, and a property test over arbitrary
//! sequences of outcomes.

use proptest::prelude::*;

use super::*;
use crate::verdict::{Verdict, VerdictKind};
use crate::{EventType, IssueId, Role, Timestamp};

/// One scripted answer to whatever the session asks next.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Bad,
    /// A reviewer's pass that still lists a failed item; anyone else's `Ok`.
    PassWithItems,
    Crash,
    /// An agent turn after which the branch changes nothing against its fork point.
    NoChange,
    /// An implementer's question packet: blocking or not, complete or not.
    Ask {
        blocking: bool,
        complete: bool,
    },
}

fn question(blocking: bool) -> crate::question::Question {
    crate::question::Question {
        question: "which file?".into(),
        context: "two candidates".into(),
        files: vec!["a.rs".into()],
        options: vec!["a.rs".into(), "b.rs".into()],
        recommended: "a.rs".into(),
        blocking,
    }
}

fn pass_with_items() -> Verdict {
    Verdict {
        failed_items: vec!["minor item".into()],
        ..verdict(true)
    }
}

fn verdict(pass: bool) -> Verdict {
    Verdict {
        verdict: if pass {
            VerdictKind::Pass
        } else {
            VerdictKind::Fail
        },
        failed_items: if pass { vec![] } else { vec!["item".into()] },
        fix_list: if pass { vec![] } else { vec!["fix it".into()] },
    }
}

/// Runs a session, answering each action from `answers` (then `Ok` forever), and returns the
/// recorded snapshots and the outcome.
fn drive(caps: Caps, escalate: bool, answers: &[Answer]) -> (Vec<Snapshot>, Vec<Outcome>) {
    let (snapshots, outcomes, _) = drive_all(caps, escalate, false, answers);
    (snapshots, outcomes)
}

/// As `drive`, with a strict review or not, and with every action that was a request, in order.
fn drive_all(
    caps: Caps,
    escalate: bool,
    strict: bool,
    answers: &[Answer],
) -> (Vec<Snapshot>, Vec<Outcome>, Vec<Action>) {
    let ids = SessionIds {
        session_id: "s-1".into(),
        orchestrator_id: "o".into(),
        issue_id: IssueId::generate(9),
    };
    let mut session = Session::new(ids, caps, escalate).with_strict_review(strict);
    let mut clock = 0;
    let mut next_input = Some(Input::Started);
    let (mut snapshots, mut outcomes, mut requests) = (Vec::new(), Vec::new(), Vec::new());
    let mut answers = answers.iter().copied().chain(std::iter::repeat(Answer::Ok));
    while let Some(input) = next_input.take() {
        clock += 1;
        let now = Timestamp::from_unix_micros(clock * 1_000_000);
        let actions;
        (session, actions) = session.step(input, now);
        for action in actions {
            match action {
                Action::Record(snapshot) => snapshots.push(snapshot),
                Action::Finish(outcome) => outcomes.push(outcome),
                note @ Action::NoteQuestion(_) => requests.push(note),
                request => {
                    next_input = Some(answer(&request, answers.next().unwrap(), now));
                    requests.push(request);
                }
            }
        }
    }
    assert!(session.is_finished());
    (snapshots, outcomes, requests)
}

fn answer(request: &Action, answer: Answer, now: Timestamp) -> Input {
    if let Answer::Crash = answer {
        return Input::Failed {
            error: "boom".into(),
        };
    }
    let implementing = matches!(
        request,
        Action::RunAgent {
            role: Role::Implementer,
            ..
        } | Action::ReviseQuestion { .. }
    );
    if let (Answer::Ask { blocking, complete }, true) = (answer, implementing) {
        let asked = match complete {
            true => Asked::Complete(question(blocking)),
            false => Asked::Incomplete {
                question: "which file?".into(),
                missing: vec!["options".into(), "recommended".into()],
            },
        };
        return Input::Asked {
            asked,
            code_changed_at: None,
            branch_changed: true,
        };
    }
    let ok = !matches!(answer, Answer::Bad);
    let branch_changed = !matches!(answer, Answer::NoChange);
    match request {
        Action::RunAgent {
            role: Role::SpecReviewer | Role::QualityReviewer,
            ..
        } => Input::Reviewed {
            verdict: match answer {
                Answer::PassWithItems => pass_with_items(),
                _ => verdict(ok),
            },
            code_changed_at: None,
            branch_changed,
        },
        Action::RunAgent { .. } | Action::ReviseQuestion { .. } => Input::AgentDone {
            code_changed_at: branch_changed.then_some(now),
            branch_changed,
        },
        Action::RunVerify | Action::RunFreshVerify => Input::Verified(VerifyEvidence {
            command: "sh t.sh".into(),
            exit_code: if ok { 0 } else { 1 },
            produced_at: now,
            output_ref: None,
        }),
        Action::CreateFixIssue(_) => Input::FixIssueCreated {
            fix_id: IssueId::generate(10),
        },
        other => panic!("not a request: {other:?}"),
    }
}

fn types(snapshots: &[Snapshot]) -> Vec<EventType> {
    snapshots.iter().map(|s| s.event_type).collect()
}

const CAPS: Caps = Caps {
    spec: 3,
    quality: 2,
};

#[test]
fn a_clean_pass_ends_at_the_review_gate() {
    let (snapshots, outcomes) = drive(CAPS, false, &[]);
    use EventType::*;
    assert_eq!(
        types(&snapshots),
        vec![
            SessionStart,
            ImplementDone,
            SpecReviewPass,
            QualityReviewPass,
            SessionDone
        ]
    );
    let done = snapshots.last().unwrap();
    assert_eq!(
        (done.stage, done.status),
        (Stage::ReviewGate, SnapshotStatus::NeedsReview)
    );
    assert_eq!(outcomes, vec![Outcome::Done]);
}

#[test]
fn a_failed_spec_review_is_fixed_and_passes() {
    use Answer::*;
    // implement, verify, spec review (fail), fix, verify, spec review (pass), quality, final verify
    let (snapshots, outcomes) = drive(CAPS, false, &[Ok, Ok, Bad]);
    use EventType::*;
    assert_eq!(
        types(&snapshots),
        vec![
            SessionStart,
            ImplementDone,
            SpecReviewFail,
            SpecFixApplied,
            SpecReviewPass,
            QualityReviewPass,
            SessionDone
        ]
    );
    assert_eq!(snapshots[2].failed_items, vec!["item"]);
    assert_eq!(
        snapshots[4].attempts,
        Attempts {
            spec: 2,
            quality: 0
        }
    );
    assert_eq!(outcomes, vec![Outcome::Done]);
}

#[test]
fn the_quality_cap_overflows_into_a_fix_issue() {
    use Answer::*;
    let answers = [Ok, Ok, Ok, Bad, Ok, Ok, Bad];
    let (snapshots, outcomes) = drive(CAPS, false, &answers);
    use EventType::*;
    assert_eq!(
        types(&snapshots),
        vec![
            SessionStart,
            ImplementDone,
            SpecReviewPass,
            QualityReviewFail,
            QualityFixApplied,
            QualityReviewFail,
            OverflowFixCreated
        ]
    );
    assert_eq!(
        outcomes,
        vec![Outcome::Overflowed {
            fix_id: IssueId::generate(10)
        }]
    );
}

#[test]
fn a_fix_issue_that_overflows_is_escalated() {
    use Answer::*;
    let (snapshots, outcomes) = drive(
        Caps {
            spec: 1,
            quality: 1,
        },
        true,
        &[Ok, Ok, Bad],
    );
    assert_eq!(
        snapshots.last().unwrap().event_type,
        EventType::SessionError
    );
    assert!(
        matches!(&outcomes[..], [Outcome::Escalated { reason }] if reason.contains("SPEC_REVIEW failed at attempt 1/1"))
    );
}

#[test]
fn a_failing_final_verification_is_verify_failed() {
    use Answer::*;
    let (snapshots, outcomes) = drive(CAPS, false, &[Ok, Ok, Ok, Ok, Bad]);
    assert_eq!(
        snapshots.last().unwrap().event_type,
        EventType::VerifyFailed
    );
    assert!(
        matches!(&outcomes[..], [Outcome::VerifyFailed { reason }] if reason.contains("code 1"))
    );
}

#[test]
fn verification_older_than_the_last_change_is_not_fresh() {
    let at = |s: i64| Timestamp::from_unix_micros(s * 1_000_000);
    let evidence = VerifyEvidence {
        command: "t".into(),
        exit_code: 0,
        produced_at: at(5),
        output_ref: None,
    };
    assert!(is_fresh(&evidence, Some(at(5))));
    assert!(is_fresh(&evidence, None));
    assert!(!is_fresh(&evidence, Some(at(6))));
}

#[test]
fn a_crash_anywhere_is_a_session_error_with_the_text() {
    let (snapshots, outcomes) = drive(CAPS, false, &[Answer::Ok, Answer::Crash]);
    let last = snapshots.last().unwrap();
    assert_eq!(
        (last.event_type, last.stage),
        (EventType::SessionError, Stage::Verification)
    );
    assert_eq!(last.failed_items, vec!["boom"]);
    assert_eq!(
        outcomes,
        vec![Outcome::Error {
            message: "boom".into()
        }]
    );
}

#[test]
fn inputs_after_the_end_are_ignored() {
    let ids = SessionIds {
        session_id: "s".into(),
        orchestrator_id: "o".into(),
        issue_id: IssueId::generate(1),
    };
    let session = Session::new(ids, CAPS, false);
    let (session, _) = session.step(
        Input::Failed { error: "x".into() },
        Timestamp::from_unix_micros(0),
    );
    let (_, actions) = session.step(Input::Started, Timestamp::from_unix_micros(1));
    assert!(actions.is_empty());
}

fn answers() -> impl Strategy<Value = Vec<Answer>> {
    let ask = (any::<bool>(), any::<bool>())
        .prop_map(|(blocking, complete)| Answer::Ask { blocking, complete });
    let one = prop_oneof![6 => Just(Answer::Ok), 3 => Just(Answer::Bad), 2 => Just(Answer::PassWithItems), 1 => Just(Answer::Crash), 1 => Just(Answer::NoChange), 1 => ask];
    prop::collection::vec(one, 0..40)
}

proptest! {
    #[test]
    fn every_session_keeps_the_loop_rules(answers in answers(), spec in 1u32..5, quality in 1u32..4, escalate: bool, strict: bool) {
        let caps = Caps { spec, quality };
        let (snapshots, outcomes, requests) = drive_all(caps, escalate, strict, &answers);
        let terminal: Vec<_> = snapshots.iter().filter(|s| TERMINAL.contains(&s.event_type)).collect();
        prop_assert_eq!(outcomes.len(), 1);
        // Only a strict review verifies a fresh worktree, once, and does before the gate.
        let fresh = requests.iter().filter(|r| **r == Action::RunFreshVerify).count();
        prop_assert!(fresh <= usize::from(strict), "fresh verifications: {:?}", requests);
        if strict && outcomes[0] == Outcome::Done {
            prop_assert_eq!(fresh, 1);
        }
        let revisions = requests.iter().filter(|r| matches!(r, Action::ReviseQuestion { .. })).count();
        prop_assert!(revisions <= 1, "at most one revision request: {:?}", requests);
        if let Outcome::Asked(question) = &outcomes[0] {
            // A blocking question ends the session before anything is verified or reviewed.
            prop_assert!(question.blocking);
            prop_assert!(terminal.is_empty(), "no terminal snapshot: {:?}", types(&snapshots));
            prop_assert_eq!(types(&snapshots), vec![EventType::SessionStart]);
            return Ok(());
        }
        prop_assert_eq!(terminal.len(), 1, "exactly one terminal event: {:?}", types(&snapshots));
        prop_assert!(TERMINAL.contains(&snapshots.last().unwrap().event_type), "the terminal event is the last");
        let first_quality = snapshots.iter().position(|s| matches!(s.event_type, EventType::QualityReviewPass | EventType::QualityReviewFail | EventType::QualityFixApplied));
        if let Some(first_quality) = first_quality {
            let spec_passed = snapshots[..first_quality].iter().any(|s| s.event_type == EventType::SpecReviewPass);
            prop_assert!(spec_passed, "quality review before a spec pass: {:?}", types(&snapshots));
        }
        for snapshot in &snapshots {
            prop_assert!(snapshot.attempts.spec <= caps.spec && snapshot.attempts.quality <= caps.quality);
            prop_assert_eq!(snapshot::validate(&snapshot.to_json()), Ok(()));
        }
    }
}

#[test]
fn a_blocking_question_ends_the_session_before_verification() {
    let ask = Answer::Ask {
        blocking: true,
        complete: true,
    };
    let (snapshots, outcomes) = drive(CAPS, false, &[ask]);
    assert_eq!(types(&snapshots), vec![EventType::SessionStart]);
    assert_eq!(outcomes, vec![Outcome::Asked(question(true))]);
}

#[test]
fn a_question_that_does_not_block_is_noted_and_the_session_goes_on() {
    let ask = Answer::Ask {
        blocking: false,
        complete: true,
    };
    let (snapshots, outcomes, requests) = drive_all(CAPS, false, false, &[ask]);
    assert_eq!(requests[1], Action::NoteQuestion(question(false)));
    assert_eq!(snapshots[1].event_type, EventType::ImplementDone);
    assert_eq!(outcomes, vec![Outcome::Done]);
}

#[test]
fn an_incomplete_packet_is_sent_back_once_then_taken_as_a_report() {
    let incomplete = Answer::Ask {
        blocking: true,
        complete: false,
    };
    let (snapshots, outcomes, requests) = drive_all(CAPS, false, false, &[incomplete, incomplete]);
    assert_eq!(
        requests[1],
        Action::ReviseQuestion {
            missing: vec!["options".into(), "recommended".into()]
        }
    );
    let revisions = requests
        .iter()
        .filter(|r| matches!(r, Action::ReviseQuestion { .. }))
        .count();
    assert_eq!(revisions, 1);
    assert_eq!(snapshots[1].event_type, EventType::ImplementDone);
    assert_eq!(outcomes, vec![Outcome::Done]);
}

#[test]
fn a_revised_packet_that_blocks_ends_the_session() {
    let incomplete = Answer::Ask {
        blocking: true,
        complete: false,
    };
    let complete = Answer::Ask {
        blocking: true,
        complete: true,
    };
    let (_, outcomes) = drive(CAPS, false, &[incomplete, complete]);
    assert_eq!(outcomes, vec![Outcome::Asked(question(true))]);
}

#[test]
fn a_pass_with_failed_items_counts_as_a_pass_unless_the_review_is_strict() {
    use Answer::*;
    // implement, verify, spec review (a pass listing an item), ...
    let answers = [Ok, Ok, PassWithItems];
    let (snapshots, outcomes) = drive(CAPS, false, &answers);
    assert_eq!(snapshots[2].event_type, EventType::SpecReviewPass);
    assert_eq!(outcomes, vec![Outcome::Done]);

    let (snapshots, outcomes, requests) = drive_all(CAPS, false, true, &answers);
    use EventType::*;
    assert_eq!(
        types(&snapshots),
        vec![
            SessionStart,
            ImplementDone,
            SpecReviewFail,
            SpecFixApplied,
            SpecReviewPass,
            QualityReviewPass,
            SessionDone
        ]
    );
    assert_eq!(snapshots[2].failed_items, vec!["minor item"]);
    let fix = requests.iter().find_map(|r| match r {
        Action::RunAgent { fix: Some(fix), .. } => Some(fix),
        _ => None,
    });
    assert_eq!(fix.unwrap().failed_items, vec!["minor item"]);
    assert_eq!(requests.last(), Some(&Action::RunFreshVerify));
    assert_eq!(outcomes, vec![Outcome::Done]);
}

#[test]
fn a_strict_review_fails_when_the_fresh_worktree_verification_fails() {
    use Answer::*;
    // implement, verify, spec review, quality review, final verify, fresh-worktree verify
    let (snapshots, outcomes, _) = drive_all(CAPS, false, true, &[Ok, Ok, Ok, Ok, Ok, Bad]);
    let last = snapshots.last().unwrap();
    assert_eq!(last.event_type, EventType::VerifyFailed);
    let reason = "fresh-worktree verification failed: verify exited with code 1: sh t.sh";
    assert_eq!(last.failed_items, vec![reason]);
    assert_eq!(
        outcomes,
        vec![Outcome::VerifyFailed {
            reason: reason.into()
        }]
    );
}

#[test]
fn a_strict_mark_is_used_up_only_by_reviews_that_ran_to_an_end() {
    let (_, outcomes) = drive(CAPS, false, &[]);
    assert!(outcomes[0].reviews_completed());
    let (_, outcomes) = drive(CAPS, false, &[Answer::Crash]);
    assert!(!outcomes[0].reviews_completed());
    let ask = Answer::Ask {
        blocking: true,
        complete: true,
    };
    let (_, outcomes) = drive(CAPS, false, &[ask]);
    assert!(!outcomes[0].reviews_completed());
}

/// The requests for a reviewer's turn among `requests`.
fn reviews(requests: &[Action]) -> usize {
    let reviewing = |r: &&Action| {
        matches!(
            r,
            Action::RunAgent {
                role: Role::SpecReviewer | Role::QualityReviewer,
                ..
            }
        )
    };
    requests.iter().filter(reviewing).count()
}

#[test]
fn an_implementer_that_changes_nothing_fails_the_session_before_any_review() {
    let (snapshots, outcomes, requests) = drive_all(CAPS, false, false, &[Answer::NoChange]);
    use EventType::*;
    assert_eq!(types(&snapshots), vec![SessionStart, SessionError]);
    assert_eq!(snapshots[1].failed_items, vec![NO_CHANGE]);
    assert_eq!(
        outcomes,
        vec![Outcome::Error {
            message: NO_CHANGE.into()
        }]
    );
    assert_eq!(reviews(&requests), 0, "{requests:?}");
    assert!(!requests.contains(&Action::RunVerify), "{requests:?}");
}

#[test]
fn a_fixer_or_reviewer_that_takes_the_whole_change_back_ends_the_session() {
    use Answer::*;
    // implement, verify, spec review (fail), fix (takes everything back)
    let (snapshots, outcomes, requests) = drive_all(CAPS, false, false, &[Ok, Ok, Bad, NoChange]);
    assert_eq!(snapshots.last().unwrap().failed_items, vec![NO_CHANGE]);
    assert_eq!(reviews(&requests), 1, "no review of an empty change");
    assert!(matches!(&outcomes[0], Outcome::Error { message } if message == NO_CHANGE));

    // implement, verify, spec review (takes everything back and passes)
    let (snapshots, outcomes, requests) = drive_all(CAPS, false, false, &[Ok, Ok, NoChange]);
    assert_eq!(
        snapshots.last().unwrap().event_type,
        EventType::SessionError
    );
    assert_eq!(
        reviews(&requests),
        1,
        "no quality review of an empty change"
    );
    assert!(matches!(&outcomes[0], Outcome::Error { message } if message == NO_CHANGE));
}

#[test]
fn a_blocking_question_before_any_change_still_blocks() {
    let ask = Answer::Ask {
        blocking: true,
        complete: true,
    };
    let answer = answer(
        &Action::RunAgent {
            role: Role::Implementer,
            fix: None,
        },
        ask,
        Timestamp::from_unix_micros(0),
    );
    let Input::Asked { asked, .. } = answer else {
        panic!("an implementer's question: {answer:?}");
    };
    let no_change = Input::Asked {
        asked,
        code_changed_at: None,
        branch_changed: false,
    };
    let ids = SessionIds {
        session_id: "s-1".into(),
        orchestrator_id: "o".into(),
        issue_id: IssueId::generate(9),
    };
    let now = Timestamp::from_unix_micros(1);
    let (session, _) = Session::new(ids, CAPS, false).step(Input::Started, now);
    let (_, actions) = session.step(no_change, now);
    assert_eq!(
        actions,
        vec![Action::Finish(Outcome::Asked(question(true)))]
    );
}
