//! Recommended actions, computed from [`Conditions`]. The four lean-orchestration messages
//! are word for word those of the runbook (seeds/000).

use super::{Conditions, OVERFLOW_BASELINE, OVERFLOW_MIN_SESSIONS};

/// The prefix of the actions that stop the run guard.
pub const INVESTIGATE: &str = "Investigate";

/// The action when nothing else applies.
pub const MONITOR_HEALTHY: &str =
    "Monitor telemetry to confirm queues stay healthy as traffic ramps.";

/// True when an action asks a person to investigate before agentry dispatches more work.
pub fn needs_investigation(actions: &[String]) -> bool {
    actions.iter().any(|action| action.starts_with(INVESTIGATE))
}

/// Investigate, then enable, then monitor; the healthy monitor line only when nothing else
/// applies.
pub fn recommended_actions(conditions: &Conditions) -> Vec<String> {
    let mut actions = investigate(conditions);
    actions.extend(enable(conditions));
    actions.extend(monitor(conditions));
    if actions.is_empty() {
        actions.push(MONITOR_HEALTHY.to_string());
    }
    actions
}

fn investigate(c: &Conditions) -> Vec<String> {
    let mut actions = Vec::new();
    if let (true, Some(error)) = (c.plan_rewrite.enabled, &c.plan_rewrite.last_error) {
        actions.push(format!("Investigate recent plan rewrite error: {error}"));
    }
    if let (true, Some(error)) = (c.field_fallback.enabled, &c.field_fallback.last_error) {
        actions.push(format!("Investigate recent field fallback error: {error}"));
    }
    for e in &c.repeated_errors {
        actions.push(format!(
            "Investigate repeated SESSION_ERROR on {}: its last {} sessions failed ({})",
            e.issue_id, e.errors, e.reason
        ));
    }
    if let Some(rate) = overflow_rate(c) {
        actions.push(format!(
            "Investigate overflow rate: {:.0}% of the last 24 hours' sessions overflowed into [FIX] issues (baseline {:.0}%)",
            rate * 100.0,
            OVERFLOW_BASELINE * 100.0
        ));
    }
    if let Some(first) = c.snapshot_errors.first() {
        actions.push(format!(
            "Investigate snapshot validation errors ({}): {first}",
            c.snapshot_errors.len()
        ));
    }
    for lease in &c.stale_leases {
        actions.push(format!(
            "Investigate stale lease on {}: session {} stopped renewing it at {}; `agentry recover` puts the issue back",
            lease.issue_id, lease.session_id, lease.lease_until
        ));
    }
    for agent in &c.failing_agents {
        actions.push(format!(
            "Investigate agent {}: its last {} runs failed ({})",
            agent.agent, agent.failed_runs, agent.error
        ));
    }
    actions
}

/// The overflow rate of the window, when it is above the baseline on enough sessions.
fn overflow_rate(c: &Conditions) -> Option<f64> {
    let ended = c.sessions.ended();
    if ended < OVERFLOW_MIN_SESSIONS {
        return None;
    }
    let rate = f64::from(c.sessions.overflowed) / f64::from(ended);
    (rate > OVERFLOW_BASELINE).then_some(rate)
}

fn enable(c: &Conditions) -> Vec<String> {
    let mut actions = Vec::new();
    if !c.plan_rewrite.enabled {
        actions.push(
            "Enable lean plan rewrite when ready to exercise the hybrid planner.".to_string(),
        );
    }
    if !c.field_fallback.enabled {
        actions.push(
            "Enable lean field fallback to provide last-chance coverage for required fields."
                .to_string(),
        );
    }
    actions
}

