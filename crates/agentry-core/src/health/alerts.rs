//! The ops alerts a status snapshot raises. Each condition has a fixed id, so the same
//! condition raised again debounces and its SLO clock keeps running.

use super::StatusSnapshot;
use crate::alerts::{Alert, Severity};

/// A ready issue waiting this long with no session on it is worth telling someone about.
pub const READY_WAIT_ALERT_SECS: f64 = 900.0;

/// Every alert the snapshot's conditions raise, most severe first.
pub fn raised_alerts(s: &StatusSnapshot) -> Vec<Alert> {
    let c = &s.conditions;
    let mut raised: Vec<(&str, Severity, String, String)> = Vec::new();
    for (id, title, feature) in [
        (
            "plan_rewrite_error",
            "Lean plan rewrite is failing",
            &c.plan_rewrite,
        ),
        (
            "field_fallback_error",
            "Lean field fallback is failing",
            &c.field_fallback,
        ),
    ] {
        if let (true, Some(error)) = (feature.enabled, &feature.last_error) {
            raised.push((id, Severity::Error, title.into(), error.clone()));
        }
    }
    if !c.repeated_errors.is_empty() {
        let issues: Vec<String> = c
            .repeated_errors
            .iter()
            .map(|e| format!("{} ({} in a row: {})", e.issue_id, e.errors, e.reason))
            .collect();
        let title = "Sessions fail repeatedly with SESSION_ERROR".to_string();
        raised.push((
            "session_errors_repeated",
            Severity::Error,
            title,
            issues.join("; "),
        ));
    }
    if !c.failing_agents.is_empty() {
        let agents: Vec<String> = c
            .failing_agents
            .iter()
            .map(|a| format!("{}: {}", a.agent, a.error))
            .collect();
        let title = "An agent backend is failing".to_string();
        raised.push(("agent_failing", Severity::Error, title, agents.join("; ")));
    }
    if let Some(first) = c.snapshot_errors.first() {
        let title = format!(
            "{} session snapshots fail validation",
            c.snapshot_errors.len()
        );
        raised.push(("snapshot_invalid", Severity::Error, title, first.clone()));
    }
    let investigate_overflow = s
        .recommended_actions
        .iter()
        .find(|a| a.starts_with("Investigate overflow rate"));
    if let Some(action) = investigate_overflow {
        let title = "Sessions overflow into [FIX] issues above the baseline".to_string();
        raised.push((
            "overflow_rate_high",
            Severity::Warning,
            title,
            action.clone(),
        ));
    }
    if !c.stale_leases.is_empty() {
        let ids: Vec<String> = c
            .stale_leases
            .iter()
            .map(|l| l.issue_id.to_string())
            .collect();
        let title = "Claims are held past their lease".to_string();
        raised.push(("stale_leases", Severity::Warning, title, ids.join(", ")));
    }
    if let Some(age) = s
        .queue
        .oldest_ready_age_s
        .filter(|a| *a >= READY_WAIT_ALERT_SECS)
    {
        let title = "A ready issue is waiting".to_string();
        let description = format!(
            "the oldest of {} ready issues has waited {:.0} minutes",
            s.queue.ready,
            age / 60.0
        );
        raised.push(("ready_issue_waiting", Severity::Warning, title, description));
    }
    if let Some(budget) = &c.budget_spent {
        let title = "The per-day budget is spent".to_string();
        let description = format!(
            "today's agent cost ${:.2} reached the budget ${:.2}; no session starts until 00:00 UTC",
            budget.spent_usd, budget.limit_usd
        );
        raised.push(("budget_spent", Severity::Warning, title, description));
    }
    for pause in &c.paused_agents {
        let title = format!("Agent {} is rate limited", pause.agent);
        let description = format!("no session starts until {}", pause.until);
        raised.push(("agent_rate_limited", Severity::Info, title, description));
    }
    raised.sort_by_key(|(_, severity, _, _)| std::cmp::Reverse(*severity));
    raised
        .into_iter()
        .map(|(id, severity, title, description)| Alert {
            id: id.to_string(),
            severity,
            title,
            description,
            generated_at: s.generated_at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::health::{BudgetSpent, Conditions, LeanFeature, OrchestratorStatus, QueueStatus};

    fn snapshot(conditions: Conditions, queue: QueueStatus) -> StatusSnapshot {
        let at = Timestamp::from_unix_micros(0);
        StatusSnapshot::new(
            at,
            OrchestratorStatus::default(),
            queue,
            vec![],
            vec![],
            vec![],
            conditions,
        )
    }

    #[test]
    fn a_healthy_snapshot_raises_nothing() {
        assert!(raised_alerts(&snapshot(Conditions::default(), QueueStatus::default())).is_empty());
    }

    #[test]
    fn conditions_raise_alerts_by_fixed_id_most_severe_first() {
        let conditions = Conditions {
            plan_rewrite: LeanFeature {
                enabled: true,
                last_error: Some("req-1: 500".into()),
            },
            budget_spent: Some(BudgetSpent {
                spent_usd: 10.0,
                limit_usd: 10.0,
            }),
            ..Conditions::default()
        };
        let queue = QueueStatus {
            ready: 2,
            oldest_ready_age_s: Some(1800.0),
            ..QueueStatus::default()
        };
        let alerts = raised_alerts(&snapshot(conditions, queue));
        let ids: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            ["plan_rewrite_error", "ready_issue_waiting", "budget_spent"]
        );
        assert_eq!(alerts[0].severity, Severity::Error);
        assert_eq!(
            alerts[1].description,
            "the oldest of 2 ready issues has waited 30 minutes"
        );
    }
}
