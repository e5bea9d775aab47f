//! `plan` and `replan` as the CLI and the API ask for them: the planner the flags choose
//! (the model's while `planning.enabled` is on, else the pass-through), its run, and with
//! `apply` the issues made of its plan.

use std::path::Path;

use agentry_core::config::Config;
use agentry_core::flags::Flag;
use agentry_core::{IssueId, Timestamp};
use agentry_store::{Store, StoreError};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{
    ApplyError, GoalParams, GoalPlanner, PassThrough, PlanError, PlanModel, PlanRun, PlanningEnv,
    ReplanParams, ReplanPlanner, TRANSCRIPTS_DIR, apply, apply_replan,
};
use crate::prompts::Prompts;

/// What a planning request needs from the project.
pub struct Planning<'a> {
    pub store: &'a dyn Store,
    pub config: &'a Config,
    /// The repository root.
    pub root: &'a Path,
    pub prompts: &'a Prompts,
    pub cancel: CancellationToken,
}

/// A run and the issues made of its plan (none unless applied).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanReport {
    #[serde(flatten)]
    pub run: PlanRun,
    pub applied: bool,
    pub created: Vec<IssueId>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    /// Planning is on but no model agent can be built.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Refused(#[from] PlanError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Planning<'_> {
    /// Plans `goal`; with `apply`, creates the plan's issues.
    pub async fn plan(&self, goal: String, apply_plan: bool) -> Result<PlanReport, PlanningError> {
        let params = GoalParams { goal };
        let run = match self.model()? {
            Some(model) => super::run(&GoalPlanner { model }, &params, &self.env()).await?,
            None => super::run(&self.pass_through(), &params, &self.env()).await?,
        };
        let created = match (&run.plan, apply_plan) {
            (Some(plan), true) => apply(self.store, plan, Timestamp::now())?,
            _ => Vec::new(),
        };
        Ok(report(run, apply_plan, created))
    }

    /// Splits the issue `id`; with `apply`, creates the parts and blocks the issue.
    pub async fn replan(
        &self,
        id: &IssueId,
        reason: Option<String>,
        apply_plan: bool,
    ) -> Result<PlanReport, PlanningError> {
        let issue = self.store.issue(id)?;
        let params = ReplanParams { issue, reason };
        let run = match self.model()? {
            Some(model) => super::run(&ReplanPlanner { model }, &params, &self.env()).await?,
            None => super::run(&self.pass_through(), &params, &self.env()).await?,
        };
        let created = match (&run.plan, apply_plan) {
            (Some(plan), true) => apply_replan(
                self.store,
                plan,
                &params.issue,
                run.run_id,
                Timestamp::now(),
            )?,
            _ => Vec::new(),
        };
        Ok(report(run, apply_plan, created))
    }

    /// The model, while planning is on.
    fn model(&self) -> Result<Option<PlanModel>, PlanningError> {
        let flags = crate::status::flags(self.store, self.config)?;
        let enabled = flags
            .iter()
            .any(|flag| flag.name == Flag::PlanningEnabled.name() && flag.enabled);
        if !enabled {
            return Ok(None);
        }
        PlanModel::from_config(self.config, self.root)
            .map(Some)
            .map_err(PlanningError::Config)
    }

    fn pass_through(&self) -> PassThrough {
        PassThrough {
            agent: self.config.roles.implementer.clone(),
        }
    }

    fn env(&self) -> PlanningEnv<'_> {
        PlanningEnv {
            store: self.store,
            prompts: self.prompts,
            transcripts: self.root.join(TRANSCRIPTS_DIR),
            cancel: self.cancel.clone(),
        }
    }
}

fn report(run: PlanRun, applied: bool, created: Vec<IssueId>) -> PlanReport {
    PlanReport {
        applied: applied && run.plan.is_some(),
        run,
        created,
    }
}
