//! Route lookup: `alert:{id}`, then `severity:{severity}`, then `default` (the top-level
//! webhook).

use serde::Serialize;

use super::{AlertsConfig, Severity};

/// Where an alert goes, and which route chose it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// `alert:ID`, `severity:SEVERITY` or `default`.
    pub route_key: String,
    pub webhook_url: String,
    pub routing_key: String,
}

/// The route key of the top-level webhook.
pub const DEFAULT_ROUTE: &str = "default";

impl AlertsConfig {
    /// The destination of an alert; `None` when no route matches it and there is no default
    /// webhook.
    pub fn destination(&self, alert_id: &str, severity: Severity) -> Option<Destination> {
        let keys = [format!("alert:{alert_id}"), format!("severity:{severity}")];
        if let Some((key, route)) = keys
            .into_iter()
            .find_map(|key| self.routes.get(&key).map(|route| (key, route)))
        {
            return Some(Destination {
                route_key: key,
                webhook_url: route.webhook_url.clone(),
                routing_key: route.routing_key.clone(),
            });
        }
        (!self.webhook_url.is_empty()).then(|| Destination {
            route_key: DEFAULT_ROUTE.into(),
            webhook_url: self.webhook_url.clone(),
            routing_key: self.routing_key.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Route;

    fn route(url: &str, key: &str) -> Route {
        Route {
            webhook_url: url.into(),
            routing_key: key.into(),
        }
    }

    fn config() -> AlertsConfig {
        let mut config = AlertsConfig {
            webhook_url: "http://default".into(),
            routing_key: "dk".into(),
            ..AlertsConfig::default()
        };
        config
            .routes
            .insert("alert:stale".into(), route("http://stale", "sk"));
        config
            .routes
            .insert("severity:error".into(), route("http://errors", "ek"));
        config
    }

    fn route_of(config: &AlertsConfig, id: &str, severity: Severity) -> Option<(String, String)> {
        config
            .destination(id, severity)
            .map(|d| (d.route_key, d.webhook_url))
    }

    #[test]
    fn the_alert_route_wins_then_the_severity_route_then_the_default() {
        let config = config();
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(
            route_of(&config, "stale", Severity::Error),
            pair("alert:stale", "http://stale")
        );
        assert_eq!(
            route_of(&config, "other", Severity::Error),
            pair("severity:error", "http://errors")
        );
        assert_eq!(
            route_of(&config, "other", Severity::Warning),
            pair("default", "http://default")
        );
        let default = config.destination("other", Severity::Info).unwrap();
        assert_eq!(default.routing_key, "dk");
        assert_eq!(
            config
                .destination("stale", Severity::Info)
                .unwrap()
                .routing_key,
            "sk"
        );
    }

    #[test]
    fn without_a_default_webhook_an_unrouted_alert_goes_nowhere() {
        let config = AlertsConfig {
            webhook_url: String::new(),
            ..config()
        };
        assert_eq!(route_of(&config, "other", Severity::Warning), None);
        assert!(config.destination("other", Severity::Error).is_some());
    }
}
