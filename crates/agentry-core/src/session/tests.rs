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
    Crash,
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
    let ids = SessionIds {
        session_id: "s-1".into(),
        orchestrator_id: "o".into(),
        issue_id: IssueId::generate(9),
    };
    let mut session = Session::new(ids, caps, escalate);
    let mut clock = 0;
    let mut next_input = Some(Input::Started);
    let (mut snapshots, mut outcomes) = (Vec::new(), Vec::new());
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
                request => next_input = Some(answer(&request, answers.next().unwrap(), now)),
            }
        }
    }
    assert!(session.is_finished());
    (snapshots, outcomes)
}

fn answer(request: &Action, answer: Answer, now: Timestamp) -> Input {
    if let Answer::Crash = answer {
        return Input::Failed {
            error: "boom".into(),
        };
    }
    let ok = matches!(answer, Answer::Ok);
    match request {
        Action::RunAgent {
            role: Role::SpecReviewer | Role::QualityReviewer,
            ..
        } => Input::Reviewed {
            verdict: verdict(ok),
            code_changed_at: None,
        },
        Action::RunAgent { .. } => Input::AgentDone {
            code_changed_at: Some(now),
        },
        Action::RunVerify => Input::Verified(VerifyEvidence {
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
    let one = prop_oneof![6 => Just(Answer::Ok), 3 => Just(Answer::Bad), 1 => Just(Answer::Crash)];
    prop::collection::vec(one, 0..40)
}

proptest! {
    #[test]
    fn every_session_keeps_the_loop_rules(answers in answers(), spec in 1u32..5, quality in 1u32..4, escalate: bool) {
        let caps = Caps { spec, quality };
        let (snapshots, outcomes) = drive(caps, escalate, &answers);
        let terminal: Vec<_> = snapshots.iter().filter(|s| TERMINAL.contains(&s.event_type)).collect();
        prop_assert_eq!(terminal.len(), 1, "exactly one terminal event: {:?}", types(&snapshots));
        prop_assert!(TERMINAL.contains(&snapshots.last().unwrap().event_type), "the terminal event is the last");
        prop_assert_eq!(outcomes.len(), 1);
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
