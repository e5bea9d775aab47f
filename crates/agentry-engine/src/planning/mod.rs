//! The planner framework: a [`Planner`] turns typed parameters (a goal, or an issue to split)
//! into a plan that meets `planner.contract.v1`. [`run`] wraps every planner the same way:
//! it checks the parameters, refuses to start when a step's template is missing, records the
//! run in the store (started, then completed or failed, with its duration and attempts),
//! logs it, and keeps a transcript of what was asked and answered.
//!
//! The planners: [`GoalPlanner`] and [`ReplanPlanner`] ask the model agent `planning.agent`
//! names; [`PassThrough`] stands in for both while `planning.enabled` is off (one issue, as
//! written, no model). [`apply`] makes issues of a plan.

mod apply;
mod model;
mod pass_through;
mod requests;
mod transcript;

use std::future::Future;
use std::path::PathBuf;
use std::time::Instant;

use agentry_core::Timestamp;
use agentry_lean::contract::{Plan, Rejection};
use agentry_store::planner::{PlannerOutcome, PlannerRunEnd};
use agentry_store::{Store, StoreError};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::prompts::Prompts;

pub use apply::{ApplyError, apply, apply_replan};
pub use model::{GoalParams, GoalPlanner, PlanModel, ReplanParams, ReplanPlanner};
pub use pass_through::PassThrough;
pub use requests::{PlanReport, Planning, PlanningError};
pub use transcript::{TRANSCRIPTS_DIR, Transcript};

/// What a planner is: its name, what it can do, and its steps with the templates they use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannerMetadata {
    pub name: &'static str,
    /// Capability tags, e.g. `goal`, `replan`, `model`.
    pub capabilities: &'static [&'static str],
    pub steps: Vec<StepDescriptor>,
}

/// One step of a planner and the prompt template it renders, if it renders one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepDescriptor {
    pub name: &'static str,
    pub template: Option<&'static str>,
}

/// Turns parameters of type `P` into a plan.
pub trait Planner<P: Serialize + Sync>: Sync {
    fn metadata(&self) -> PlannerMetadata;

    /// Whether `params` can be planned; the reason when they cannot.
    fn check(&self, params: &P) -> Result<(), String>;

    /// Makes the plan, recording each model attempt in `attempts`.
    fn plan(
        &self,
        params: &P,
        attempts: &mut Attempts<'_>,
    ) -> impl Future<Output = Result<Plan, String>> + Send;
}

/// What a run needs around its planner.
pub struct PlanningEnv<'a> {
    pub store: &'a dyn Store,
    pub prompts: &'a Prompts,
    /// Where transcripts go (`.agentry/transcripts` in the repository).
    pub transcripts: PathBuf,
    /// Fires to stop the run; it then ends `Cancelled`.
    pub cancel: CancellationToken,
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{planner}: {reason}")]
    Params {
        planner: &'static str,
        reason: String,
    },
    #[error("{planner}: step {step} needs the prompt template {template:?}, which is missing")]
    MissingTemplate {
        planner: &'static str,
        step: &'static str,
        template: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A finished run: what the CLI prints and the API answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanRun {
    pub run_id: i64,
    pub planner: &'static str,
    pub outcome: PlannerOutcome,
    /// Answers asked of the model (0 for the pass-through planner).
    pub attempts: u32,
    #[serde(rename = "durationMs")]
    pub duration_ms: u64,
    pub plan: Option<Plan>,
    /// Why the run failed: the model's error, or each rejection of its last answer.
    pub errors: Vec<String>,
}

/// The running count of model attempts, with the transcript and the store to record them.
pub struct Attempts<'a> {
    pub run_id: i64,
    pub planner: &'static str,
    store: &'a dyn Store,
    pub prompts: &'a Prompts,
    transcript: Transcript,
    count: u32,
    rejected: u32,
    /// The rejections of the last answer, when it was rejected.
    last_errors: Vec<String>,
}

