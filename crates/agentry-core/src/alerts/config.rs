//! The `[alerts]` options and the checks that refuse a broken set of them at start-up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Severity;

/// Where alerts go and how often. The top-level `webhook_url`/`routing_key` are the `default`
/// route; `routes` send some alerts elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    pub enabled: bool,
    pub webhook_url: String,
    pub routing_key: String,
    pub environment: String,
    pub source: String,
    /// An alert sent to a destination is not sent there again within this many seconds.
    pub debounce_window_secs: i64,
    /// Alerts below this severity are not sent.
    pub severity_filter: Severity,
    /// Seconds between health checks of a running orchestrator.
    pub check_interval_secs: u64,
    /// Keyed `alert:ID` or `severity:SEVERITY`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, Route>,
    /// Alert id → minutes it may stay raised before it is reported as breaching its SLO.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub slo_thresholds: BTreeMap<String, i64>,
}

/// A destination other than the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Route {
    pub webhook_url: String,
    pub routing_key: String,
}

/// A broken option, named by its full key (`alerts.routes.NAME.webhook_url`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{key}: {problem}")]
pub struct AlertsConfigError {
    pub key: String,
    pub problem: String,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            webhook_url: String::new(),
            routing_key: String::new(),
            environment: String::new(),
            source: "agentry".into(),
            debounce_window_secs: 300,
            severity_filter: Severity::Info,
            check_interval_secs: 60,
            routes: BTreeMap::new(),
            slo_thresholds: BTreeMap::new(),
        }
    }
}

impl AlertsConfig {
    /// Refuses a negative debounce window, an SLO threshold of 0 or less, a route that is not
    /// `alert:ID` or `severity:SEVERITY` or has no webhook, a URL that is not http(s), and
    /// alerts enabled with no webhook anywhere.
    pub fn validate(&self) -> Result<(), AlertsConfigError> {
        if self.debounce_window_secs < 0 {
            return Err(problem(
                "alerts.debounce_window_secs",
                format!("must be 0 or more, got {}", self.debounce_window_secs),
            ));
        }
        for (id, minutes) in &self.slo_thresholds {
            if *minutes <= 0 {
                return Err(problem(
                    &format!("alerts.slo_thresholds.{id}"),
                    format!("must be more than 0 minutes, got {minutes}"),
                ));
            }
        }
        if !self.webhook_url.is_empty() {
            check_url("alerts.webhook_url", &self.webhook_url)?;
        }
        for (name, route) in &self.routes {
            check_route(name, route)?;
        }
        if self.enabled && self.webhook_url.is_empty() && self.routes.is_empty() {
            return Err(problem(
                "alerts.webhook_url",
                "alerts are enabled but no webhook is configured: set alerts.webhook_url or add [alerts.routes.NAME] tables".into(),
            ));
        }
        Ok(())
    }
}

fn check_route(name: &str, route: &Route) -> Result<(), AlertsConfigError> {
    let named_well = match name.split_once(':') {
        Some(("alert", id)) => !id.is_empty(),
        Some(("severity", severity)) => severity.parse::<Severity>().is_ok(),
        _ => false,
    };
    if !named_well {
        return Err(problem(
            &format!("alerts.routes.{name}"),
            "a route is named \"alert:ID\" or \"severity:info|warning|error\"".into(),
        ));
    }
    let key = format!("alerts.routes.{name}.webhook_url");
    if route.webhook_url.is_empty() {
        return Err(problem(&key, "a route needs a webhook URL".into()));
    }
    check_url(&key, &route.webhook_url)
}

fn check_url(key: &str, url: &str) -> Result<(), AlertsConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(problem(
            key,
            // Shown as `config show` shows it: the URL may hold the webhook's key.
            format!(
                "{:?} is not an http:// or https:// URL",
                crate::secret::url(url)
            ),
        )),
    }
}

fn problem(key: &str, problem: String) -> AlertsConfigError {
    AlertsConfigError {
        key: key.to_string(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> AlertsConfig {
        AlertsConfig {
            enabled: true,
            webhook_url: "http://127.0.0.1:9/hook".into(),
            ..AlertsConfig::default()
        }
    }

    fn key_of(config: &AlertsConfig) -> String {
        config.validate().unwrap_err().key
    }

    #[test]
    fn the_defaults_and_an_enabled_webhook_are_valid() {
        assert_eq!(AlertsConfig::default().validate(), Ok(()));
        assert_eq!(enabled().validate(), Ok(()));
    }

    #[test]
    fn enabled_needs_a_webhook_somewhere() {
        let mut config = AlertsConfig {
            enabled: true,
            ..AlertsConfig::default()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.key, "alerts.webhook_url");
        assert!(
            err.to_string().contains("no webhook is configured"),
            "{err}"
        );
        let route = Route {
            webhook_url: "https://pager.example/v2".into(),
            routing_key: "k".into(),
        };
        config.routes.insert("severity:error".into(), route);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn a_negative_debounce_is_refused() {
        let config = AlertsConfig {
            debounce_window_secs: -1,
            ..enabled()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "alerts.debounce_window_secs: must be 0 or more, got -1"
        );
        let zero = AlertsConfig {
            debounce_window_secs: 0,
            ..enabled()
        };
        assert_eq!(zero.validate(), Ok(()));
    }

    #[test]
    fn an_slo_threshold_must_be_positive() {
        for minutes in [0, -5] {
            let mut config = enabled();
            config
                .slo_thresholds
                .insert("backlog_stale".into(), minutes);
            assert_eq!(
                config.validate().unwrap_err().to_string(),
                format!(
                    "alerts.slo_thresholds.backlog_stale: must be more than 0 minutes, got {minutes}"
                )
            );
        }
        let mut config = enabled();
        config.slo_thresholds.insert("backlog_stale".into(), 1);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn routes_are_named_by_alert_or_severity_and_need_a_url() {
        let with_route = |name: &str, url: &str| {
            let mut config = enabled();
            let route = Route {
                webhook_url: url.into(),
                routing_key: String::new(),
            };
            config.routes.insert(name.into(), route);
            config
        };
        let url = "https://x.example/hook";
        assert_eq!(with_route("alert:backlog_stale", url).validate(), Ok(()));
        assert_eq!(with_route("severity:warning", url).validate(), Ok(()));
        for bad in ["default", "severity:critical", "alert:", "pager"] {
            assert_eq!(
                key_of(&with_route(bad, url)),
                format!("alerts.routes.{bad}")
            );
        }
        assert_eq!(
            key_of(&with_route("severity:error", "")),
            "alerts.routes.severity:error.webhook_url"
        );
        let err = with_route("severity:error", "ftp://x")
            .validate()
            .unwrap_err();
        assert_eq!(err.key, "alerts.routes.severity:error.webhook_url");
        assert!(err.problem.contains("\"ftp://x\" is not an http"), "{err}");
    }

    #[test]
    fn the_default_webhook_must_be_a_url() {
        let config = AlertsConfig {
            webhook_url: "hooks.example".into(),
            ..AlertsConfig::default()
        };
        assert_eq!(key_of(&config), "alerts.webhook_url");
    }
}
