//! The planner health report (seeds/003): its planners' steps and their templates, the
//! backlog, recent failures, the alerts they raise and an overall status — Critical for a
//! missing or inactive template, Degraded for anything else raised, Healthy otherwise.

use serde::Serialize;

use crate::alerts::{Alert, Severity};
use crate::{IssueId, Timestamp};

/// A ready backlog whose oldest issue has waited this long is stale.
pub const BACKLOG_STALE_SECS: f64 = 2.0 * 3600.0;
/// Failures counted over this window.
pub const FAILURE_WINDOW_SECS: i64 = 24 * 3600;
/// An issue put back in the queue this many times is flapping.
pub const FLAPPING_RETURNS: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PlannerStatus {
    Healthy,
    Degraded,
    Critical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannerSteps {
    pub name: String,
    pub steps: Vec<StepTemplate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepTemplate {
    pub step: String,
    pub template: String,
    pub template_found: bool,
    pub template_active: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backlog {
    pub ready: usize,
    pub oldest_ready_age_s: Option<f64>,
    /// Issues put back in the queue at least [`FLAPPING_RETURNS`] times in the window.
    pub flapping: Vec<IssueId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlannerTelemetry {
    /// Sessions that ended in `SESSION_ERROR` within the failure window.
    pub recent_failures: u32,
    /// Plans the contract rejected.
    pub contract_failures: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannerReport {
    pub generated_at: Timestamp,
    pub status: PlannerStatus,
    pub planners: Vec<PlannerSteps>,
    pub backlog: Backlog,
    pub telemetry: PlannerTelemetry,
    pub alerts: Vec<Alert>,
    pub warnings: Vec<String>,
}

impl PlannerReport {
    pub fn new(
        generated_at: Timestamp,
        planners: Vec<PlannerSteps>,
        backlog: Backlog,
        telemetry: PlannerTelemetry,
    ) -> Self {
        let raised = [
            template_alerts(&planners),
            backlog_alerts(&backlog),
            telemetry_alerts(&telemetry),
        ]
        .concat();
        let critical = raised
            .iter()
            .any(|(_, severity, _, _)| *severity == Severity::Error);
        let status = match (critical, raised.is_empty()) {
            (true, _) => PlannerStatus::Critical,
            (false, false) => PlannerStatus::Degraded,
            (false, true) => PlannerStatus::Healthy,
        };
        let warnings = raised.iter().map(|(_, _, _, d)| d.clone()).collect();
        let alerts = raised
            .into_iter()
            .map(|(id, severity, title, description)| Alert {
                id: id.to_string(),
                severity,
                title: title.to_string(),
                description,
                generated_at,
            })
            .collect();
        PlannerReport {
            generated_at,
            status,
            planners,
            backlog,
            telemetry,
            alerts,
            warnings,
        }
    }
}

type Raised = (&'static str, Severity, &'static str, String);

fn template_alerts(planners: &[PlannerSteps]) -> Vec<Raised> {
    let mut raised = Vec::new();
    for planner in planners {
        for step in &planner.steps {
            let (id, title, what) = match (step.template_found, step.template_active) {
                (false, _) => (
                    "planner_template_missing",
                    "A planner template is missing",
                    "missing",
                ),
                (true, false) => (
                    "planner_template_inactive",
                    "A planner template is inactive",
                    "inactive",
                ),
                (true, true) => continue,
            };
            let description = format!(
                "planner {} step {}: template {} is {what}",
                planner.name, step.step, step.template
            );
            raised.push((id, Severity::Error, title, description));
        }
    }
    raised
}

fn backlog_alerts(backlog: &Backlog) -> Vec<Raised> {
    let mut raised = Vec::new();
    if let Some(age) = backlog
        .oldest_ready_age_s
        .filter(|age| *age >= BACKLOG_STALE_SECS)
    {
        let description = format!(
            "the oldest of {} ready issues has waited {:.1} hours (stale after {:.0})",
            backlog.ready,
            age / 3600.0,
            BACKLOG_STALE_SECS / 3600.0
        );
        raised.push((
            "planner_backlog_stale",
            Severity::Warning,
            "The backlog is stale",
            description,
        ));
    }
    if !backlog.flapping.is_empty() {
        let ids: Vec<String> = backlog.flapping.iter().map(ToString::to_string).collect();
        let description = format!(
            "put back in the queue {FLAPPING_RETURNS} or more times in 24 hours: {}",
            ids.join(", ")
        );
        raised.push((
            "planner_backlog_flapping",
            Severity::Warning,
            "Issues are flapping",
            description,
        ));
    }
    raised
}

fn telemetry_alerts(telemetry: &PlannerTelemetry) -> Vec<Raised> {
    let mut raised = Vec::new();
    if telemetry.recent_failures > 0 {
        let description = format!(
            "{} sessions failed in the last 24 hours",
            telemetry.recent_failures
        );
        raised.push((
            "planner_recent_failures",
            Severity::Warning,
            "Recent failures",
            description,
        ));
    }
    if telemetry.contract_failures > 0 {
        let description = format!(
            "{} plans were rejected by the contract",
            telemetry.contract_failures
        );
        raised.push((
            "planner_contract_drift",
            Severity::Warning,
            "Plans drift from the contract",
            description,
        ));
    }
    raised
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planner(found: bool, active: bool) -> Vec<PlannerSteps> {
        vec![PlannerSteps {
            name: "session".into(),
            steps: vec![StepTemplate {
                step: "implement".into(),
                template: "implementer.md".into(),
                template_found: found,
                template_active: active,
            }],
        }]
    }

    fn report(planners: Vec<PlannerSteps>, backlog: Backlog, failures: u32) -> PlannerReport {
        let telemetry = PlannerTelemetry {
            recent_failures: failures,
            contract_failures: 0,
        };
        PlannerReport::new(Timestamp::from_unix_micros(0), planners, backlog, telemetry)
    }

    #[test]
    fn each_status_is_reached() {
        let healthy = report(planner(true, true), Backlog::default(), 0);
        assert_eq!(
            (healthy.status, healthy.alerts.len()),
            (PlannerStatus::Healthy, 0)
        );

        let stale = Backlog {
            ready: 3,
            oldest_ready_age_s: Some(BACKLOG_STALE_SECS),
            flapping: vec!["i-1".parse().unwrap()],
        };
        let degraded = report(planner(true, true), stale, 2);
        let ids: Vec<&str> = degraded.alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(degraded.status, PlannerStatus::Degraded);
        assert_eq!(
            ids,
            [
                "planner_backlog_stale",
                "planner_backlog_flapping",
                "planner_recent_failures"
            ]
        );

        let inactive = report(planner(true, false), Backlog::default(), 0);
        assert_eq!(inactive.status, PlannerStatus::Critical);
        assert_eq!(inactive.alerts[0].id, "planner_template_inactive");
        let missing = report(planner(false, false), Backlog::default(), 0);
        assert_eq!(missing.alerts[0].id, "planner_template_missing");
        assert_eq!(
            missing.warnings,
            ["planner session step implement: template implementer.md is missing"]
        );
    }
}
