//! Ops alerts: the conditions an operator is told about, and the rules for sending them to
//! webhooks — the options and their validation, routing, debouncing, SLO breaches and the
//! webhook body. Sending and recording are the engine's; here every rule takes the time in.

mod body;
mod config;
mod debounce;
mod plan;
mod route;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

pub use body::{WebhookAlert, WebhookBody};
pub use config::{AlertsConfig, AlertsConfigError, Route};
pub use debounce::{Debouncer, debounce_key, slo_breached};
pub use plan::{Planned, Verdict, batches, plan};
pub use route::Destination;

/// How bad a condition is; ordered, so that a minimum can be set.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Error,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown severity {0:?} (expected one of: info, warning, error)")]
pub struct SeverityParseError(pub String);

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = SeverityParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == s)
            .ok_or_else(|| SeverityParseError(s.to_string()))
    }
}

/// A raised condition. `id` names the condition (e.g. `backlog_stale`), so the same condition
/// raised again has the same id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub generated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_ordered_and_round_trip() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>().unwrap(), severity);
        }
        let err = "critical".parse::<Severity>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown severity \"critical\" (expected one of: info, warning, error)"
        );
    }
}