fn monitor(c: &Conditions) -> Vec<String> {
    let mut actions: Vec<String> = c
        .paused_agents
        .iter()
        .map(|pause| {
            format!(
                "Monitor agent {}: paused by its provider's rate limit until {}",
                pause.agent, pause.until
            )
        })
        .collect();
    if let Some(budget) = &c.budget_spent {
        actions.push(format!(
            "Monitor spending: today's agent cost ${:.2} reached the per-day budget ${:.2}; no session starts until 00:00 UTC",
            budget.spent_usd, budget.limit_usd
        ));
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{
        AgentFailure, AgentPause, BudgetSpent, LeanFeature, RepeatedError, SessionCounts,
        StaleLease,
    };
    use crate::{IssueId, Timestamp};

    fn on() -> LeanFeature {
        LeanFeature {
            enabled: true,
            last_error: None,
        }
    }

    #[test]
    fn nothing_to_do_means_monitor() {
        let c = Conditions {
            plan_rewrite: on(),
            field_fallback: on(),
            ..Conditions::default()
        };
        assert_eq!(recommended_actions(&c), [MONITOR_HEALTHY]);
        assert!(!needs_investigation(&recommended_actions(&c)));
    }

    #[test]
    fn the_lean_messages_are_the_runbooks_words() {
        let disabled = recommended_actions(&Conditions::default());
        assert_eq!(
            disabled,
            [
                "Enable lean plan rewrite when ready to exercise the hybrid planner.",
                "Enable lean field fallback to provide last-chance coverage for required fields."
            ]
        );
        let failing = |error: &str| LeanFeature {
            enabled: true,
            last_error: Some(error.into()),
        };
        let c = Conditions {
            plan_rewrite: failing("req-1 timed out"),
            field_fallback: failing("req-2: 500"),
            ..Conditions::default()
        };
        assert_eq!(
            recommended_actions(&c),
            [
                "Investigate recent plan rewrite error: req-1 timed out",
                "Investigate recent field fallback error: req-2: 500"
            ]
        );
        // A disabled feature's old error is not investigated.
        let c = Conditions {
            plan_rewrite: LeanFeature {
                enabled: false,
                last_error: Some("old".into()),
            },
            field_fallback: on(),
            ..Conditions::default()
        };
        assert!(!needs_investigation(&recommended_actions(&c)));
    }

    #[test]
    fn investigate_comes_before_enable_before_monitor() {
        let at = Timestamp::from_unix_micros(0);
        let issue: IssueId = "i-1".parse().unwrap();
        let c = Conditions {
            paused_agents: vec![AgentPause {
                agent: "claude".into(),
                until: at,
            }],
            budget_spent: Some(BudgetSpent {
                spent_usd: 5.0,
                limit_usd: 5.0,
            }),
            repeated_errors: vec![RepeatedError {
                issue_id: issue.clone(),
                errors: 3,
                reason: "agent crashed".into(),
            }],
            stale_leases: vec![StaleLease {
                issue_id: issue,
                session_id: "s".into(),
                lease_until: at,
            }],
            failing_agents: vec![AgentFailure {
                agent: "codex".into(),
                failed_runs: 3,
                error: "spawn failed".into(),
            }],
            sessions: SessionCounts {
                done: 2,
                overflowed: 2,
                ..SessionCounts::default()
            },
            snapshot_errors: vec!["event 7: attempts must be non-negative".into()],
            ..Conditions::default()
        };
        let actions = recommended_actions(&c);
        let kinds: Vec<&str> = actions
            .iter()
            .map(|a| a.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "Investigate",
                "Investigate",
                "Investigate",
                "Investigate",
                "Investigate",
                "Enable",
                "Enable",
                "Monitor",
                "Monitor"
            ]
        );
    }

    #[test]
    fn overflow_needs_enough_sessions_above_the_baseline() {
        let with = |done, overflowed| Conditions {
            plan_rewrite: on(),
            field_fallback: on(),
            sessions: SessionCounts {
                done,
                overflowed,
                ..SessionCounts::default()
            },
            ..Conditions::default()
        };
        assert!(!needs_investigation(&recommended_actions(&with(0, 3))));
        assert!(!needs_investigation(&recommended_actions(&with(3, 1))));
        let actions = recommended_actions(&with(2, 2));
        assert!(
            actions[0].contains("50% of the last 24 hours"),
            "{actions:?}"
        );
    }
}
