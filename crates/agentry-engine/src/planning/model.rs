//! The planners that ask a model: [`GoalPlanner`] splits a goal into issues, [`ReplanPlanner`]
//! splits an issue into smaller ones. Both render their template, ask the agent
//! `planning.agent` names, and check the answer against the contract; a rejected answer is
//! asked again with the rejections fed back, up to `planning.max_recursions` answers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentry_agents::{Agent, AgentRequest};
use agentry_core::config::Config;
use agentry_core::{Issue, IssueId, Role, Status};
use agentry_lean::contract::{self, ContractRules, Plan};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Attempts, Planner, PlannerMetadata, StepDescriptor};
use crate::sandbox::ReadingAgent;

/// The model agent and where it runs.
pub struct PlanModel {
    agent: Arc<dyn Agent>,
    sandbox: ReadingAgent,
    /// The repository root, the agent's working directory.
    workdir: PathBuf,
    /// The agents a step may name: every configured `[agents.NAME]`.
    agents: Vec<String>,
    max_answers: u32,
}

impl PlanModel {
    /// The agent `planning.agent` names; an error naming the key when none is set.
    pub fn from_config(config: &Config, root: &Path) -> Result<Self, String> {
        let name = &config.planning.agent;
        if name.is_empty() {
            return Err("planning.agent: planning is enabled but no model agent is set; name an [agents.NAME] (e.g. of kind openai) in planning.agent, or disable planning (PLANNING__ENABLED=false)".into());
        }
        let agent_config = config
            .agents
            .get(name)
            .ok_or_else(|| format!("planning.agent = {name:?} names no agent"))?;
        let agent = agentry_agents::build(name, agent_config, root)
            .map_err(|err| format!("planning.agent: {err}"))?;
        Ok(Self {
            agent,
            sandbox: ReadingAgent::new(config, agent_config, root),
            workdir: root.to_path_buf(),
            agents: config.agents.keys().cloned().collect(),
            max_answers: config.planning.max_recursions,
        })
    }

    /// The model's answer to `prompt`, or why there is none.
    async fn answer(
        &self,
        prompt: String,
        issue_id: IssueId,
        title: String,
    ) -> Result<String, String> {
        // Agents that take the prompt as a file get one here, removed after the call.
        let scratch = tempfile::tempdir().map_err(|err| format!("no scratch folder: {err}"))?;
        let prompt_file = scratch.path().join("prompt.md");
        let request = AgentRequest {
            role: Role::Implementer,
            session_id: format!("plan-{:016x}", fastrand::u64(..)),
            issue_id,
            issue_title: title,
            prompt,
            workdir: self.workdir.clone(),
            confinement: self.sandbox.confinement(&prompt_file)?,
            prompt_file,
        };
        let (events, _ignored) = mpsc::unbounded_channel();
        let outcome = self
            .agent
            .run(&request, &events, &CancellationToken::new())
            .await;
        match outcome.failure {
            Some(failure) => Err(format!(
                "the {} model agent failed: {}",
                self.agent.kind(),
                failure.describe()
            )),
            None => Ok(outcome.text),
        }
    }

    /// Asks until the contract accepts an answer, at most `max_answers` times. `context`
    /// gives the template's variables; `feedback` and `attempt` are added to them.
    async fn plan(
        &self,
        template: &str,
        context: Value,
        subject: (IssueId, String),
        attempts: &mut Attempts<'_>,
    ) -> Result<Plan, String> {
        let rules = ContractRules {
            agents: Some(&self.agents),
        };
        let mut feedback: Vec<String> = Vec::new();
        for attempt in 1..=self.max_answers {
            let mut vars = context.clone();
            vars["agents"] = json!(self.agents);
            vars["contract"] = json!(contract::describe());
            vars["feedback"] = json!(feedback);
            vars["attempt"] = json!(attempt);
            let prompt = attempts
                .prompts
                .render_named(template, &vars)
                .map_err(|err| err.to_string())?;
            let answer = match self
                .answer(prompt.clone(), subject.0.clone(), subject.1.clone())
                .await
            {
                Ok(answer) => answer,
                Err(error) => {
                    attempts.record_failed_call(&prompt, &error);
                    return Err(error);
                }
            };
            let checked = contract::read_plan(&answer, rules);
            let rejections = checked.as_ref().err().map_or(&[][..], Vec::as_slice);
            attempts
                .record(&prompt, &answer, rejections)
                .map_err(|err| err.to_string())?;
            match checked {
                Ok(plan) => return Ok(plan),
                Err(rejections) => feedback = rejections.iter().map(ToString::to_string).collect(),
            }
        }
        Err(format!(
            "the model's plan failed the {} contract {} times",
            contract::CONTRACT,
            self.max_answers
        ))
    }
}

