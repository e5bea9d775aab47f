//! The planner used while planning is off: one issue, as written, and no model call.

use agentry_core::Priority;
use agentry_lean::DispatchPacket;
use agentry_lean::contract::{NAME_MAX, Plan, PlanStep};

use super::model::{check_goal, check_replannable};
use super::{Attempts, GoalParams, Planner, PlannerMetadata, ReplanParams, StepDescriptor};

/// Makes a one-step plan of its input, for the agent `agent` (the implementer's).
pub struct PassThrough {
    pub agent: String,
}

impl PassThrough {
    fn metadata() -> PlannerMetadata {
        PlannerMetadata {
            name: "pass_through",
            capabilities: &["goal", "replan"],
            steps: vec![StepDescriptor {
                name: "as_written",
                template: None,
            }],
        }
    }

    /// The step has no reason: its issue's body is the input alone.
    fn one_step(&self, title: &str, packet: DispatchPacket) -> Plan {
        Plan {
            confidence: 1.0,
            steps: vec![PlanStep {
                id: "s1".into(),
                title: title.into(),
                agent: self.agent.clone(),
                reason: String::new(),
                tools: Vec::new(),
                fallback_tools: Vec::new(),
                confidence: 1.0,
                parallel_group: None,
                depends_on: Vec::new(),
                packet,
            }],
        }
    }
}

impl Planner<GoalParams> for PassThrough {
    fn metadata(&self) -> PlannerMetadata {
        Self::metadata()
    }

    fn check(&self, params: &GoalParams) -> Result<(), String> {
        check_goal(&params.goal)
    }

    async fn plan(&self, params: &GoalParams, _: &mut Attempts<'_>) -> Result<Plan, String> {
        let goal = params.goal.trim();
        let packet = DispatchPacket {
            task: goal.to_string(),
            scope: Vec::new(),
            not_your_job: Vec::new(),
            done_when: Vec::new(),
            verify: Vec::new(),
            priority: Priority::default(),
        };
        Ok(self.one_step(&title_of(goal), packet))
    }
}

impl Planner<ReplanParams> for PassThrough {
    fn metadata(&self) -> PlannerMetadata {
        Self::metadata()
    }

    fn check(&self, params: &ReplanParams) -> Result<(), String> {
        check_replannable(&params.issue)
    }

    async fn plan(&self, params: &ReplanParams, _: &mut Attempts<'_>) -> Result<Plan, String> {
        let issue = &params.issue;
        let packet = DispatchPacket {
            task: match issue.body.is_empty() {
                true => issue.title.clone(),
                false => issue.body.clone(),
            },
            scope: issue.scope.clone(),
            not_your_job: issue.not_your_job.clone(),
            done_when: issue.done_when.clone(),
            verify: issue.verify.clone(),
            priority: issue.priority,
        };
        Ok(self.one_step(&issue.title, packet))
    }
}

/// The goal's first non-blank line, cut to a title's length.
fn title_of(goal: &str) -> String {
    let first = goal.lines().map(str::trim).find(|line| !line.is_empty());
    first.unwrap_or(goal).chars().take(NAME_MAX).collect()
}
