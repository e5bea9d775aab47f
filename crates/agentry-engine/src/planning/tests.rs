use std::sync::atomic::{AtomicU32, Ordering};

use agentry_lean::contract::{Reason, read_plan};
use agentry_store::SqliteStore;
use agentry_store::planner::PlannerOutcome;

use super::*;

/// A planner whose step uses `template` and whose answers are `answers`, in turn.
struct Canned {
    template: &'static str,
    answers: Vec<&'static str>,
    calls: AtomicU32,
}

impl Canned {
    fn new(template: &'static str, answers: Vec<&'static str>) -> Self {
        Self {
            template,
            answers,
            calls: AtomicU32::new(0),
        }
    }
}

impl Planner<GoalParams> for Canned {
    fn metadata(&self) -> PlannerMetadata {
        PlannerMetadata {
            name: "canned",
            capabilities: &["goal"],
            steps: vec![StepDescriptor {
                name: "answer",
                template: Some(self.template),
            }],
        }
    }

    fn check(&self, params: &GoalParams) -> Result<(), String> {
        model::check_goal(&params.goal)
    }

    async fn plan(&self, _: &GoalParams, attempts: &mut Attempts<'_>) -> Result<Plan, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        for answer in &self.answers {
            let checked = read_plan(answer, Default::default());
            let rejections = checked.as_ref().err().cloned().unwrap_or_default();
            attempts
                .record("the prompt", answer, &rejections)
                .map_err(|e| e.to_string())?;
            if let Ok(plan) = checked {
                return Ok(plan);
            }
        }
        Err("no answer was accepted".into())
    }
}

const GOOD: &str = r#"```json
{"confidence": 0.9, "steps": [{"id": "s1", "title": "One", "agent": "a", "reason": "r",
 "tools": [], "fallback_tools": [], "confidence": 0.9, "depends_on": [],
 "packet": {"task": "t", "scope": ["x"], "not_your_job": ["y"], "done_when": ["z"],
 "verify": ["true"], "priority": 1}}]}
```"#;

struct Fixture {
    store: SqliteStore,
    prompts: Prompts,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let store = SqliteStore::in_memory().unwrap();
        let prompts =
            crate::templates::seeded_prompts(&store, None, Timestamp::from_unix_micros(0)).unwrap();
        Self {
            store,
            prompts,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn env(&self) -> PlanningEnv<'_> {
        PlanningEnv {
            store: &self.store,
            prompts: &self.prompts,
            transcripts: self.dir.path().join("transcripts"),
            cancel: CancellationToken::new(),
        }
    }
}

fn goal(text: &str) -> GoalParams {
    GoalParams { goal: text.into() }
}

#[tokio::test]
async fn a_missing_template_refuses_the_run_before_the_planner_is_asked() {
    let fixture = Fixture::new();
    let planner = Canned::new("no_such_template", vec![GOOD]);
    let err = run(&planner, &goal("g"), &fixture.env()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "canned: step answer needs the prompt template \"no_such_template\", which is missing"
    );
    assert_eq!(planner.calls.load(Ordering::SeqCst), 0);
    assert!(fixture.store.planner_run(1).is_err(), "no run is recorded");
}

#[tokio::test]
async fn bad_parameters_refuse_the_run() {
    let fixture = Fixture::new();
    let planner = Canned::new("planner", vec![GOOD]);
    let err = run(&planner, &goal("  "), &fixture.env())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "canned: goal: must not be empty");
    assert_eq!(planner.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_run_is_recorded_with_its_outcome_duration_and_transcript() {
    let fixture = Fixture::new();
    let planner = Canned::new("planner", vec!["garbage", GOOD]);
    let done = run(&planner, &goal("g"), &fixture.env()).await.unwrap();
    assert_eq!(done.outcome, PlannerOutcome::Partial);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.plan.unwrap().steps[0].title, "One");
    let recorded = fixture.store.planner_run(done.run_id).unwrap();
    assert_eq!(recorded.planner, "canned");
    assert_eq!(recorded.params, serde_json::json!({"goal": "g"}));
    let end = recorded.end.unwrap();
    assert_eq!((end.outcome, end.attempts), (PlannerOutcome::Partial, 2));
    let failures = fixture.store.contract_failures(None).unwrap();
    assert_eq!(failures.get(Reason::InvalidJson.as_str()), Some(&1));

    let path = fixture
        .dir
        .path()
        .join("transcripts")
        .join(format!("plan-{}.jsonl", done.run_id));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "two answers and the end");
    assert_eq!(lines[0]["response"], "garbage");
    assert_eq!(lines[0]["validation"]["accepted"], false);
    assert_eq!(
        lines[0]["validation"]["rejections"][0]["reason"],
        "invalid_json"
    );
    assert_eq!(lines[1]["validation"]["accepted"], true);
    assert_eq!(lines[2]["end"]["outcome"], "Partial");
}

#[tokio::test]
async fn a_transcript_that_cannot_be_written_does_not_fail_the_run() {
    let fixture = Fixture::new();
    // A regular file where the transcripts folder should be.
    std::fs::write(fixture.dir.path().join("transcripts"), "in the way").unwrap();
    let planner = Canned::new("planner", vec![GOOD]);
    let done = run(&planner, &goal("g"), &fixture.env()).await.unwrap();
    assert_eq!(done.outcome, PlannerOutcome::Success);
    assert!(done.plan.is_some());
}

#[tokio::test]
async fn garbage_every_time_fails_the_run_with_each_rejection_counted() {
    let fixture = Fixture::new();
    let planner = Canned::new("planner", vec!["no", "[1]", "{}"]);
    let done = run(&planner, &goal("g"), &fixture.env()).await.unwrap();
    assert_eq!(done.outcome, PlannerOutcome::Failed);
    assert!(done.plan.is_none());
    assert_eq!(done.errors[0], "no answer was accepted");
    assert!(
        done.errors[1].contains("missing_field"),
        "{:?}",
        done.errors
    );
    let failures = fixture.store.contract_failures(None).unwrap();
    assert_eq!(failures.values().sum::<u64>(), 3);
}

#[tokio::test]
async fn a_cancelled_run_ends_cancelled() {
    let fixture = Fixture::new();
    let env = fixture.env();
    env.cancel.cancel();
    let planner = Canned::new("planner", vec![GOOD]);
    let done = run(&planner, &goal("g"), &env).await.unwrap();
    assert_eq!(done.outcome, PlannerOutcome::Cancelled);
}
