//! The JSON a webhook receives: camelCase, as the ops receivers of the origin expect.

use serde::{Deserialize, Serialize};

use super::{AlertsConfig, Planned, Severity};
use crate::Timestamp;

/// `{source, environment, routingKey, alerts[...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookBody {
    pub source: String,
    pub environment: String,
    pub routing_key: String,
    pub alerts: Vec<WebhookAlert>,
}

/// One alert of a webhook body; `sloMinutes` is null when the alert has no SLO threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookAlert {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub generated_at: Timestamp,
    pub slo_minutes: Option<i64>,
    pub slo_breached: bool,
}

impl WebhookBody {
    /// The body of one request: alerts that share a webhook and `routing_key`.
    pub fn new(config: &AlertsConfig, routing_key: &str, batch: &[&Planned]) -> Self {
        Self {
            source: config.source.clone(),
            environment: config.environment.clone(),
            routing_key: routing_key.to_string(),
            alerts: batch
                .iter()
                .map(|planned| WebhookAlert::of(planned))
                .collect(),
        }
    }
}

impl WebhookAlert {
    fn of(planned: &Planned) -> Self {
        let alert = &planned.alert;
        Self {
            id: alert.id.clone(),
            severity: alert.severity,
            title: alert.title.clone(),
            description: alert.description.clone(),
            generated_at: alert.generated_at,
            slo_minutes: planned.slo_minutes,
            slo_breached: planned.slo_breached,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::alerts::{Alert, Verdict};

    #[test]
    fn the_body_is_camel_case_with_slo_fields() {
        let config = AlertsConfig {
            source: "agentry".into(),
            environment: "staging".into(),
            ..AlertsConfig::default()
        };
        let planned = |id: &str, slo_minutes, slo_breached| Planned {
            alert: Alert {
                id: id.into(),
                severity: Severity::Error,
                title: "Backlog is stale".into(),
                description: "no issue moved for 2 h".into(),
                generated_at: "2026-05-01T10:00:00Z".parse().unwrap(),
            },
            destination: None,
            verdict: Verdict::Send,
            slo_minutes,
            slo_breached,
        };
        let (stale, other) = (
            planned("stale", Some(30), true),
            planned("other", None, false),
        );
        let body = WebhookBody::new(&config, "rk", &[&stale, &other]);
        let alert = |id: &str, minutes: serde_json::Value, breached: bool| {
            json!({
                "id": id, "severity": "error", "title": "Backlog is stale",
                "description": "no issue moved for 2 h",
                "generatedAt": "2026-05-01T10:00:00.000000Z",
                "sloMinutes": minutes, "sloBreached": breached
            })
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "source": "agentry", "environment": "staging", "routingKey": "rk",
                "alerts": [alert("stale", json!(30), true), alert("other", json!(null), false)]
            })
        );
    }
}