impl Attempts<'_> {
    /// Records one answer and its check: a transcript line and, when the contract rejected
    /// it, one contract failure labelled with the first rejection's reason.
    pub fn record(
        &mut self,
        prompt: &str,
        answer: &str,
        rejections: &[Rejection],
    ) -> Result<(), StoreError> {
        self.count += 1;
        self.transcript
            .attempt(self.planner, self.count, prompt, answer, rejections);
        self.last_errors = rejections.iter().map(Rejection::to_string).collect();
        if let Some(first) = rejections.first() {
            self.rejected += 1;
            let reason = first.reason.as_str();
            tracing::warn!(
                operation = "plan",
                planner = self.planner,
                run_id = self.run_id,
                attempt = self.count,
                reason,
                "the contract rejected the plan"
            );
            self.store
                .record_contract_failure(self.run_id, reason, Timestamp::now())?;
        }
        Ok(())
    }

    /// Records a model call that gave no answer.
    pub fn record_failed_call(&mut self, prompt: &str, error: &str) {
        self.count += 1;
        self.transcript
            .failed_call(self.planner, self.count, prompt, error);
        self.last_errors.clear();
    }
}

/// Runs `planner` on `params` (see the module's doc).
pub async fn run<P, T>(planner: &T, params: &P, env: &PlanningEnv<'_>) -> Result<PlanRun, PlanError>
where
    P: Serialize + Sync,
    T: Planner<P>,
{
    let name = check(planner, params, env.prompts)?;
    let params_json = serde_json::to_value(params).unwrap_or_default();
    let run_id = env
        .store
        .start_planner_run(name, &params_json, Timestamp::now())?;
    // Started and completed are debug: what a plan gives is its report, not the log.
    tracing::debug!(
        operation = "plan",
        planner = name,
        run_id,
        "planner run started"
    );
    let started = Instant::now();
    let mut attempts = Attempts {
        run_id,
        planner: name,
        store: env.store,
        prompts: env.prompts,
        transcript: Transcript::open(&env.transcripts, run_id),
        count: 0,
        rejected: 0,
        last_errors: Vec::new(),
    };
    let planned = tokio::select! {
        biased;
        () = env.cancel.cancelled() => None,
        planned = planner.plan(params, &mut attempts) => Some(planned),
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    let (outcome, plan, errors) = conclude(planned, &mut attempts);
    let end = PlannerRunEnd {
        outcome,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
        duration_ms,
        attempts: attempts.count,
    };
    env.store
        .finish_planner_run(run_id, &end, Timestamp::now())?;
    attempts.transcript.end(&end);
    log_end(name, run_id, &end);
    Ok(PlanRun {
        run_id,
        planner: name,
        outcome,
        attempts: attempts.count,
        duration_ms,
        plan,
        errors,
    })
}

/// The planner's name, once its parameters and templates are there.
fn check<P, T>(planner: &T, params: &P, prompts: &Prompts) -> Result<&'static str, PlanError>
where
    P: Serialize + Sync,
    T: Planner<P>,
{
    let metadata = planner.metadata();
    let name = metadata.name;
    planner.check(params).map_err(|reason| PlanError::Params {
        planner: name,
        reason,
    })?;
    match metadata
        .steps
        .iter()
        .find_map(|step| Some((step.name, step.template.filter(|t| !prompts.has(t))?)))
    {
        Some((step, template)) => Err(PlanError::MissingTemplate {
            planner: name,
            step,
            template,
        }),
        None => Ok(name),
    }
}

/// The outcome, the plan and the errors of what the planner gave (`None`: cancelled).
fn conclude(
    planned: Option<Result<Plan, String>>,
    attempts: &mut Attempts<'_>,
) -> (PlannerOutcome, Option<Plan>, Vec<String>) {
    match planned {
        None => (
            PlannerOutcome::Cancelled,
            None,
            vec!["the run was cancelled".to_string()],
        ),
        Some(Ok(plan)) if attempts.rejected > 0 => {
            (PlannerOutcome::Partial, Some(plan), Vec::new())
        }
        Some(Ok(plan)) => (PlannerOutcome::Success, Some(plan), Vec::new()),
        Some(Err(error)) => {
            let mut errors = vec![error];
            errors.append(&mut attempts.last_errors);
            (PlannerOutcome::Failed, None, errors)
        }
    }
}

fn log_end(planner: &str, run_id: i64, end: &PlannerRunEnd) {
    let (outcome, duration_ms) = (end.outcome, end.duration_ms);
    match end.outcome {
        PlannerOutcome::Success | PlannerOutcome::Partial => {
            tracing::debug!(operation = "plan", planner, run_id, duration_ms, %outcome, "planner run completed")
        }
        _ => {
            let error = end.error.as_deref().unwrap_or_default();
            tracing::warn!(operation = "plan", planner, run_id, duration_ms, %outcome, error, "planner run failed")
        }
    }
}

#[cfg(test)]
mod tests;
