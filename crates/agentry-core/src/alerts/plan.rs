//! One tick's decisions: for each raised alert, where it goes and whether it is sent now.

use super::{Alert, AlertsConfig, Debouncer, Destination, debounce_key, slo_breached};
use crate::Timestamp;

/// What happens to an alert this tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// Sent to the same destination within the debounce window.
    Debounced,
    /// Below the severity filter, or no route has a webhook for it.
    Filtered,
}

/// An alert with its destination, verdict and SLO state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub alert: Alert,
    pub destination: Option<Destination>,
    pub verdict: Verdict,
    pub slo_minutes: Option<i64>,
    pub slo_breached: bool,
}

/// Decides every alert raised now: the severity filter, then routing, then debouncing. An
/// alert to be sent counts as sent for the debounce window; release its key if it fails.
pub fn plan(
    config: &AlertsConfig,
    debouncer: &mut Debouncer,
    raised: Vec<Alert>,
    now: Timestamp,
) -> Vec<Planned> {
    debouncer.observe(&raised, now);
    raised
        .into_iter()
        .map(|alert| {
            let destination = config.destination(&alert.id, alert.severity);
            let slo_minutes = config.slo_thresholds.get(&alert.id).copied();
            let first_seen = debouncer.first_seen(&alert.id, now);
            let verdict = match &destination {
                _ if alert.severity < config.severity_filter => Verdict::Filtered,
                None => Verdict::Filtered,
                Some(to) if debouncer.claim(&debounce_key(&alert, to), now) => Verdict::Send,
                Some(_) => Verdict::Debounced,
            };
            Planned {
                slo_breached: slo_minutes.is_some_and(|m| slo_breached(first_seen, now, m)),
                alert,
                destination,
                verdict,
                slo_minutes,
            }
        })
        .collect()
}

/// The alerts to send, grouped by webhook and routing key (one request each), in the order
/// they were raised.
pub fn batches(planned: &[Planned]) -> Vec<Vec<&Planned>> {
    let mut batches: Vec<Vec<&Planned>> = Vec::new();
    for item in planned.iter().filter(|p| p.verdict == Verdict::Send) {
        let same = |batch: &&mut Vec<&Planned>| same_target(batch[0], item);
        match batches.iter_mut().find(same) {
            Some(batch) => batch.push(item),
            None => batches.push(vec![item]),
        }
    }
    batches
}

fn same_target(a: &Planned, b: &Planned) -> bool {
    match (&a.destination, &b.destination) {
        (Some(a), Some(b)) => a.webhook_url == b.webhook_url && a.routing_key == b.routing_key,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{Route, Severity};

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_800_000_000_000_000).plus_secs(secs)
    }

    fn alert(id: &str, severity: Severity) -> Alert {
        Alert {
            id: id.into(),
            severity,
            title: format!("{id} title"),
            description: format!("{id} description"),
            generated_at: t(0),
        }
    }

    fn config() -> AlertsConfig {
        let mut config = AlertsConfig {
            enabled: true,
            webhook_url: "http://default".into(),
            debounce_window_secs: 300,
            severity_filter: Severity::Warning,
            ..AlertsConfig::default()
        };
        let route = Route {
            webhook_url: "http://errors".into(),
            routing_key: "ek".into(),
        };
        config.routes.insert("severity:error".into(), route);
        config.slo_thresholds.insert("stale".into(), 10);
        config
    }

    fn verdicts(planned: &[Planned]) -> Vec<(&str, Verdict)> {
        planned
            .iter()
            .map(|p| (p.alert.id.as_str(), p.verdict))
            .collect()
    }

    #[test]
    fn below_the_filter_is_filtered_and_the_rest_is_sent_once_per_window() {
        let config = config();
        let mut debouncer = Debouncer::new(config.debounce_window_secs);
        let raised = || {
            vec![
                alert("chatty", Severity::Info),
                alert("stale", Severity::Warning),
                alert("down", Severity::Error),
            ]
        };
        let first = plan(&config, &mut debouncer, raised(), t(0));
        use Verdict::*;
        assert_eq!(
            verdicts(&first),
            [("chatty", Filtered), ("stale", Send), ("down", Send)]
        );
        assert_eq!(
            first[2].destination.as_ref().unwrap().route_key,
            "severity:error"
        );
        let again = plan(&config, &mut debouncer, raised(), t(60));
        assert_eq!(
            verdicts(&again),
            [
                ("chatty", Filtered),
                ("stale", Debounced),
                ("down", Debounced)
            ]
        );
        let later = plan(&config, &mut debouncer, raised(), t(300));
        assert_eq!(verdicts(&later)[1..], [("stale", Send), ("down", Send)]);
    }

    #[test]
    fn the_slo_counts_from_when_the_alert_was_first_raised() {
        let config = config();
        let mut debouncer = Debouncer::new(config.debounce_window_secs);
        let raised = || {
            vec![
                alert("stale", Severity::Warning),
                alert("down", Severity::Error),
            ]
        };
        let first = plan(&config, &mut debouncer, raised(), t(0));
        assert_eq!(
            (first[0].slo_minutes, first[0].slo_breached),
            (Some(10), false)
        );
        assert_eq!((first[1].slo_minutes, first[1].slo_breached), (None, false));
        let later = plan(&config, &mut debouncer, raised(), t(600));
        assert_eq!(
            (later[0].verdict, later[0].slo_breached),
            (Verdict::Send, true)
        );
        plan(&config, &mut debouncer, Vec::new(), t(700));
        let raised_again = plan(&config, &mut debouncer, raised(), t(800));
        assert!(!raised_again[0].slo_breached);
    }

    #[test]
    fn an_alert_with_no_webhook_for_it_is_filtered() {
        let config = AlertsConfig {
            webhook_url: String::new(),
            ..config()
        };
        let mut debouncer = Debouncer::new(300);
        let planned = plan(
            &config,
            &mut debouncer,
            vec![alert("stale", Severity::Warning)],
            t(0),
        );
        assert_eq!(
            (planned[0].verdict, &planned[0].destination),
            (Verdict::Filtered, &None)
        );
    }

    #[test]
    fn a_release_lets_the_next_tick_send_again() {
        let config = config();
        let mut debouncer = Debouncer::new(300);
        let planned = plan(
            &config,
            &mut debouncer,
            vec![alert("stale", Severity::Warning)],
            t(0),
        );
        let key = debounce_key(&planned[0].alert, planned[0].destination.as_ref().unwrap());
        debouncer.release(&key);
        let again = plan(
            &config,
            &mut debouncer,
            vec![alert("stale", Severity::Warning)],
            t(1),
        );
        assert_eq!(again[0].verdict, Verdict::Send);
    }

    #[test]
    fn sends_are_batched_by_webhook_and_routing_key() {
        let config = AlertsConfig {
            severity_filter: Severity::Info,
            ..config()
        };
        let mut debouncer = Debouncer::new(300);
        let raised = vec![
            alert("a", Severity::Info),
            alert("b", Severity::Error),
            alert("c", Severity::Warning),
            alert("d", Severity::Error),
        ];
        let planned = plan(&config, &mut debouncer, raised, t(0));
        let ids: Vec<Vec<&str>> = batches(&planned)
            .iter()
            .map(|batch| batch.iter().map(|p| p.alert.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["a", "c"], vec!["b", "d"]]);
    }
}