/// A goal to plan.
#[derive(Clone, Debug, Serialize)]
pub struct GoalParams {
    pub goal: String,
}

/// An issue to split, and why.
#[derive(Clone, Debug, Serialize)]
pub struct ReplanParams {
    pub issue: Issue,
    pub reason: Option<String>,
}

/// Splits a goal into issues with the model (template `planner`).
pub struct GoalPlanner {
    pub model: PlanModel,
}

/// Splits an issue into smaller ones with the model (template `replan`).
pub struct ReplanPlanner {
    pub model: PlanModel,
}

impl GoalPlanner {
    /// The goal planner's metadata, which the planner health report lists too.
    pub fn metadata() -> PlannerMetadata {
        PlannerMetadata {
            name: "goal",
            capabilities: &["goal", "model", "depends_on"],
            steps: vec![StepDescriptor {
                name: "plan",
                template: Some("planner"),
            }],
        }
    }
}

impl ReplanPlanner {
    /// The replan planner's metadata, which the planner health report lists too.
    pub fn metadata() -> PlannerMetadata {
        PlannerMetadata {
            name: "replan",
            capabilities: &["replan", "model", "depends_on"],
            steps: vec![StepDescriptor {
                name: "split",
                template: Some("replan"),
            }],
        }
    }
}

impl Planner<GoalParams> for GoalPlanner {
    fn metadata(&self) -> PlannerMetadata {
        Self::metadata()
    }

    fn check(&self, params: &GoalParams) -> Result<(), String> {
        check_goal(&params.goal)
    }

    async fn plan(&self, params: &GoalParams, attempts: &mut Attempts<'_>) -> Result<Plan, String> {
        let subject = ("i-plan".parse().expect("a valid id"), "plan".to_string());
        let context = json!({"goal": params.goal});
        self.model.plan("planner", context, subject, attempts).await
    }
}

impl Planner<ReplanParams> for ReplanPlanner {
    fn metadata(&self) -> PlannerMetadata {
        Self::metadata()
    }

    fn check(&self, params: &ReplanParams) -> Result<(), String> {
        check_replannable(&params.issue)
    }

    async fn plan(
        &self,
        params: &ReplanParams,
        attempts: &mut Attempts<'_>,
    ) -> Result<Plan, String> {
        let issue = &params.issue;
        let subject = (issue.id.clone(), issue.title.clone());
        let context = json!({"issue": issue, "reason": params.reason.as_deref().unwrap_or("")});
        self.model.plan("replan", context, subject, attempts).await
    }
}

/// A goal must say something.
pub(super) fn check_goal(goal: &str) -> Result<(), String> {
    match goal.trim().is_empty() {
        true => Err("goal: must not be empty".into()),
        false => Ok(()),
    }
}

/// An issue can be split unless it is closed or a session works on it now.
pub(super) fn check_replannable(issue: &Issue) -> Result<(), String> {
    match issue.status {
        Status::Closed => Err(format!("{} is closed; there is nothing to split", issue.id)),
        Status::InProgress => Err(format!(
            "{} is in_progress; split it once its session ends",
            issue.id
        )),
        _ => Ok(()),
    }
}
