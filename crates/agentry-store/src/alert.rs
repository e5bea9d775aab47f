//! The ops alert history: what happened to each alert a publisher was given.

use std::fmt;
use std::str::FromStr;

use agentry_core::Timestamp;
use agentry_core::alerts::Severity;
use serde::Serialize;

/// What became of an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOutcome {
    Sent,
    Failed,
    /// Sent to the same destination within the debounce window.
    Debounced,
    /// Below the severity filter, or no webhook for it.
    Filtered,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown alert outcome {0:?}")]
pub struct AlertOutcomeParseError(String);

impl AlertOutcome {
    pub const ALL: [AlertOutcome; 4] = [
        AlertOutcome::Sent,
        AlertOutcome::Failed,
        AlertOutcome::Debounced,
        AlertOutcome::Filtered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertOutcome::Sent => "sent",
            AlertOutcome::Failed => "failed",
            AlertOutcome::Debounced => "debounced",
            AlertOutcome::Filtered => "filtered",
        }
    }
}

impl fmt::Display for AlertOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for AlertOutcome {
    type Err = AlertOutcomeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertOutcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == s)
            .ok_or_else(|| AlertOutcomeParseError(s.to_string()))
    }
}

/// One entry of the alert history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    /// Given by the store; ignored by `record_alert`.
    pub id: i64,
    pub alert_id: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    /// `alert:ID`, `severity:SEVERITY` or `default`.
    pub route_key: String,
    /// Empty when no route had a webhook for the alert.
    pub webhook_url: String,
    pub routing_key: String,
    pub outcome: AlertOutcome,
    /// HTTP requests made: 0 unless sent or failed.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub slo_breached: bool,
    pub created_at: Timestamp,
}
